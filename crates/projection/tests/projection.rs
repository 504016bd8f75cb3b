//! The projection over scenarios written through the application's Recorder.
use planledger_ledger::Envelope;
use planledger_plan::{ActKind, Command, RevisionReason, Signer, Weekday};
use planledger_store::{AppendBatch, ExpectedVersion, NewEvent, Store};

use planledger_app::testkit::*;
use planledger_ledger::Record;
use planledger_projection::*;
use std::borrow::Cow;

/// Three plans in two units: a home-care plan drawn up, signed, approved and
/// revised; an LSS plan drawn up; a home-care plan with only its order.
fn scenario() -> Scenario {
    let s = Scenario::new();
    let norr = unit("hemtjanst-norr");
    let dv = unit("dv-solsidan");
    let p1 = plan("plan-1");
    s.ok(
        &officer(),
        at(2026, 3, 2),
        order(&p1, ActKind::HomeCare, &norr, client(0), date(2026, 3, 2)),
    );
    s.ok(
        &officer(),
        at(2026, 3, 5),
        order(
            &plan("plan-2"),
            ActKind::LssDailyActivity,
            &dv,
            client(1),
            date(2026, 3, 5),
        ),
    );
    let v1 = content(ActKind::HomeCare, &norr, client(0), date(2026, 3, 10));
    s.ok(
        &key_worker(),
        at(2026, 3, 10),
        Command::Draft {
            plan: p1.clone(),
            content: v1.clone(),
        },
    );
    s.ok(
        &key_worker(),
        at(2026, 3, 10),
        Command::Sign {
            plan: p1.clone(),
            version: 1,
            signer: Signer::Client,
        },
    );
    s.ok(
        &key_worker(),
        at(2026, 3, 12),
        Command::Submit {
            plan: p1.clone(),
            version: 1,
        },
    );
    s.ok(
        &officer(),
        at(2026, 3, 16),
        Command::Approve {
            plan: p1.clone(),
            version: 1,
        },
    );
    s.ok(
        &officer(),
        at(2026, 3, 20),
        order(
            &plan("plan-3"),
            ActKind::HomeCare,
            &norr,
            client(2),
            date(2026, 3, 20),
        ),
    );
    s.ok(
        &key_worker(),
        at(2026, 3, 20),
        Command::Draft {
            plan: plan("plan-2"),
            content: content(ActKind::LssDailyActivity, &dv, client(1), date(2026, 3, 20)),
        },
    );
    let mut v2 = v1;
    v2.services[0].when.days.push(Weekday::Friday);
    s.ok(
        &key_worker(),
        at(2026, 4, 1),
        Command::Revise {
            plan: p1,
            reason: RevisionReason::ChangedNeeds,
            note: "Dusch även fredagar".into(),
            content: v2,
        },
    );
    s
}

/// Everything a query can ask, as text, so that two projections can be compared by
/// their answers and not only by their internals.
/// The first eight of `records`, then another plan's order at position 8.
fn rewritten_at_8(records: &[Record]) -> planledger_store::MemoryStore {
    let rewritten = planledger_store::MemoryStore::new();
    rewritten.append_sealed(&records[..8]).unwrap();
    let command = order(
        &plan("plan-x"),
        ActKind::HomeCare,
        &unit("u"),
        client(3),
        date(2026, 4, 1),
    );
    let events =
        planledger_plan::decide(&PlanState::new(), &command, &officer(), at(2026, 4, 1)).unwrap();
    rewritten
        .append(planledger_app::batch_of(
            command.plan(),
            0,
            &officer(),
            at(2026, 4, 1),
            &events,
        ))
        .unwrap();
    rewritten
}

