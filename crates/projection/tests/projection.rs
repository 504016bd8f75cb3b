//! The projection over scenarios written through the application's Recorder.
use planledger_ledger::Envelope;
use planledger_plan::{ActKind, Command, RevisionReason, Signer, Weekday};
use planledger_store::{AppendBatch, ExpectedVersion, NewEvent, Store};

use planledger_app::testkit::*;
use planledger_ledger::Record;
use planledger_projection::*;
use std::borrow::Cow;

use chrono::{DateTime, Utc};

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
            &mut PlanState::new(),
            0,
            (&officer(), at(2026, 4, 1)),
            &events,
            &planledger_plan::DeadlinePolicy::default(),
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
    let content = |n| p.plan(&p1).unwrap().state().content(n).unwrap();
    assert_eq!(content(1).services[0].when.days, vec![Weekday::Tuesday]);
    assert_eq!(
        content(2).services[0].when.days,
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
        claimed_at_micros: at(2026, 4, 2).timestamp_micros(),
        command_id: None,
        tags: Vec::new(),
        summary: None,
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

/// Every plan of `plans` as it stood at `cutoff`, without contents, by unit and id.
fn each(plans: &dyn Plans, unit: Option<&str>, cutoff: DateTime<Utc>) -> Vec<PlanState> {
    let unit = unit.map(unit_id);
    let mut out = Vec::new();
    plans
        .each_summary(unit.as_ref(), cutoff, &mut |s| out.push(s.clone()))
        .unwrap();
    out
}

fn unit_id(u: &str) -> planledger_plan::UnitId {
    planledger_plan::UnitId::new(u).unwrap()
}

#[test]
fn ledger_plans_find_by_tags_what_the_whole_projection_finds() {
    let s = scenario();
    let whole = s.projection();
    let ledger = LedgerPlans::open(s.store()).unwrap();
    for unit in [
        None,
        Some("hemtjanst-norr"),
        Some("dv-solsidan"),
        Some("no-such-unit"),
    ] {
        // Now, and at cutoffs where some plans were recorded later (refolded).
        for cutoff in [
            at(2027, 1, 1),
            at(2026, 4, 1),
            at(2026, 3, 10),
            at(2020, 1, 1),
        ] {
            let found = each(&ledger, unit, cutoff);
            assert_eq!(found, each(&whole, unit, cutoff), "unit {unit:?}");
            assert!(found.iter().all(|s| s.content(1).is_none()));
        }
    }
    let v2 = &whole.plan(&plan("plan-1")).unwrap().state().versions()[1];
    assert_eq!(
        ledger
            .record_at(&plan("plan-1"), v2.stream_version)
            .unwrap(),
        Plans::record_at(&whole, &plan("plan-1"), v2.stream_version).unwrap(),
    );
    assert!(ledger.record_at(&plan("plan-1"), 999).unwrap().is_none());
    for n in [0, 1, 2, 9] {
        let by_ledger: Vec<PlanView> = ledger
            .plans_of_client(&client(n))
            .unwrap()
            .into_iter()
            .map(|v| v.into_owned())
            .collect();
        let by_whole: Vec<PlanView> = Plans::plans_of_client(&whole, &client(n))
            .unwrap()
            .into_iter()
            .map(|v| v.into_owned())
            .collect();
        assert_eq!(by_ledger, by_whole, "client {n}");
    }
    for id in ["plan-1", "plan-2", "plan-none"] {
        let id = plan(id);
        assert_eq!(
            Plans::plan(&ledger, &id).unwrap().map(|v| v.into_owned()),
            Plans::plan(&whole, &id).unwrap().map(|v| v.into_owned())
        );
    }
    assert!(ledger.has_unit(&unit_id("dv-solsidan")).unwrap());
    assert!(!ledger.has_unit(&unit_id("no-such-unit")).unwrap());
}

#[test]
fn the_tags_derived_again_from_the_records_are_those_the_appends_wrote() {
    let s = scenario();
    let (mut derived, read_to) = index_tags(s.store(), 0, None, &mut |_, _| {}).unwrap();
    assert_eq!(read_to, s.store().head().unwrap().size);
    let mut written = Vec::new();
    for key in [TAG_UNIT, TAG_ACT, TAG_CLIENT] {
        for (value, stream_id) in s.store().tag_values(key).unwrap() {
            written.push(planledger_store::StreamTag {
                stream_id,
                key: key.into(),
                value,
            });
        }
    }
    derived.sort();
    written.sort();
    assert_eq!(derived, written);
    assert!(!written.is_empty());
    // A client's tag is the personnummer's digits; the index holds it once per plan.
    assert_eq!(
        s.store()
            .streams_tagged(TAG_CLIENT, &client(0).digits())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_ledger_without_an_index_is_refused_with_how_to_rebuild_it() {
    let s = scenario();
    let copy = planledger_store::MemoryStore::new();
    copy.append_sealed(&s.store().read_all(0, 100).unwrap())
        .unwrap();
    let err = LedgerPlans::open(&copy).err().unwrap();
    assert!(
        matches!(err, ProjectionError::Index { found: None }),
        "{err}"
    );
    assert!(err.to_string().contains("planledger reindex"), "{err}");
    // An empty ledger needs none.
    assert!(LedgerPlans::open(&planledger_store::MemoryStore::new()).is_ok());
    let (mut tags, _) = index_tags(&copy, 0, None, &mut |_, _| {}).unwrap();
    let plans: Vec<String> = (tags.iter())
        .filter(|t| t.key == TAG_UNIT)
        .map(|t| t.stream_id.clone())
        .collect();
    tags.push(index_marker());
    copy.replace_tags(&tags).unwrap();
    rebuild_summaries(&copy, &plans, &Default::default(), &mut |_, _| {}).unwrap();
    let rebuilt = LedgerPlans::open(&copy).unwrap();
    let now = at(2030, 1, 1);
    assert_eq!(each(&rebuilt, None, now), each(&s.projection(), None, now));
    // The summaries rebuilt are those the appends wrote, byte for byte.
    assert_eq!(
        copy.summaries(&plans).unwrap(),
        s.store().summaries(&plans).unwrap()
    );
    assert!(
        check_summaries(s.store(), &plans, &Default::default(), &mut |_, _| {})
            .unwrap()
            .is_empty()
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

#[test]
fn the_policy_key_names_the_rules_not_the_organisation() {
    let parse = |toml: &str| planledger_plan::DeadlinePolicy::from_toml(toml).unwrap();
    let default = policy_key(&planledger_plan::DeadlinePolicy::default());
    assert_eq!(policy_key(&parse("organisation = \"Norrby\"\n")), default);
    let monthly = parse("organisation = \"Norrby\"\n[home_care]\nreview_every_months = 1\n");
    assert_ne!(policy_key(&monthly), default);
}

#[test]
fn a_summary_reads_back_as_the_state_without_contents() {
    // Written with serde_json, read with sonic-rs: the same state either way.
    let p = scenario().projection();
    for view in p.plans() {
        let bytes = summary_bytes(view.state());
        let back = decode_summary(view.id().as_str(), &bytes).unwrap();
        assert_eq!(back, view.state().without_contents());
        assert_eq!(
            serde_json::from_slice::<planledger_plan::PlanState>(&bytes).unwrap(),
            back
        );
    }
}
