//! The new-client fee (ny kund-ersättning), seed 001: not paid unless the plan was
//! submitted within 15 days and then approved or supplemented as asked.

use crate::fixtures::*;
use planledger_plan::*;

const HC: ActKind = ActKind::HomeCare;

fn submitted_on(day: u32) -> Harness {
    let mut h = Harness::ordered(HC, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 5), draft(HC));
    h.ok(&key_worker(), at(2026, 3, day), submit(1));
    h
}

fn fee(h: &Harness) -> FeeDecision {
    h.state.new_client_fee(&DeadlinePolicy::default())
}

#[test]
fn fee_is_payable_when_submitted_within_15_days_and_approved_001() {
    let mut h = submitted_on(16); // day 15 after the order: the last day in time
    assert_eq!(
        fee(&h),
        FeeDecision {
            payable: false,
            reason: FeeReason::AwaitingDecision
        }
    );
    h.ok(&officer(), at(2026, 3, 20), approve(1));
    assert_eq!(
        fee(&h),
        FeeDecision {
            payable: true,
            reason: FeeReason::Approved {
                approved_on: date(2026, 3, 20)
            }
        }
    );
}

#[test]
fn fee_is_not_paid_when_submitted_on_day_16_even_if_approved_001() {
    let mut h = submitted_on(17);
    h.ok(&officer(), at(2026, 3, 20), approve(1));
    let f = fee(&h);
    assert!(!f.payable);
    assert_eq!(
        f.reason,
        FeeReason::SubmittedLate {
            submitted_on: date(2026, 3, 17),
            due_on: date(2026, 3, 16),
            days_late: 1
        }
    );
    assert_eq!(
        f.reason.to_string(),
        "the first plan was submitted 2026-03-17, 1 days after the deadline 2026-03-16"
    );
}

#[test]
fn fee_is_not_paid_before_the_plan_is_submitted_001() {
    let mut h = Harness::ordered(HC, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 5), draft(HC));
    assert_eq!(
        fee(&h).reason,
        FeeReason::NotSubmitted {
            due_on: date(2026, 3, 16)
        }
    );
    assert!(!fee(&h).payable);
}

#[test]
fn fee_is_payable_when_the_supplement_came_as_asked_001() {
    let mut h = submitted_on(10);
    h.ok(
        &officer(),
        at(2026, 3, 12),
        request_supplement(1, date(2026, 3, 19)),
    );
    assert_eq!(
        fee(&h).reason,
        FeeReason::SupplementOutstanding {
            due_on: date(2026, 3, 19)
        }
    );
    assert!(!fee(&h).payable);
    h.ok(&key_worker(), at(2026, 3, 19), provide_supplement(1));
    assert_eq!(
        fee(&h),
        FeeDecision {
            payable: true,
            reason: FeeReason::Supplemented {
                provided_on: date(2026, 3, 19)
            }
        }
    );
}

#[test]
fn fee_is_not_paid_when_the_supplement_came_late_unless_approved_001() {
    let mut h = submitted_on(10);
    h.ok(
        &officer(),
        at(2026, 3, 12),
        request_supplement(1, date(2026, 3, 19)),
    );
    h.ok(&key_worker(), at(2026, 3, 20), provide_supplement(1));
    assert_eq!(
        fee(&h),
        FeeDecision {
            payable: false,
            reason: FeeReason::SupplementLate {
                due_on: date(2026, 3, 19),
                provided_on: date(2026, 3, 20)
            }
        }
    );
    h.ok(&officer(), at(2026, 3, 25), approve(1));
    assert!(fee(&h).payable, "approved, so the condition holds");
}

#[test]
fn fee_is_for_home_care_only_001() {
    for act in [
        ActKind::ResidentialCare,
        ActKind::LssDailyActivity,
        ActKind::HousingSupport,
    ] {
        let mut h = Harness::ordered(act, at(2026, 3, 1));
        h.ok(&key_worker(), at(2026, 3, 5), draft(act));
        h.ok(&key_worker(), at(2026, 3, 5), submit(1));
        h.ok(&officer(), at(2026, 3, 6), approve(1));
        assert_eq!(
            fee(&h),
            FeeDecision {
                payable: false,
                reason: FeeReason::NotHomeCare { act }
            }
        );
    }
}

#[test]
fn fee_counts_the_first_order_only_not_a_later_decision_001() {
    let mut h = submitted_on(10);
    h.ok(&officer(), at(2026, 3, 12), approve(1));
    h.ok(
        &officer(),
        at(2026, 6, 1),
        receive_order(HC, "best-2", date(2026, 6, 1)),
    );
    assert!(fee(&h).payable);
}

#[test]
fn fee_follows_the_policys_submit_days() {
    let policy = DeadlinePolicy::from_toml("[home_care]\nsubmit_days_after_order = 10\n").unwrap();
    let mut h = submitted_on(12);
    h.ok(&officer(), at(2026, 3, 13), approve(1));
    assert!(!h.state.new_client_fee(&policy).payable);
    assert!(fee(&h).payable);
}

#[test]
fn fee_deadline_is_counted_in_swedish_days_001() {
    use chrono::TimeZone;
    // 23:30 UTC on 16 March is 00:30 on 17 March in Stockholm: one day late.
    let mut h = Harness::ordered(HC, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 5), draft(HC));
    let late_night = chrono::Utc
        .with_ymd_and_hms(2026, 3, 16, 23, 30, 0)
        .unwrap();
    h.ok(&key_worker(), late_night, submit(1));
    assert_eq!(
        fee(&h).reason,
        FeeReason::SubmittedLate {
            submitted_on: date(2026, 3, 17),
            due_on: date(2026, 3, 16),
            days_late: 1
        }
    );
    // 22:30 UTC is 23:30 in Stockholm: still the 16th, in time.
    let mut h = Harness::ordered(HC, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 5), draft(HC));
    let evening = chrono::Utc
        .with_ymd_and_hms(2026, 3, 16, 22, 30, 0)
        .unwrap();
    h.ok(&key_worker(), evening, submit(1));
    assert_eq!(fee(&h).reason, FeeReason::AwaitingDecision);
}