fn answers(p: &Projection) -> Vec<String> {
    let mut out = vec![format!("position {} hash {}", p.position(), p.last_hash())];
    for view in p.plans() {
        let s = view.state();
        out.push(format!(
            "{} unit={:?} act={:?} versions={:?} authority={:?} events={:?}",
            view.id(),
            s.unit(),
            s.act(),
            s.versions().iter().map(|v| v.number).collect::<Vec<_>>(),
            s.authority_state(),
            view.events()
                .iter()
                .map(|e| (e.position, e.stream_version, e.event_type()))
                .collect::<Vec<_>>(),
        ));
        for day in 1..=30 {
            let when = at(2026, 4, 1) - chrono::Duration::days(day);
            out.push(format!(
                "{} as of {when}: {:?}",
                view.id(),
                p.as_of(view.id(), when).map(|v| v.number)
            ));
        }
    }
    for c in p.clients() {
        out.push(format!(
            "client {c}: {:?}",
            p.plans_of_client(c)
                .map(|v| v.id().clone())
                .collect::<Vec<_>>()
        ));
    }
    for u in p.units() {
        out.push(format!(
            "unit {u}: {:?}",
            p.plans_in_unit(u)
                .map(|v| v.id().clone())
                .collect::<Vec<_>>()
        ));
    }
    out
}

#[test]
fn rebuild_from_zero_answers_as_incremental_catch_ups_in_any_chunk_size() {
    let s = scenario();
    let rebuilt = Projection::rebuild(s.store()).unwrap();
    assert_eq!(rebuilt.position(), 9);
    for chunk in [1, 2, 3, 5, 100] {
        let mut p = Projection::new();
        assert_eq!(p.catch_up_in_chunks(s.store(), chunk).unwrap(), 9);
        assert_eq!(answers(&p), answers(&rebuilt), "chunk {chunk}");
        assert_eq!(p, rebuilt, "chunk {chunk}");
    }
}

#[test]
fn catch_up_resumes_where_it_stopped_as_records_arrive() {
    // The same commands as `scenario`, with a catch-up after each one.
    let full = scenario();
    let s = Scenario::new();
    let mut incremental = Projection::new();
    let mut folded = 0;
    for record in full.store().read_all(0, 100).unwrap() {
        s.store().append_sealed(&[record]).unwrap();
        folded += incremental.catch_up(s.store()).unwrap();
        assert_eq!(incremental.position(), folded);
    }
    assert_eq!(incremental.catch_up(s.store()).unwrap(), 0);
    assert_eq!(answers(&incremental), answers(&full.projection()));
}

#[test]
fn every_version_stays_addressable_by_number_and_by_time() {
    let p = scenario().projection();
    let p1 = plan("plan-1");
    let v1 = p.version(&p1, 1).unwrap();
    let v2 = p.version(&p1, 2).unwrap();
    assert_eq!(v1.content.services[0].when.days, vec![Weekday::Tuesday]);
    assert_eq!(
        v2.content.services[0].when.days,
        vec![Weekday::Tuesday, Weekday::Friday]
    );
    assert_eq!(v1.superseded_at, Some(at(2026, 4, 1)));
    assert_eq!(p.current(&p1).unwrap().number, 2);
    assert!(p.as_of(&p1, at(2026, 3, 9)).is_none());
    assert_eq!(p.as_of(&p1, at(2026, 3, 10)).unwrap().number, 1);
    assert_eq!(p.as_of(&p1, at(2026, 3, 31)).unwrap().number, 1);
    assert_eq!(p.as_of(&p1, at(2026, 4, 1)).unwrap().number, 2);
    assert!(p.version(&p1, 3).is_none());
    let drafted = p.plan(&p1).unwrap().version_event(1).unwrap();
    assert_eq!((drafted.position, drafted.stream_version), (2, 2));
    assert_eq!(drafted.actor, key_worker());
}

#[test]
fn state_at_an_instant_sees_nothing_recorded_later() {
    let p = scenario().projection();
    let view = p.plan(&plan("plan-1")).unwrap();
    let before_approval = view.state_at(at(2026, 3, 15));
    assert!(matches!(before_approval, Cow::Owned(_)));
    assert_eq!(before_approval.versions().len(), 1);
    assert!(before_approval.versions()[0].approved.is_none());
    let now = view.state_at(at(2026, 5, 1));
    assert!(matches!(now, Cow::Borrowed(_)));
    assert_eq!(now.versions().len(), 2);
}

