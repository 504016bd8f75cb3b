//! Due dates and what is overdue, per act (docs/DOMAIN.md's table; each seed's own numbers).

use crate::fixtures::*;
use planledger_plan::*;
use proptest::prelude::*;

fn policy() -> DeadlinePolicy {
    DeadlinePolicy::default()
}

fn kinds(dues: &[Due]) -> Vec<(DueKind, chrono::NaiveDate)> {
    dues.iter().map(|d| (d.kind, d.due_on)).collect()
}

fn overdue_kinds(h: &Harness, on: chrono::NaiveDate) -> Vec<(DueKind, i64)> {
    h.state
        .overdue(&policy(), on)
        .iter()
        .map(|o| (o.kind, o.days_late))
        .collect()
}

/// A draft whose own follow-up date is far away, so that the act's interval shows.
fn draft_without_near_follow_up(act: ActKind) -> Command {
    let mut c = content(act);
    c.follow_up.on = Some(date(2030, 1, 1));
    Command::Draft {
        plan: plan_id(),
        content: c,
    }
}

#[test]
fn each_seed_sets_its_own_deadlines_for_the_same_order() {
    // Order (or move-in) on 2026-03-01, nothing else yet.
    let table = [
        // 000: begun at move-in, sent within four weeks (so drawn up by then).
        (
            ActKind::ResidentialCare,
            vec![
                (DueKind::DrawUp, date(2026, 3, 29)),
                (DueKind::Submit, date(2026, 3, 29)),
            ],
        ),
        // 001: drawn up within 14 days, sent within 15.
        (
            ActKind::HomeCare,
            vec![
                (DueKind::DrawUp, date(2026, 3, 15)),
                (DueKind::Submit, date(2026, 3, 16)),
            ],
        ),
        // 003: finished within 14 days; sent when finished (no order-based deadline).
        (
            ActKind::LssDailyActivity,
            vec![(DueKind::DrawUp, date(2026, 3, 15))],
        ),
        // 004: drawn up within 14 days; nothing is sent.
        (
            ActKind::HousingSupport,
            vec![(DueKind::DrawUp, date(2026, 3, 15))],
        ),
    ];
    for (act, expected) in table {
        let h = Harness::ordered(act, at(2026, 3, 1));
        assert_eq!(kinds(&h.state.due_dates(&policy())), expected, "{act}");
    }
}

#[test]
fn home_care_plan_drawn_up_after_14_days_is_overdue_001() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    assert!(
        overdue_kinds(&h, date(2026, 3, 15)).is_empty(),
        "day 14 is in time"
    );
    assert_eq!(overdue_kinds(&h, date(2026, 3, 16)), [(DueKind::DrawUp, 1)]);
    assert_eq!(
        overdue_kinds(&h, date(2026, 3, 17)),
        [(DueKind::DrawUp, 2), (DueKind::Submit, 1)]
    );
    h.ok(&key_worker(), at(2026, 3, 17), draft(ActKind::HomeCare));
    let drawn = h.state.due_dates(&policy())[0];
    assert_eq!(
        (drawn.kind, drawn.met_on, drawn.met_late_by()),
        (DueKind::DrawUp, Some(date(2026, 3, 17)), Some(2))
    );
    // Looking back, the plan was overdue on the 16th even though it is drawn up now.
    assert_eq!(overdue_kinds(&h, date(2026, 3, 16)), [(DueKind::DrawUp, 1)]);
    assert_eq!(overdue_kinds(&h, date(2026, 3, 17)), [(DueKind::Submit, 1)]);
}

#[test]
fn home_care_plan_submitted_on_day_15_is_in_time_001() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 14), draft(ActKind::HomeCare));
    h.ok(&key_worker(), at(2026, 3, 16), submit(1));
    let submit_due = h.state.due_dates(&policy())[1];
    assert_eq!(submit_due.kind, DueKind::Submit);
    assert_eq!(submit_due.met_late_by(), None);
    assert!(overdue_kinds(&h, date(2026, 3, 30)).is_empty());
}

