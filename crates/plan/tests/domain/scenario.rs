//! Whole first years: one home-care client (seed 001) and one LSS daily-activity client
//! (seed 003, with the monthly review of seed 002), every step through `decide`.

use crate::fixtures::*;
use planledger_plan::*;

fn revise_with(reason: RevisionReason, note: &str, content: PlanContent) -> Command {
    Command::Revise {
        plan: plan_id(),
        reason,
        note: note.into(),
        content,
    }
}

/// Nothing is overdue at the end of every month from `from` to `to` (the unit
/// manager's self-monitoring, 003).
fn nothing_overdue_monthly(h: &Harness, policy: &DeadlinePolicy, from: (i32, u32), to: (i32, u32)) {
    let (mut y, mut m) = from;
    while (y, m) <= to {
        let last = date(y, m, 1)
            .checked_add_months(chrono::Months::new(1))
            .unwrap()
            .pred_opt()
            .unwrap();
        assert_eq!(h.state.overdue(policy, last), [], "overdue on {last}");
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
}

#[test]
fn home_care_client_first_year_001() {
    const HC: ActKind = ActKind::HomeCare;
    let policy = DeadlinePolicy::default();
    let mut h = Harness::new();

    // The case officer's order for a new client starts the clock: draw up by 26
    // January, send by 27 January.
    h.ok(
        &officer(),
        at(2026, 1, 12),
        receive_order(HC, "best-1", date(2026, 1, 12)),
    );
    let mut v1 = content(HC);
    v1.drawn_up_on = Some(date(2026, 1, 20));
    v1.adopted_on = Some(date(2026, 1, 20));
    v1.service_starts_on = Some(date(2026, 1, 21));
    v1.follow_up.on = Some(date(2026, 7, 20));
    v1.services.push(Service {
        what: "Inköp".into(),
        when: Schedule {
            days: vec![Weekday::Thursday],
            ..Schedule::default()
        },
        how: "Kunden skriver inköpslista, personal handlar".into(),
        who: "Hemtjänstgrupp Norr".into(),
        goal: "Kunden har mat hemma som hen tycker om".into(),
    });
    h.ok(
        &key_worker(),
        at(2026, 1, 20),
        Command::Draft {
            plan: plan_id(),
            content: v1.clone(),
        },
    );
    // "Inköp" has no time of day: the plan is not complete, which the review shows.
    assert_eq!(
        h.state.gaps(1),
        [
            Gap::Service {
                service: 2,
                field: ServiceField::When
            },
            Gap::Unsigned {
                required: SignatureRequirement::ClientOrRepresentative
            },
        ]
    );
    h.ok(&key_worker(), at(2026, 1, 20), sign(1, Signer::Client));
    h.ok(&key_worker(), at(2026, 1, 22), submit(1));
    assert_eq!(h.state.overdue(&policy, date(2026, 1, 31)), []);

    // The case officer asks for a supplement: when does the shopping happen?
    h.ok(
        &officer(),
        at(2026, 1, 26),
        request_supplement(1, date(2026, 2, 5)),
    );
    let fee_now = h.state.new_client_fee(&policy);
    assert!(!fee_now.payable);
    assert_eq!(
        fee_now.reason,
        FeeReason::SupplementOutstanding {
            due_on: date(2026, 2, 5)
        }
    );
    let mut v2 = v1.clone();
    v2.services[1].when = Schedule {
        days: vec![Weekday::Thursday],
        start: time(13, 0),
        end: time(14, 0),
        ..Schedule::default()
    };
    h.ok(
        &key_worker(),
        at(2026, 2, 2),
        revise_with(RevisionReason::Supplement, "Tid för inköp", v2.clone()),
    );
    h.ok(&key_worker(), at(2026, 2, 2), sign(2, Signer::Client));
    h.ok(&key_worker(), at(2026, 2, 2), provide_supplement(2));
    // The administrative officer may pay the new-client fee: in time, supplemented.
    let fee_now = h.state.new_client_fee(&policy);
    assert_eq!(
        fee_now,
        FeeDecision {
            payable: true,
            reason: FeeReason::Supplemented {
                provided_on: date(2026, 2, 2)
            }
        }
    );
    h.ok(&officer(), at(2026, 2, 4), approve(2));
    assert_eq!(
        h.state.authority_state(),
        AuthorityState::Approved { version: 2 }
    );
    assert_eq!(h.state.gaps(2), []);

    // Spring: a missed shower, recorded by staff, then corrected by them.
    h.ok(&staff(), at(2026, 4, 15), deviation(date(2026, 4, 14)));
    let deviation_record = h.state.stream_version();
    h.ok(&staff(), at(2026, 4, 16), correct(deviation_record));

    // A new decision adds evening help: a new order, a new version within 14 days.
    h.ok(
        &officer(),
        at(2026, 6, 1),
        receive_order(HC, "best-2", date(2026, 6, 1)),
    );
    assert_eq!(
        h.state
            .overdue(&policy, date(2026, 6, 17))
            .iter()
            .map(|o| o.kind)
            .collect::<Vec<_>>(),
        [DueKind::DrawUp, DueKind::Submit],
        "the new decision has its own clock"
    );
    let mut v3 = v2.clone();
    v3.services.push(Service {
        what: "Personlig omvårdnad, kväll".into(),
        when: Schedule {
            days: Weekday::ALL.to_vec(),
            start: time(20, 0),
            end: time(20, 30),
            ..Schedule::default()
        },
        how: "Stöd vid av- och påklädning; kunden borstar tänderna själv".into(),
        who: "Hemtjänstgrupp Norr, kvällspersonal".into(),
        goal: "Kunden kan gå och lägga sig tryggt".into(),
    });
    h.ok(
        &key_worker(),
        at(2026, 6, 10),
        revise_with(
            RevisionReason::NewDecision,
            "Kvällsinsats beviljad",
            v3.clone(),
        ),
    );
    h.ok(&key_worker(), at(2026, 6, 10), sign(3, Signer::Client));
    h.ok(&key_worker(), at(2026, 6, 10), submit(3));
    h.ok(&officer(), at(2026, 6, 12), approve(3));

    // Follow-up at the date set in the plan (001), which gives a new version.
    h.ok(
        &key_worker(),
        at(2026, 7, 20),
        follow_up(3, Some(date(2027, 1, 15))),
    );
    let mut v4 = v3.clone();
    v4.follow_up.on = Some(date(2027, 1, 15));
    h.ok(
        &key_worker(),
        at(2026, 7, 20),
        revise_with(RevisionReason::FollowUp, "Uppföljning", v4.clone()),
    );
    h.ok(&key_worker(), at(2026, 7, 20), sign(4, Signer::Client));
    h.ok(&key_worker(), at(2026, 7, 21), submit(4));
    h.ok(&officer(), at(2026, 7, 23), approve(4));
    h.ok(
        &key_worker(),
        at(2027, 1, 15),
        follow_up(4, Some(date(2027, 7, 15))),
    );

    nothing_overdue_monthly(&h, &policy, (2026, 1), (2026, 12));
    assert_eq!(h.state.overdue(&policy, date(2027, 1, 12)), []);

    // The year as an inspector sees it: every version whole, who signed and approved.
    let versions = h.state.versions();
    assert_eq!(versions.len(), 4);
    assert_eq!(
        versions
            .iter()
            .map(|v| h.state.content(v.number))
            .collect::<Vec<_>>(),
        [Some(&v1), Some(&v2), Some(&v3), Some(&v4)]
    );
    assert!(
        versions
            .iter()
            .all(|v| v.is_signed(SignatureRequirement::ClientOrRepresentative))
    );
    assert_eq!(
        versions
            .iter()
            .map(|v| v.approved.as_ref().map(|a| a.by.role))
            .collect::<Vec<_>>(),
        [
            None,
            Some(Role::CaseOfficer),
            Some(Role::CaseOfficer),
            Some(Role::CaseOfficer)
        ]
    );
    assert_eq!(h.state.version_in_force(at(2026, 3, 1)).unwrap().number, 2);
    assert_eq!(
        h.state.version_in_force(at(2026, 12, 24)).unwrap().number,
        4
    );
    assert_eq!(h.state.deviations().len(), 1);
    assert_eq!(h.state.corrections()[0].refers_to, deviation_record);
    assert!(h.state.new_client_fee(&policy).payable);
    assert_eq!(h.refold(), h.state);
    // Every payload survives its encoding.
    for (e, _, _) in &h.log {
        assert_eq!(&Event::decode(&e.encode()).unwrap(), e);
    }
    // The folded state serialises (the read model keeps it without contents, as JSON):
    // a year of it survives, with and without contents.
    for state in [h.state.clone(), h.state.without_contents()] {
        let bytes = serde_json::to_vec(&state).unwrap();
        assert_eq!(serde_json::from_slice::<PlanState>(&bytes).unwrap(), state);
    }
    let summary = h.state.without_contents();
    assert_eq!(summary.content(1), None);
    assert_eq!(
        summary.overdue(&policy, date(2027, 6, 1)),
        h.state.overdue(&policy, date(2027, 6, 1))
    );
    assert_eq!(summary.gaps(4), h.state.gaps(4));
}

#[test]
fn lss_daily_activity_client_first_year_003() {
    const LSS: ActKind = ActKind::LssDailyActivity;
    // This organisation reviews every plan monthly (002).
    let policy = DeadlinePolicy::from_toml(
        "organisation = \"Daglig verksamhet Öst\"\n[lss_daily_activity]\nreview_every_months = 1\n",
    )
    .unwrap();
    let guardian = Signer::Representative(RepresentativeKind::Guardian);
    let mut h = Harness::new();

    h.ok(
        &officer(),
        at(2026, 2, 2),
        receive_order(LSS, "lss-9", date(2026, 2, 2)),
    );
    // Finished within 14 days, signed with the guardian, sent when finished.
    let mut v1 = content(LSS);
    v1.follow_up.on = None;
    v1.follow_up.how = "Årlig uppföljning med kund och god man".into();
    v1.participants.push(Participant {
        name: "Förvaltare".into(),
        role: ParticipantRole::Guardian,
    });
    h.ok(
        &key_worker(),
        at(2026, 2, 13),
        Command::Draft {
            plan: plan_id(),
            content: v1.clone(),
        },
    );
    assert_eq!(
        h.state.gaps(1),
        [
            Gap::FollowUpDate,
            Gap::Unsigned {
                required: SignatureRequirement::ClientOrRepresentative
            },
        ]
    );
    h.ok(&key_worker(), at(2026, 2, 13), sign(1, guardian.clone()));
    h.ok(&key_worker(), at(2026, 2, 13), submit(1));

    // The first weeks bring new wishes and a new order from habilitation (003).
    let mut v2 = v1.clone();
    v2.follow_up.on = Some(date(2027, 2, 12));
    v2.clinical_orders.push(ClinicalOrderRef {
        by: Clinician::Nurse,
        subject: "insulin före lunch".into(),
        where_to_read: "läkemedelslistan i kundens akt".into(),
    });
    v2.life_areas[0].routine_notes.push(RoutineNote {
        topic: RoutineTopic::Medication,
        note: "Påminnelse om insulin 11.30".into(),
    });
    h.ok(
        &key_worker(),
        at(2026, 3, 5),
        revise_with(RevisionReason::ChangedNeeds, "Ny ordination", v2.clone()),
    );
    h.ok(&key_worker(), at(2026, 3, 5), sign(2, guardian.clone()));
    h.ok(&key_worker(), at(2026, 3, 5), submit(2));
    assert_eq!(h.state.gaps(2), []);

    // Monthly reviews by the key worker, and what staff notice on the floor.
    for m in 4..=6 {
        h.ok(&key_worker(), at(2026, m, 3), review(h.current()));
    }
    h.ok(&staff(), at(2026, 4, 22), deviation(date(2026, 4, 22)));
    let mut v3 = v2.clone();
    v3.life_areas.push(LifeArea {
        area: "Sociala aktiviteter".into(),
        assessed_function: "Måttlig; deltar gärna i grupp".into(),
        goal: "Kunden deltar i musikgruppen varje vecka".into(),
        needs_and_services: vec![TimedNeed {
            part_of_day: PartOfDay::Afternoon,
            text: "Onsdagar: följs till musikrummet".into(),
        }],
        routine_notes: vec![],
    });
    h.ok(
        &key_worker(),
        at(2026, 6, 15),
        revise_with(
            RevisionReason::ClientWish,
            "Vill börja i musikgruppen",
            v3.clone(),
        ),
    );
    h.ok(&key_worker(), at(2026, 6, 15), sign(3, Signer::Client));
    h.ok(&key_worker(), at(2026, 6, 15), submit(3));

    // July is holiday: the review slips, and self-monitoring sees it.
    let late = h.state.overdue(&policy, date(2026, 8, 1));
    assert_eq!(late.len(), 1);
    assert_eq!(
        (late[0].kind, late[0].due_on, late[0].days_late),
        (DueKind::Review, date(2026, 7, 15), 17)
    );
    h.ok(&key_worker(), at(2026, 8, 3), review(3));
    for m in 9..=12 {
        h.ok(&key_worker(), at(2026, m, 1), review(3));
    }
    h.ok(&key_worker(), at(2027, 1, 1), review(3));
    // The yearly follow-up gives a new version before the year is out.
    h.ok(
        &key_worker(),
        at(2027, 2, 1),
        follow_up(3, Some(date(2028, 2, 1))),
    );
    let mut v4 = v3.clone();
    v4.follow_up.on = Some(date(2028, 2, 1));
    h.ok(
        &key_worker(),
        at(2027, 2, 1),
        revise_with(RevisionReason::FollowUp, "Årlig uppföljning", v4),
    );
    h.ok(&key_worker(), at(2027, 2, 1), sign(4, guardian.clone()));
    h.ok(&key_worker(), at(2027, 2, 1), submit(4));

    nothing_overdue_monthly(&h, &policy, (2026, 2), (2026, 6));
    nothing_overdue_monthly(&h, &policy, (2026, 8), (2027, 1));
    assert_eq!(h.state.overdue(&policy, date(2027, 2, 14)), []);
    // The next deadlines: review a month on, follow-up a year on.
    let open: Vec<_> = h
        .state
        .due_dates(&policy)
        .into_iter()
        .filter(|d| d.met_on.is_none())
        .map(|d| (d.kind, d.due_on))
        .collect();
    assert_eq!(
        open,
        [
            (DueKind::Review, date(2027, 3, 1)),
            (DueKind::FollowUp, date(2028, 2, 1))
        ]
    );

    assert_eq!(h.state.client().unwrap().to_string(), "19701063-****");
    assert!(h.state.client().unwrap().is_coordination_number());
    assert_eq!(h.state.versions().len(), 4);
    assert_eq!(
        h.state
            .content(h.state.version_in_force(at(2026, 4, 1)).unwrap().number),
        Some(&v2)
    );
    assert_eq!(h.state.reviews().len(), 3 + 1 + 4 + 1);
    assert!(
        h.state.versions().iter().all(|v| v.submitted.is_some()),
        "003: every version is sent"
    );
    assert!(!h.state.new_client_fee(&policy).payable);
    assert_eq!(h.refold(), h.state);
}
