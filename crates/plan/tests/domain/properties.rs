//! Properties of `decide` over random command sequences: whatever is asked, by whomever,
//! in whatever order, the recorded history keeps the lifecycle's invariants.

use crate::fixtures::*;
use planledger_plan::*;
use proptest::prelude::*;

fn actors() -> [Actor; 7] {
    [
        key_worker(),
        staff(),
        manager(),
        officer(),
        admin_officer(),
        inspector(),
        admin(),
    ]
}

/// Command `kind` for version `version`, on `day` days after 2026-03-01.
fn command(kind: u8, version: u32, day: u32, act: ActKind) -> Command {
    let d = date(2026, 3, 1) + chrono::Days::new(u64::from(day));
    // Closing ends a history, so it is rare; everything else is equally likely.
    match if kind == 255 { 13 } else { kind % 13 } {
        0 => receive_order(act, &format!("best-{day}"), d),
        1 => draft(act),
        2 => revise(act, RevisionReason::ChangedNeeds),
        3 => sign(version, Signer::Client),
        4 => sign(version, Signer::StaffMember(staff().user)),
        5 => submit(version),
        6 => approve(version),
        7 => request_supplement(version, d + chrono::Days::new(7)),
        8 => provide_supplement(version),
        9 => review(version),
        10 => follow_up(version, Some(d + chrono::Days::new(180))),
        11 => deviation(d),
        12 => correct(u64::from(version)),
        _ => close(CloseReason::Ended, d),
    }
}

fn event_for(command: &Command) -> &'static str {
    match command {
        Command::ReceiveOrder { .. } => "order_received",
        Command::Draft { .. } => "plan_drafted",
        Command::Revise { .. } => "plan_revised",
        Command::Sign { .. } => "plan_signed",
        Command::Submit { .. } => "plan_submitted",
        Command::Approve { .. } => "plan_approved",
        Command::RequestSupplement { .. } => "supplement_requested",
        Command::ProvideSupplement { .. } => "supplement_provided",
        Command::RecordReview { .. } => "review_done",
        Command::RecordFollowUp { .. } => "follow_up_done",
        Command::RecordDeviation { .. } => "deviation_recorded",
        Command::Correct { .. } => "correction_noted",
        Command::Close { .. } => "plan_closed",
        _ => unreachable!("every command is listed"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn random_histories_keep_the_lifecycle_invariants(
        act in prop::sample::select(ActKind::ALL.to_vec()),
        // who: 0-6 a role at random, 7-19 a role allowed to give the command;
        // version: 0-3 as drawn, 4-5 the current one.
        steps in prop::collection::vec((any::<u8>(), 0usize..20, 0u32..6, 0u32..2), 1..60),
    ) {
        let mut h = Harness::ordered(act, at(2026, 3, 1));
        let mut day = 0u32;
        for (kind, who, version, advance) in steps {
            day += advance;
            let now = at(2026, 3, 1) + chrono::Duration::days(i64::from(day));
            let current = h.state.current_version().map_or(0, |v| v.number);
            let version = if version >= 4 { current } else { version };
            let command = command(kind, version, day, act);
            let actor = &if who < 7 {
                actors()[who].clone()
            } else {
                let role = allowed_roles(&command)[0];
                actors().into_iter().find(|a| a.role == role).unwrap()
            };
            let was_closed = h.state.is_closed();
            match h.run(actor, now, command.clone()) {
                Ok(events) => {
                    prop_assert_eq!(events.len(), 1);
                    prop_assert_eq!(events[0].event_type(), event_for(&command));
                    prop_assert!(allowed_roles(&command).contains(&actor.role));
                    let is_correction = matches!(command, Command::Correct { .. });
                    prop_assert!(!was_closed || is_correction);
                }
                Err(r) => {
                    let text = r.to_string();
                    prop_assert!(!text.is_empty());
                    prop_assert!(!text.contains("3234") && !text.contains("2391"), "{}", text);
                }
            }
        }
        let s = &h.state;
        // Versions are 1, 2, … with none missing, and every one is kept.
        let numbers: Vec<u32> = s.versions().iter().map(|v| v.number).collect();
        prop_assert_eq!(numbers, (1..=s.versions().len() as u32).collect::<Vec<_>>());
        for v in s.versions() {
            // Signatures come after the version and before the next one (binding to one version).
            for sig in &v.signatures {
                prop_assert!(sig.at >= v.recorded_at);
                prop_assert!(v.superseded_at.is_none_or(|end| sig.at <= end));
            }
            // Approval only of a submitted version, only by the case officer.
            if let Some(a) = &v.approved {
                let submitted = v.submitted.as_ref();
                prop_assert!(submitted.is_some_and(|s| s.at <= a.at));
                prop_assert_eq!(a.by.role, Role::CaseOfficer);
            }
        }
        for sub in s.submissions() {
            prop_assert!(s.version(sub.version).is_some());
        }
        // Inspectors and administrative officers never recorded anything.
        prop_assert!(h.log.iter().all(|(_, _, a)| !matches!(a.role, Role::Inspector | Role::AdministrativeOfficer)));
        // Nothing but corrections after closure.
        if let Some(c) = s.closed() {
            let after: Vec<_> = h.log.iter().filter(|(_, t, _)| *t > c.stamp.at).collect();
            prop_assert!(after.iter().all(|(e, _, _)| matches!(e, Event::CorrectionNoted(_))));
        }
        prop_assert_eq!(h.refold(), h.state.clone());
    }
}