#[test]
fn indexes_find_plans_by_client_unit_and_act() {
    let p = scenario().projection();
    let ids = |it: &mut dyn Iterator<Item = &PlanView>| {
        it.map(|v| v.id().as_str().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&mut p.plans_of_client(&client(0))), ["plan-1"]);
    assert_eq!(ids(&mut p.plans_of_client(&client(2))), ["plan-3"]);
    assert!(ids(&mut p.plans_of_client(&client(5))).is_empty());
    assert_eq!(
        ids(&mut p.plans_in_unit(&unit("hemtjanst-norr"))),
        ["plan-1", "plan-3"]
    );
    assert_eq!(p.units().count(), 2);
    assert_eq!(p.plan_count(), 3);
}

#[test]
fn an_undecodable_payload_is_an_error_naming_its_position_and_the_fold_stops_before_it() {
    let s = scenario();
    let bad = AppendBatch {
        stream_id: "plan-9".into(),
        expected: ExpectedVersion::NoStream,
        actor: (&officer()).into(),
        recorded_at_micros: at(2026, 4, 2).timestamp_micros(),
        events: vec![NewEvent {
            event_type: "order_received".into(),
            schema_version: planledger_plan::SCHEMA_VERSION,
            envelope: Envelope::plaintext(),
            payload: vec![0, 0xff, 0xff],
        }],
    };
    s.store().append(bad).unwrap();
    let mut p = Projection::new();
    let err = p.catch_up_in_chunks(s.store(), 4).unwrap_err();
    assert!(
        matches!(
            err,
            ProjectionError::Entry {
                position: 9,
                source: planledger_plan::EntryError::Decode { .. }
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("record 9"), "{err}");
    assert_eq!(p.position(), 9);
    assert!(p.plan(&plan("plan-9")).is_none());
}

#[test]
fn a_projection_of_another_ledger_refuses_to_continue() {
    let s = scenario();
    let mut p = Projection::rebuild(s.store()).unwrap();
    // Another ledger, longer than the one folded, with other records.
    let o = Scenario::new();
    for i in 0..10 {
        o.ok(
            &officer(),
            at(2026, 3, 2),
            order(
                &plan(&format!("other-{i}")),
                ActKind::HomeCare,
                &unit("u"),
                client(3),
                date(2026, 3, 2),
            ),
        );
    }
    let err = p.catch_up(o.store()).unwrap_err();
    assert!(
        matches!(err, ProjectionError::Diverged { position: 9 }),
        "{err}"
    );
    assert_eq!(p.position(), 9);
}

#[test]
fn a_shorter_or_rewritten_ledger_is_refused_even_with_nothing_new_to_fold() {
    let s = scenario();
    let mut p = Projection::rebuild(s.store()).unwrap();
    assert_eq!(p.catch_up(s.store()).unwrap(), 0);
    // The same ledger but for its last record.
    let shorter = planledger_store::MemoryStore::new();
    let records = s.store().read_all(0, 100).unwrap();
    shorter.append_sealed(&records[..8]).unwrap();
    let err = p.catch_up(&shorter).unwrap_err();
    assert!(
        matches!(
            err,
            ProjectionError::LedgerShorter {
                position: 9,
                size: 8
            }
        ),
        "{err}"
    );
    // A ledger of the same size whose last record is another.
    let rewritten = rewritten_at_8(&records);
    assert_eq!(rewritten.head().unwrap().size, 9);
    let err = p.catch_up(&rewritten).unwrap_err();
    assert!(
        matches!(err, ProjectionError::Diverged { position: 8 }),
        "{err}"
    );
    // The original still answers.
    assert_eq!(p.catch_up(s.store()).unwrap(), 0);
}

#[test]
fn a_snapshot_resumes_to_the_same_answers_as_a_rebuild() {
    let s = scenario();
    let records = s.store().read_all(0, 100).unwrap();
    let partial = planledger_store::MemoryStore::new();
    partial.append_sealed(&records[..5]).unwrap();
    let early = Projection::rebuild(&partial).unwrap();
    let bytes = early.to_snapshot();
    let restored = Projection::from_snapshot(&bytes).unwrap();
    assert_eq!(restored, early);
    let mut resumed = restored;
    assert_eq!(resumed.catch_up(s.store()).unwrap(), 4);
    let rebuilt = s.projection();
    assert_eq!(answers(&resumed), answers(&rebuilt));
    assert_eq!(resumed, rebuilt);

    let text = String::from_utf8(bytes.clone()).unwrap();
    let (this, next) = (SNAPSHOT_FORMAT, SNAPSHOT_FORMAT + 1);
    let other_format = text.replacen(
        &format!("\"format\":{this}"),
        &format!("\"format\":{next}"),
        1,
    );
    let err = Projection::from_snapshot(other_format.as_bytes()).unwrap_err();
    assert!(err.to_string().contains(&format!("format {next}")), "{err}");
    assert!(matches!(
        Projection::from_snapshot(format!("{{\"format\":{this}}}").as_bytes()),
        Err(ProjectionError::Snapshot { .. })
    ));
}

#[test]
fn open_resumes_from_the_snapshot_beside_the_records_and_refreshes_it() {
    let s = scenario();
    let records = s.store().read_all(0, 100).unwrap();
    let store = planledger_store::MemoryStore::new();
    store.append_sealed(&records[..5]).unwrap();
    // The first open folds from zero and leaves a snapshot at the head.
    let first = Projection::open(&store).unwrap();
    let saved = store.load_snapshot(SNAPSHOT_NAME).unwrap().unwrap();
    assert_eq!(saved.position, 5);
    // A snapshot that says something the records do not is believed: that proves
    // the next open resumed from it instead of folding from zero.
    let mut marked: serde_json::Value = serde_json::from_slice(&first.to_snapshot()).unwrap();
    marked["plans"] = serde_json::json!([]);
    store
        .save_snapshot(SNAPSHOT_NAME, 5, &serde_json::to_vec(&marked).unwrap())
        .unwrap();
    assert_eq!(Projection::open(&store).unwrap().plans().count(), 0);
    // Appended records are folded on top of the snapshot, and the snapshot moves on.
    store
        .save_snapshot(SNAPSHOT_NAME, 5, &first.to_snapshot())
        .unwrap();
    store.append_sealed(&records[5..]).unwrap();
    let resumed = Projection::open(&store).unwrap();
    assert_eq!(answers(&resumed), answers(&s.projection()));
    let saved = store.load_snapshot(SNAPSHOT_NAME).unwrap().unwrap();
    assert_eq!(saved.position, records.len() as u64);
    // A snapshot of an unknown format is only a cache: rebuilt over.
    store
        .save_snapshot(SNAPSHOT_NAME, 3, b"{\"format\":99}")
        .unwrap();
    assert_eq!(
        answers(&Projection::open(&store).unwrap()),
        answers(&resumed)
    );
}

#[test]
fn open_refuses_a_ledger_rewritten_under_its_snapshot() {
    let s = scenario();
    let records = s.store().read_all(0, 100).unwrap();
    assert_eq!(records.len(), 9);
    // The snapshot was taken of the original nine records; record 8 was then
    // replaced by another one.
    let rewritten = rewritten_at_8(&records);
    let snapshot = Projection::rebuild(s.store()).unwrap().to_snapshot();
    rewritten
        .save_snapshot(SNAPSHOT_NAME, 9, &snapshot)
        .unwrap();
    let err = Projection::open(&rewritten).unwrap_err();
    assert!(
        matches!(err, ProjectionError::Diverged { position: 8 }),
        "{err}"
    );
}

#[test]
fn fold_stream_gives_the_plan_as_the_whole_projection_does() {
    let s = scenario();
    let p = s.projection();
    for id in ["plan-1", "plan-2", "plan-3"] {
        let view = fold_stream(s.store(), &plan(id)).unwrap();
        assert_eq!(Some(&view), p.plan(&plan(id)));
    }
    assert!(
        fold_stream(s.store(), &plan("plan-none"))
            .unwrap()
            .events()
            .is_empty()
    );
}