#[test]
fn residential_care_plan_is_begun_at_move_in_and_sent_within_four_weeks_000() {
    let mut h = Harness::ordered(ActKind::ResidentialCare, at(2026, 3, 1));
    assert!(overdue_kinds(&h, date(2026, 3, 29)).is_empty());
    // Nothing drawn up or sent four weeks after move-in: both are overdue.
    assert_eq!(
        overdue_kinds(&h, date(2026, 3, 30)),
        [(DueKind::DrawUp, 1), (DueKind::Submit, 1)]
    );
    h.ok(
        &key_worker(),
        at(2026, 3, 1),
        draft_without_near_follow_up(ActKind::ResidentialCare),
    );
    assert!(overdue_kinds(&h, date(2026, 3, 29)).is_empty());
    assert_eq!(overdue_kinds(&h, date(2026, 3, 30)), [(DueKind::Submit, 1)]);
}

/// Issue 10: seed 000 says the plan is *begun* at move-in ("påbörjas vid inflyttning")
/// and *sent* within four weeks; it sets no day by which it must be drawn up other than
/// the sending. A plan drawn up nine days after move-in and sent in time is not late.
#[test]
fn residential_care_plan_drawn_up_after_move_in_but_before_the_sending_deadline_is_not_late_000() {
    let mut h = Harness::ordered(ActKind::ResidentialCare, at(2026, 3, 1));
    h.ok(
        &key_worker(),
        at(2026, 3, 10),
        draft_without_near_follow_up(ActKind::ResidentialCare),
    );
    h.ok(&key_worker(), at(2026, 3, 20), submit(1));
    let late: Vec<_> = h
        .state
        .due_dates(&policy())
        .iter()
        .filter_map(|d| d.met_late_by().map(|days| (d.kind, days)))
        .collect();
    assert_eq!(late, []);
    assert!(overdue_kinds(&h, date(2026, 3, 10)).is_empty());
    // Drawn up after the four weeks it is late, by the days after the sending deadline.
    let mut h = Harness::ordered(ActKind::ResidentialCare, at(2026, 3, 1));
    h.ok(
        &key_worker(),
        at(2026, 4, 1),
        draft_without_near_follow_up(ActKind::ResidentialCare),
    );
    let drawn = h.state.due_dates(&policy())[0];
    assert_eq!(
        (drawn.kind, drawn.met_late_by()),
        (DueKind::DrawUp, Some(3))
    );
}

#[test]
fn residential_care_plan_is_followed_up_every_six_months_000() {
    let mut h = Harness::ordered(ActKind::ResidentialCare, at(2026, 3, 1));
    h.ok(
        &key_worker(),
        at(2026, 3, 1),
        draft_without_near_follow_up(ActKind::ResidentialCare),
    );
    h.ok(&key_worker(), at(2026, 3, 20), submit(1));
    let follow = |h: &Harness| {
        h.state
            .due_dates(&policy())
            .into_iter()
            .find(|d| d.kind == DueKind::FollowUp)
            .unwrap()
            .due_on
    };
    assert_eq!(follow(&h), date(2026, 9, 1));
    assert_eq!(
        overdue_kinds(&h, date(2026, 9, 3)),
        [(DueKind::FollowUp, 2)]
    );
    // A follow-up that gives a new version restarts the six months.
    h.ok(
        &key_worker(),
        at(2026, 8, 25),
        revise(ActKind::ResidentialCare, RevisionReason::FollowUp),
    );
    assert_eq!(
        follow(&h),
        date(2026, 9, 10),
        "the plan's own earlier date wins"
    );
    let mut c = content(ActKind::ResidentialCare);
    c.follow_up.on = None;
    h.ok(
        &key_worker(),
        at(2026, 8, 26),
        Command::Revise {
            plan: plan_id(),
            reason: RevisionReason::FollowUp,
            note: String::new(),
            content: c,
        },
    );
    assert_eq!(follow(&h), date(2027, 2, 26));
}

