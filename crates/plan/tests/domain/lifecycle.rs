//! What may happen when (docs/DOMAIN.md, "A plan's lifecycle", "Deadlines").

use crate::fixtures::*;
use planledger_plan::*;

const HC: ActKind = ActKind::HomeCare;

fn drafted() -> Harness {
    let mut h = Harness::ordered(HC, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 5), draft(HC));
    h
}

#[test]
fn the_first_event_is_the_order_which_fixes_unit_act_and_client() {
    let h = Harness::ordered(HC, at(2026, 3, 1));
    assert!(matches!(h.log[0].0, Event::OrderReceived(_)));
    assert_eq!(h.state.plan(), Some(&plan_id()));
    assert_eq!(h.state.unit(), Some(&unit()));
    assert_eq!(h.state.act(), Some(HC));
    assert_eq!(h.state.client(), Some(&pnr()));
}

#[test]
fn nothing_but_an_order_may_start_a_plan() {
    let mut h = Harness::new();
    for command in one_of_each(HC).into_iter().skip(1) {
        let who = match command {
            Command::Approve { .. } | Command::RequestSupplement { .. } => officer(),
            Command::RecordDeviation { .. } => staff(),
            _ => key_worker(),
        };
        let r = h.run(&who, at(2026, 3, 2), command).unwrap_err();
        assert_eq!(r.rule(), "no_order", "{r}");
    }
}

#[test]
fn an_order_dated_after_today_is_rejected() {
    let mut h = Harness::new();
    let r = h
        .run(
            &officer(),
            at(2026, 3, 1),
            receive_order(HC, "best-1", date(2026, 3, 2)),
        )
        .unwrap_err();
    assert_eq!(r.rule(), "date_in_future");
}

#[test]
fn a_command_for_another_plan_is_rejected() {
    let h = drafted();
    let mut command = submit(1);
    if let Command::Submit { plan, .. } = &mut command {
        *plan = PlanId::new("plan-0002").unwrap();
    }
    let r = decide(&h.state, &command, &key_worker(), at(2026, 3, 6)).unwrap_err();
    assert_eq!(r, Rejection::WrongPlan);
}

#[test]
fn a_second_draft_is_rejected_in_favour_of_revise() {
    let mut h = drafted();
    let r = h.run(&key_worker(), at(2026, 3, 6), draft(HC)).unwrap_err();
    assert_eq!(r, Rejection::AlreadyDrafted { current: 1 });
}

#[test]
fn revising_before_a_draft_is_rejected() {
    let mut h = Harness::ordered(HC, at(2026, 3, 1));
    let r = h
        .run(
            &key_worker(),
            at(2026, 3, 2),
            revise(HC, RevisionReason::ClientWish),
        )
        .unwrap_err();
    assert_eq!(r.rule(), "not_drafted");
}

#[test]
fn content_for_another_unit_act_or_client_is_rejected() {
    let mut h = Harness::ordered(HC, at(2026, 3, 1));
    let mut c = content(HC);
    c.unit = UnitId::new("hemtjanst-syd").unwrap();
    let r = h
        .run(
            &key_worker(),
            at(2026, 3, 2),
            Command::Draft {
                plan: plan_id(),
                content: c,
            },
        )
        .unwrap_err();
    assert_eq!(r, Rejection::ContentMismatch { field: "unit" });
    let mut c = content(HC);
    c.act = ActKind::ResidentialCare;
    let r = h
        .run(
            &key_worker(),
            at(2026, 3, 2),
            Command::Draft {
                plan: plan_id(),
                content: c,
            },
        )
        .unwrap_err();
    assert_eq!(r, Rejection::ContentMismatch { field: "act" });
    let mut c = content(HC);
    c.client.personnummer = Personnummer::parse(SAMORDNING).unwrap();
    let r = h
        .run(
            &key_worker(),
            at(2026, 3, 2),
            Command::Draft {
                plan: plan_id(),
                content: c,
            },
        )
        .unwrap_err();
    assert_eq!(r, Rejection::ContentMismatch { field: "client" });
}

