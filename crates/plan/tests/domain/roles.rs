//! Who may do what (docs/DOMAIN.md, "Roles and who may do what").

use crate::fixtures::*;
use planledger_plan::*;

/// A home-care plan with version 1 submitted and a deviation recorded: every command
/// has something to act on.
fn busy_plan() -> Harness {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 5), draft(ActKind::HomeCare));
    h.ok(&key_worker(), at(2026, 3, 6), submit(1));
    h
}

#[test]
fn inspector_is_read_only_and_may_give_no_command() {
    let h = busy_plan();
    for command in one_of_each(ActKind::HomeCare) {
        let r = decide(&h.state, &command, &inspector(), at(2026, 3, 7)).unwrap_err();
        assert_eq!(r.rule(), "not_permitted", "{command}");
    }
}

#[test]
fn administrative_officer_records_nothing_in_a_plan_001() {
    // 001: the administrative officer checks approval before paying; a read.
    let h = busy_plan();
    for command in one_of_each(ActKind::HomeCare) {
        let r = decide(&h.state, &command, &admin_officer(), at(2026, 3, 7)).unwrap_err();
        assert_eq!(r.rule(), "not_permitted", "{command}");
    }
}

#[test]
fn only_the_case_officer_approves_or_asks_for_a_supplement_001() {
    let h = busy_plan();
    for who in [
        key_worker(),
        staff(),
        manager(),
        admin(),
        inspector(),
        admin_officer(),
    ] {
        for command in [approve(1), request_supplement(1, date(2026, 3, 20))] {
            let r = decide(&h.state, &command, &who, at(2026, 3, 7)).unwrap_err();
            assert!(
                matches!(
                    r,
                    Rejection::NotPermitted {
                        allowed: [Role::CaseOfficer],
                        ..
                    }
                ),
                "{who:?} {command}: {r}"
            );
        }
    }
    assert!(decide(&h.state, &approve(1), &officer(), at(2026, 3, 7)).is_ok());
}

#[test]
fn staff_may_not_draft_or_revise_the_key_worker_does_000_001() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    let r = h
        .run(&staff(), at(2026, 3, 2), draft(ActKind::HomeCare))
        .unwrap_err();
    assert_eq!(r.rule(), "not_permitted");
    h.ok(&key_worker(), at(2026, 3, 2), draft(ActKind::HomeCare));
    let r = h
        .run(
            &staff(),
            at(2026, 3, 3),
            revise(ActKind::HomeCare, RevisionReason::StaffRequest),
        )
        .unwrap_err();
    assert_eq!(r.rule(), "not_permitted");
}

#[test]
fn staff_records_deviations_003() {
    let mut h = Harness::ordered(ActKind::LssDailyActivity, at(2026, 3, 1));
    h.ok(&staff(), at(2026, 3, 4), deviation(date(2026, 3, 4)));
    assert_eq!(h.state.deviations().len(), 1);
    assert_eq!(h.state.deviations()[0].stamp.by, staff());
}

#[test]
fn a_staff_member_signs_in_their_own_name_only_004() {
    let mut h = Harness::ordered(ActKind::HousingSupport, at(2026, 3, 1));
    h.ok(
        &key_worker(),
        at(2026, 3, 5),
        draft(ActKind::HousingSupport),
    );
    let someone_else = Signer::StaffMember(UserId::new("other-staff").unwrap());
    let r = h
        .run(&staff(), at(2026, 3, 6), sign(1, someone_else))
        .unwrap_err();
    assert_eq!(r, Rejection::SignerNotActor);
    // An administrator cannot sign as staff even with their own id.
    let r = h
        .run(
            &admin(),
            at(2026, 3, 6),
            sign(1, Signer::StaffMember(admin().user)),
        )
        .unwrap_err();
    assert_eq!(r, Rejection::SignerNotActor);
    h.ok(
        &staff(),
        at(2026, 3, 6),
        sign(1, Signer::StaffMember(staff().user)),
    );
    assert!(h.state.is_current_signed());
}

#[test]
fn the_role_table_is_what_the_crate_documents() {
    use Role::*;
    let table: Vec<(&str, Vec<Role>)> = one_of_each(ActKind::HomeCare)
        .iter()
        .map(|c| (c.name(), allowed_roles(c).to_vec()))
        .collect();
    let expected = vec![
        ("receive_order", vec![CaseOfficer, UnitManager, Admin]),
        ("draft", vec![KeyWorker, UnitManager, Admin]),
        ("revise", vec![KeyWorker, UnitManager, Admin]),
        ("sign", vec![KeyWorker, Staff, UnitManager, Admin]),
        ("submit", vec![KeyWorker, UnitManager, Admin]),
        ("approve", vec![CaseOfficer]),
        ("request_supplement", vec![CaseOfficer]),
        ("provide_supplement", vec![KeyWorker, UnitManager, Admin]),
        ("record_review", vec![KeyWorker, UnitManager]),
        ("record_follow_up", vec![KeyWorker, UnitManager]),
        ("record_deviation", vec![Staff, KeyWorker, UnitManager]),
        (
            "correct",
            vec![KeyWorker, Staff, UnitManager, CaseOfficer, Admin],
        ),
        ("close", vec![KeyWorker, UnitManager, CaseOfficer, Admin]),
    ];
    assert_eq!(table, expected);
}

#[test]
fn a_rejection_names_the_rule_and_the_remedy_and_no_personal_data() {
    let h = busy_plan();
    let r = decide(&h.state, &approve(1), &staff(), at(2026, 3, 7)).unwrap_err();
    assert_eq!(
        r.to_string(),
        "a staff member may not approve; this needs one of: case officer"
    );
    // Every rejection the role and lifecycle tables can produce here is free of the
    // client's number and name.
    for who in [
        key_worker(),
        staff(),
        manager(),
        officer(),
        admin(),
        inspector(),
    ] {
        for command in one_of_each(ActKind::HomeCare) {
            if let Err(r) = decide(&h.state, &command, &who, at(2026, 3, 7)) {
                let text = r.to_string();
                assert!(
                    !text.contains("3234") && !text.contains("19640823"),
                    "{text}"
                );
                assert!(!text.contains("Testperson"), "{text}");
            }
        }
    }
}

#[test]
fn a_rejection_reads_as_english_for_every_role() {
    let h = busy_plan();
    let r = decide(&h.state, &approve(1), &inspector(), at(2026, 3, 7)).unwrap_err();
    assert_eq!(
        r.to_string(),
        "an inspector may not approve; this needs one of: case officer"
    );
    let r = decide(&h.state, &approve(1), &admin_officer(), at(2026, 3, 7)).unwrap_err();
    assert!(
        r.to_string()
            .starts_with("an administrative officer may not")
    );
}