#[test]
fn home_care_is_followed_up_at_the_date_set_in_the_plan_001() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 10), draft(ActKind::HomeCare));
    h.ok(&key_worker(), at(2026, 3, 10), submit(1));
    assert_eq!(overdue_kinds(&h, date(2026, 9, 10)), []);
    assert_eq!(
        overdue_kinds(&h, date(2026, 9, 12)),
        [(DueKind::FollowUp, 2)]
    );
    h.ok(
        &key_worker(),
        at(2026, 9, 12),
        follow_up(1, Some(date(2027, 3, 12))),
    );
    assert!(overdue_kinds(&h, date(2026, 9, 12)).is_empty());
    let next = h
        .state
        .due_dates(&policy())
        .into_iter()
        .find(|d| d.kind == DueKind::FollowUp)
        .unwrap();
    assert_eq!(next.due_on, date(2027, 3, 12));
    // Home care has no interval of its own: without a date there is no follow-up due.
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    let mut c = content(ActKind::HomeCare);
    c.follow_up.on = None;
    h.ok(
        &key_worker(),
        at(2026, 3, 10),
        Command::Draft {
            plan: plan_id(),
            content: c,
        },
    );
    assert!(
        h.state
            .due_dates(&policy())
            .iter()
            .all(|d| d.kind != DueKind::FollowUp)
    );
}

#[test]
fn lss_plan_is_sent_when_finished_or_updated_and_renewed_yearly_003() {
    let mut h = Harness::ordered(ActKind::LssDailyActivity, at(2026, 3, 1));
    h.ok(
        &key_worker(),
        at(2026, 3, 10),
        draft_without_near_follow_up(ActKind::LssDailyActivity),
    );
    assert!(overdue_kinds(&h, date(2026, 3, 10)).is_empty());
    assert_eq!(overdue_kinds(&h, date(2026, 3, 11)), [(DueKind::Submit, 1)]);
    h.ok(&key_worker(), at(2026, 3, 11), submit(1));
    assert!(overdue_kinds(&h, date(2026, 3, 11)).is_empty());
    // An update must be sent too.
    let mut c = content(ActKind::LssDailyActivity);
    c.follow_up.on = Some(date(2030, 1, 1));
    h.ok(
        &key_worker(),
        at(2026, 6, 1),
        Command::Revise {
            plan: plan_id(),
            reason: RevisionReason::ClientWish,
            note: String::new(),
            content: c,
        },
    );
    assert_eq!(overdue_kinds(&h, date(2026, 6, 3)), [(DueKind::Submit, 2)]);
    h.ok(&key_worker(), at(2026, 6, 3), submit(2));
    // At least yearly, counted from the first version.
    assert!(overdue_kinds(&h, date(2027, 3, 10)).is_empty());
    assert_eq!(
        overdue_kinds(&h, date(2027, 3, 11)),
        [(DueKind::FollowUp, 1)]
    );
}

#[test]
fn housing_support_needs_a_new_plan_at_least_yearly_and_is_not_sent_004() {
    let mut h = Harness::ordered(ActKind::HousingSupport, at(2026, 3, 1));
    assert_eq!(overdue_kinds(&h, date(2026, 3, 16)), [(DueKind::DrawUp, 1)]);
    h.ok(
        &key_worker(),
        at(2026, 3, 10),
        draft_without_near_follow_up(ActKind::HousingSupport),
    );
    assert!(
        overdue_kinds(&h, date(2027, 3, 10)).is_empty(),
        "nothing is sent in 004"
    );
    assert_eq!(
        overdue_kinds(&h, date(2027, 3, 12)),
        [(DueKind::FollowUp, 2)]
    );
}