#[test]
fn every_reason_for_a_new_version_is_accepted_000_001() {
    // 000: a new plan may be initiated by the client, a relative or any staff member;
    // 001: a new decision or changes in needs.
    let mut h = drafted();
    let reasons = [
        RevisionReason::NewDecision,
        RevisionReason::ChangedNeeds,
        RevisionReason::FollowUp,
        RevisionReason::ClientWish,
        RevisionReason::RelativeRequest,
        RevisionReason::StaffRequest,
        RevisionReason::Supplement,
        RevisionReason::Correction,
    ];
    for (i, reason) in reasons.into_iter().enumerate() {
        h.ok(&key_worker(), at(2026, 3, 6 + i as u32), revise(HC, reason));
        assert_eq!(h.current(), i as u32 + 2);
        assert_eq!(h.state.current_version().unwrap().reason, Some(reason));
    }
}

#[test]
fn every_earlier_version_is_kept_whole_as_a_journal_record_000() {
    let mut h = drafted();
    let mut v2 = content(HC);
    v2.services[0].when.start = time(10, 0);
    h.ok(
        &key_worker(),
        at(2026, 4, 1),
        Command::Revise {
            plan: plan_id(),
            reason: RevisionReason::ClientWish,
            note: "Senare dusch".into(),
            content: v2.clone(),
        },
    );
    h.ok(
        &key_worker(),
        at(2026, 5, 1),
        revise(HC, RevisionReason::ChangedNeeds),
    );
    let versions = h.state.versions();
    assert_eq!(
        versions.iter().map(|v| v.number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(h.state.content(1), Some(&content(HC)));
    assert_eq!(h.state.content(2), Some(&v2));
    assert_eq!(versions[0].superseded_at, Some(at(2026, 4, 1)));
    assert_eq!(versions[1].superseded_at, Some(at(2026, 5, 1)));
    assert_eq!(versions[2].superseded_at, None);
    assert_eq!(versions[1].by, key_worker());
}

#[test]
fn signing_a_version_that_does_not_exist_is_rejected() {
    let mut h = drafted();
    let r = h
        .run(&key_worker(), at(2026, 3, 6), sign(2, Signer::Client))
        .unwrap_err();
    assert_eq!(
        r,
        Rejection::NoSuchVersion {
            version: 2,
            latest: 1
        }
    );
    let r = h
        .run(&key_worker(), at(2026, 3, 6), sign(0, Signer::Client))
        .unwrap_err();
    assert_eq!(
        r,
        Rejection::NoSuchVersion {
            version: 0,
            latest: 1
        }
    );
}

#[test]
fn a_signature_binds_to_one_version_and_a_new_version_needs_new_signatures_000_001() {
    let mut h = drafted();
    h.ok(&key_worker(), at(2026, 3, 6), sign(1, Signer::Client));
    assert!(h.state.is_current_signed());
    h.ok(
        &key_worker(),
        at(2026, 3, 20),
        revise(HC, RevisionReason::ChangedNeeds),
    );
    assert!(
        !h.state.is_current_signed(),
        "version 2 carries no signature of version 1"
    );
    assert!(
        h.state
            .version(1)
            .unwrap()
            .is_signed(SignatureRequirement::ClientOrRepresentative)
    );
    let r = h
        .run(&key_worker(), at(2026, 3, 21), sign(1, Signer::Client))
        .unwrap_err();
    assert_eq!(
        r,
        Rejection::NotCurrentVersion {
            version: 1,
            current: 2,
            command: "sign"
        }
    );
    h.ok(&key_worker(), at(2026, 3, 21), sign(2, Signer::Client));
    assert!(h.state.is_current_signed());
}

#[test]
fn the_same_signer_cannot_sign_one_version_twice() {
    let mut h = drafted();
    h.ok(&key_worker(), at(2026, 3, 6), sign(1, Signer::Client));
    let r = h
        .run(&key_worker(), at(2026, 3, 6), sign(1, Signer::Client))
        .unwrap_err();
    assert_eq!(r.rule(), "already_signed");
}

#[test]
fn a_trustee_or_guardian_may_sign_for_the_client() {
    for kind in [RepresentativeKind::Trustee, RepresentativeKind::Guardian] {
        let mut h = drafted();
        h.ok(
            &key_worker(),
            at(2026, 3, 6),
            sign(1, Signer::Representative(kind)),
        );
        assert!(h.state.is_current_signed());
        assert!(!h.state.gaps(1).contains(&Gap::Unsigned {
            required: SignatureRequirement::ClientOrRepresentative
        }));
    }
}

#[test]
fn approving_an_unsubmitted_plan_is_rejected_001() {
    let mut h = drafted();
    let r = h.run(&officer(), at(2026, 3, 6), approve(1)).unwrap_err();
    assert_eq!(r, Rejection::NotSubmitted { version: 1 });
    let r = h
        .run(
            &officer(),
            at(2026, 3, 6),
            request_supplement(1, date(2026, 3, 20)),
        )
        .unwrap_err();
    assert_eq!(r, Rejection::NotSubmitted { version: 1 });
}

#[test]
fn a_version_is_submitted_once_and_approved_once_001() {
    let mut h = drafted();
    h.ok(&key_worker(), at(2026, 3, 6), submit(1));
    let r = h.run(&key_worker(), at(2026, 3, 7), submit(1)).unwrap_err();
    assert_eq!(r, Rejection::AlreadySubmitted { version: 1 });
    assert_eq!(
        h.state.authority_state(),
        AuthorityState::Submitted { version: 1 }
    );
    h.ok(&officer(), at(2026, 3, 8), approve(1));
    assert_eq!(
        h.state.authority_state(),
        AuthorityState::Approved { version: 1 }
    );
    let r = h.run(&officer(), at(2026, 3, 9), approve(1)).unwrap_err();
    assert_eq!(r, Rejection::AlreadyApproved { version: 1 });
}

#[test]
fn only_the_latest_submitted_version_awaits_a_decision() {
    let mut h = drafted();
    h.ok(&key_worker(), at(2026, 3, 6), submit(1));
    h.ok(
        &key_worker(),
        at(2026, 3, 7),
        revise(HC, RevisionReason::ClientWish),
    );
    h.ok(&key_worker(), at(2026, 3, 7), submit(2));
    let r = h.run(&officer(), at(2026, 3, 8), approve(1)).unwrap_err();
    assert_eq!(
        r,
        Rejection::NotCurrentVersion {
            version: 1,
            current: 2,
            command: "approve"
        }
    );
    h.ok(&officer(), at(2026, 3, 8), approve(2));
}

#[test]
fn a_supplement_has_a_due_date_and_blocks_approval_until_delivered_001() {
    let mut h = drafted();
    h.ok(&key_worker(), at(2026, 3, 6), submit(1));
    let r = h
        .run(
            &officer(),
            at(2026, 3, 8),
            request_supplement(1, date(2026, 3, 7)),
        )
        .unwrap_err();
    assert_eq!(r.rule(), "date_in_past");
    h.ok(
        &officer(),
        at(2026, 3, 8),
        request_supplement(1, date(2026, 3, 18)),
    );
    assert_eq!(
        h.state.authority_state(),
        AuthorityState::SupplementRequested {
            version: 1,
            due_on: date(2026, 3, 18)
        }
    );
    let r = h.run(&officer(), at(2026, 3, 9), approve(1)).unwrap_err();
    assert_eq!(r.rule(), "supplement_outstanding");
    let r = h
        .run(
            &officer(),
            at(2026, 3, 9),
            request_supplement(1, date(2026, 3, 20)),
        )
        .unwrap_err();
    assert_eq!(r.rule(), "supplement_outstanding");
    // A plain submit does not answer a supplement request.
    h.ok(
        &key_worker(),
        at(2026, 3, 10),
        revise(HC, RevisionReason::Supplement),
    );
    let r = h
        .run(&key_worker(), at(2026, 3, 10), submit(2))
        .unwrap_err();
    assert_eq!(r.rule(), "supplement_outstanding");
    h.ok(&key_worker(), at(2026, 3, 10), provide_supplement(2));
    assert_eq!(
        h.state.authority_state(),
        AuthorityState::SupplementProvided { version: 2 }
    );
    assert_eq!(
        h.state.version(2).unwrap().submitted.as_ref().unwrap().at,
        at(2026, 3, 10)
    );
    h.ok(&officer(), at(2026, 3, 12), approve(2));
    assert_eq!(
        h.state.authority_state(),
        AuthorityState::Approved { version: 2 }
    );
}

#[test]
fn a_supplement_cannot_be_delivered_unasked() {
    let mut h = drafted();
    let r = h
        .run(&key_worker(), at(2026, 3, 6), provide_supplement(1))
        .unwrap_err();
    assert_eq!(r, Rejection::NoSupplementRequested);
}

#[test]
fn a_review_that_finds_gaps_must_say_what_they_are_002() {
    let mut h = drafted();
    let mut checklist = all_clear();
    checklist.usable_by_new_staff = false;
    let r = h
        .run(
            &key_worker(),
            at(2026, 4, 1),
            Command::RecordReview {
                plan: plan_id(),
                version: 1,
                checklist,
                findings: "".into(),
            },
        )
        .unwrap_err();
    assert_eq!(r, Rejection::EmptyText { field: "findings" });
    h.ok(
        &key_worker(),
        at(2026, 4, 1),
        Command::RecordReview {
            plan: plan_id(),
            version: 1,
            checklist,
            findings: "Hur-beskrivningen för dusch behöver förtydligas".into(),
        },
    );
    let r = &h.state.reviews()[0];
    assert!(!r.checklist.all_clear());
    assert_eq!(r.stamp.by, key_worker());
}

#[test]
fn a_review_binds_to_the_current_version_002() {
    let mut h = drafted();
    h.ok(
        &key_worker(),
        at(2026, 3, 20),
        revise(HC, RevisionReason::ChangedNeeds),
    );
    let r = h.run(&key_worker(), at(2026, 4, 1), review(1)).unwrap_err();
    assert_eq!(r.rule(), "not_current_version");
    h.ok(&key_worker(), at(2026, 4, 1), review(2));
}

#[test]
fn a_deviation_cannot_be_recorded_before_it_happens_003() {
    let mut h = drafted();
    let r = h
        .run(&staff(), at(2026, 3, 6), deviation(date(2026, 3, 7)))
        .unwrap_err();
    assert_eq!(r.rule(), "date_in_future");
}

#[test]
fn a_follow_up_sets_its_next_date_in_the_future() {
    let mut h = drafted();
    let r = h
        .run(
            &key_worker(),
            at(2026, 9, 10),
            follow_up(1, Some(date(2026, 9, 10))),
        )
        .unwrap_err();
    assert_eq!(r.rule(), "date_in_past");
    h.ok(
        &key_worker(),
        at(2026, 9, 10),
        follow_up(1, Some(date(2027, 3, 10))),
    );
}

#[test]
fn a_correction_is_a_new_entry_and_the_original_stays_readable() {
    let mut h = drafted();
    h.ok(&staff(), at(2026, 3, 6), deviation(date(2026, 3, 6)));
    let before = h.state.deviations().to_vec();
    let r = h.run(&staff(), at(2026, 3, 7), correct(4)).unwrap_err();
    assert_eq!(
        r,
        Rejection::NoSuchRecord {
            refers_to: 4,
            last: 3
        }
    );
    let r = h.run(&staff(), at(2026, 3, 7), correct(0)).unwrap_err();
    assert_eq!(r.rule(), "no_such_record");
    h.ok(&staff(), at(2026, 3, 7), correct(3));
    assert_eq!(h.state.deviations(), before.as_slice());
    let c = &h.state.corrections()[0];
    assert_eq!(
        (c.refers_to, c.stamp.at, &c.stamp.by),
        (3, at(2026, 3, 7), &staff())
    );
}

#[test]
fn revising_a_closed_plan_is_rejected_but_a_correction_is_not_000() {
    let mut h = drafted();
    h.ok(
        &manager(),
        at(2026, 6, 1),
        close(CloseReason::Moved, date(2026, 5, 31)),
    );
    let r = h
        .run(
            &key_worker(),
            at(2026, 6, 2),
            revise(HC, RevisionReason::ClientWish),
        )
        .unwrap_err();
    assert_eq!(r, Rejection::Closed { command: "revise" });
    for command in one_of_each(HC) {
        if matches!(command, Command::Correct { .. }) {
            continue;
        }
        let who = match command {
            Command::Approve { .. } | Command::RequestSupplement { .. } => officer(),
            _ => manager(),
        };
        let r = decide(&h.state, &command, &who, at(2026, 6, 2)).unwrap_err();
        assert_eq!(r.rule(), "closed", "{command}");
    }
    h.ok(&manager(), at(2026, 6, 2), correct(1));
    // The closed plan stays whole: its version is still there.
    assert_eq!(h.state.versions().len(), 1);
    assert_eq!(h.state.closed().unwrap().reason, CloseReason::Moved);
}

#[test]
fn a_new_order_must_be_for_the_same_unit_act_and_client() {
    let mut h = drafted();
    let mut other_unit = receive_order(HC, "best-2", date(2026, 4, 1));
    if let Command::ReceiveOrder { unit, .. } = &mut other_unit {
        *unit = UnitId::new("hemtjanst-syd").unwrap();
    }
    let r = h.run(&officer(), at(2026, 4, 1), other_unit).unwrap_err();
    assert_eq!(r, Rejection::OrderConflict { field: "unit" });
    let r = h
        .run(
            &officer(),
            at(2026, 4, 1),
            receive_order(HC, "best-1", date(2026, 4, 1)),
        )
        .unwrap_err();
    assert_eq!(r, Rejection::DuplicateOrder);
    h.ok(
        &officer(),
        at(2026, 4, 1),
        receive_order(HC, "best-2", date(2026, 4, 1)),
    );
    assert_eq!(h.state.orders().len(), 2);
}

#[test]
fn the_version_in_force_is_the_latest_recorded_by_then_until_closure() {
    let mut h = drafted();
    h.ok(
        &key_worker(),
        at(2026, 6, 1),
        revise(HC, RevisionReason::FollowUp),
    );
    h.ok(
        &manager(),
        at(2026, 9, 1),
        close(CloseReason::Ended, date(2026, 9, 1)),
    );
    assert!(h.state.version_in_force(at(2026, 3, 4)).is_none());
    assert_eq!(h.state.version_in_force(at(2026, 3, 5)).unwrap().number, 1);
    assert_eq!(h.state.version_in_force(at(2026, 5, 31)).unwrap().number, 1);
    assert_eq!(h.state.version_in_force(at(2026, 6, 1)).unwrap().number, 2);
    assert!(h.state.version_in_force(at(2026, 9, 1)).is_none());
}

#[test]
fn the_fold_is_a_function_of_the_log_alone() {
    let mut h = drafted();
    h.ok(&key_worker(), at(2026, 3, 6), sign(1, Signer::Client));
    h.ok(&key_worker(), at(2026, 3, 6), submit(1));
    h.ok(
        &officer(),
        at(2026, 3, 8),
        request_supplement(1, date(2026, 3, 18)),
    );
    h.ok(&key_worker(), at(2026, 3, 10), provide_supplement(1));
    h.ok(&officer(), at(2026, 3, 11), approve(1));
    assert_eq!(h.refold(), h.state);
    assert_eq!(h.state.stream_version(), 7);
}