#[test]
fn a_new_decision_restarts_the_draw_up_and_submit_clocks_001() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 10), draft(ActKind::HomeCare));
    h.ok(&key_worker(), at(2026, 3, 10), submit(1));
    h.ok(
        &officer(),
        at(2026, 5, 1),
        receive_order(ActKind::HomeCare, "best-2", date(2026, 5, 1)),
    );
    assert_eq!(
        overdue_kinds(&h, date(2026, 5, 17)),
        [(DueKind::DrawUp, 2), (DueKind::Submit, 1)]
    );
    h.ok(
        &key_worker(),
        at(2026, 5, 17),
        revise(ActKind::HomeCare, RevisionReason::NewDecision),
    );
    h.ok(&key_worker(), at(2026, 5, 17), submit(2));
    assert!(overdue_kinds(&h, date(2026, 5, 17)).is_empty());
    let late: Vec<_> = h
        .state
        .due_dates(&policy())
        .iter()
        .filter_map(|d| d.met_late_by())
        .collect();
    assert_eq!(late, [2, 1]);
}

#[test]
fn monthly_review_by_the_key_worker_when_the_policy_asks_for_it_002() {
    let policy = DeadlinePolicy::from_toml("[all]\nreview_every_months = 1\n").unwrap();
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 10), draft(ActKind::HomeCare));
    h.ok(&key_worker(), at(2026, 3, 10), submit(1));
    let review_due = |h: &Harness| {
        h.state
            .due_dates(&policy)
            .into_iter()
            .find(|d| d.kind == DueKind::Review)
            .unwrap()
            .due_on
    };
    assert_eq!(review_due(&h), date(2026, 4, 10));
    let over: Vec<_> = h
        .state
        .overdue(&policy, date(2026, 4, 13))
        .iter()
        .map(|o| (o.kind, o.days_late))
        .collect();
    assert_eq!(over, [(DueKind::Review, 3)]);
    h.ok(&key_worker(), at(2026, 4, 8), review(1));
    assert_eq!(review_due(&h), date(2026, 5, 8));
    // A revision is documented as "drawn up / revised / reviewed": it restarts the month.
    h.ok(
        &key_worker(),
        at(2026, 5, 1),
        revise(ActKind::HomeCare, RevisionReason::ClientWish),
    );
    assert_eq!(review_due(&h), date(2026, 6, 1));
    // Without the policy there is no review deadline (docs/DOMAIN.md's table: "—").
    assert!(
        h.state
            .due_dates(&DeadlinePolicy::default())
            .iter()
            .all(|d| d.kind != DueKind::Review)
    );
}

#[test]
fn an_undelivered_supplement_is_overdue_after_its_due_date_001() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 10), draft(ActKind::HomeCare));
    h.ok(&key_worker(), at(2026, 3, 10), submit(1));
    h.ok(
        &officer(),
        at(2026, 3, 12),
        request_supplement(1, date(2026, 3, 19)),
    );
    assert!(overdue_kinds(&h, date(2026, 3, 19)).is_empty());
    assert_eq!(
        overdue_kinds(&h, date(2026, 3, 21)),
        [(DueKind::Supplement, 2)]
    );
    h.ok(&key_worker(), at(2026, 3, 22), provide_supplement(1));
    assert!(overdue_kinds(&h, date(2026, 3, 22)).is_empty());
    let s = h
        .state
        .due_dates(&policy())
        .into_iter()
        .find(|d| d.kind == DueKind::Supplement)
        .unwrap();
    assert_eq!(s.met_late_by(), Some(3));
}

#[test]
fn a_closed_plan_has_nothing_overdue() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(
        &manager(),
        at(2026, 3, 5),
        close(CloseReason::Deceased, date(2026, 3, 4)),
    );
    assert!(overdue_kinds(&h, date(2026, 4, 1)).is_empty());
    assert!(
        !h.state.due_dates(&policy()).is_empty(),
        "history keeps its deadlines"
    );
}

proptest! {
    #[test]
    fn overdue_is_exactly_the_unmet_deadlines_before_the_date_001(
        draft_after in 0u32..40,
        check_after in 0u32..60,
    ) {
        let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
        let drafted = date(2026, 3, 1) + chrono::Days::new(u64::from(draft_after));
        h.ok(&key_worker(), chrono::TimeZone::from_utc_datetime(&chrono::Utc, &drafted.and_hms_opt(9, 0, 0).unwrap()), draft(ActKind::HomeCare));
        let check = date(2026, 3, 1) + chrono::Days::new(u64::from(check_after));
        let over = h.state.overdue(&policy(), check);
        let draw_up_late = over.iter().find(|o| o.kind == DueKind::DrawUp).map(|o| o.days_late);
        let expected = (check > date(2026, 3, 15) && drafted > check)
            .then(|| (check - date(2026, 3, 15)).num_days());
        prop_assert_eq!(draw_up_late, expected);
        for o in &over {
            prop_assert!(o.days_late > 0);
            prop_assert_eq!(o.days_late, (check - o.due_on).num_days());
        }
        let met_late = h.state.due_dates(&policy())[0].met_late_by();
        prop_assert_eq!(met_late, (draft_after > 14).then_some(i64::from(draft_after) - 14));
    }
}

/// Issue 20: a revision follows the same path as the first version. Seed 001 makes a
/// plan at every change of an earlier plan and gives each 15 days to reach the case
/// officer; seed 003 hands every updated plan to the authority.
#[test]
fn an_unsent_revision_is_overdue_after_the_revision_deadline_001_003() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 10), draft(ActKind::HomeCare));
    h.ok(&key_worker(), at(2026, 3, 11), submit(1));
    h.ok(&officer(), at(2026, 3, 12), approve(1));
    h.ok(
        &key_worker(),
        at(2026, 6, 1),
        revise(ActKind::HomeCare, RevisionReason::ChangedNeeds),
    );
    // Recorded 1 June: sent by 16 June.
    assert!(overdue_kinds(&h, date(2026, 6, 16)).is_empty());
    assert_eq!(overdue_kinds(&h, date(2026, 6, 18)), [(DueKind::Submit, 2)]);
    let over = h.state.overdue(&policy(), date(2026, 6, 18));
    assert_eq!(
        (over[0].version, over[0].due_on),
        (Some(2), date(2026, 6, 16))
    );
    h.ok(&key_worker(), at(2026, 6, 19), submit(2));
    assert!(overdue_kinds(&h, date(2026, 6, 19)).is_empty());
    let late: Vec<_> = h
        .state
        .due_dates(&policy())
        .iter()
        .filter_map(|d| d.met_late_by().map(|days| (d.kind, d.version, days)))
        .collect();
    assert_eq!(late, [(DueKind::Submit, Some(2), 3)]);
    // Version 1 keeps its approval.
    assert!(h.state.version(1).unwrap().approved.is_some());
    // With the key off, a revision has no sending deadline.
    let off = DeadlinePolicy::from_toml("[home_care]\nsubmit_revision_days = \"off\"\n").unwrap();
    assert!(
        h.state
            .due_dates(&off)
            .iter()
            .all(|d| d.version != Some(2) || d.kind != DueKind::Submit)
    );
}

#[test]
fn a_revision_replaced_before_it_was_sent_leaves_the_deadline_to_its_successor_001() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 10), draft(ActKind::HomeCare));
    h.ok(&key_worker(), at(2026, 3, 11), submit(1));
    h.ok(
        &key_worker(),
        at(2026, 6, 1),
        revise(ActKind::HomeCare, RevisionReason::ChangedNeeds),
    );
    h.ok(
        &key_worker(),
        at(2026, 6, 10),
        revise(ActKind::HomeCare, RevisionReason::ClientWish),
    );
    let over = h.state.overdue(&policy(), date(2026, 6, 30));
    let got: Vec<_> = over.iter().map(|o| (o.kind, o.version, o.due_on)).collect();
    assert_eq!(got, [(DueKind::Submit, Some(3), date(2026, 6, 25))]);
}
