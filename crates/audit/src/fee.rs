//! The new-client fee (ny kund-ersättning, seed 001): which new home-care clients
//! qualify, and why the others do not. The rule is about a new client's first plan
//! (the first version sent, counted from the first order); revisions go to the
//! authority too, but neither earn nor lose the fee.

use chrono::NaiveDate;
use planledger_plan::{ActKind, DeadlinePolicy, FeeReason, PlanId, UnitId};
use planledger_projection::Plans;
use serde::Serialize;

use crate::error::AuditError;
use crate::render::{Column, Lang, Row};
use crate::{Scope, text};

/// One home-care plan and whether its new-client fee is payable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeeRow {
    pub plan: PlanId,
    pub unit: UnitId,
    pub client: String,
    /// The day the first order was received (the fee's clock starts there).
    pub ordered_on: NaiveDate,
    /// The day the first plan was sent, if it was ([`planledger_plan::PlanState::first_sent`],
    /// the same "sent" as the overview's).
    pub submitted_on: Option<NaiveDate>,
    pub payable: bool,
    pub reason: FeeReason,
}

/// Every home-care plan ordered by the scope's date, with the fee decision as of that
/// date; the payable ones first, then by plan.
pub fn new_client_fee(
    plans: &dyn Plans,
    policy: &DeadlinePolicy,
    scope: &Scope,
) -> Result<Vec<FeeRow>, AuditError> {
    let mut rows = Vec::new();
    scope.each_plan(plans, &mut |p| {
        if p.state.act() != Some(ActKind::HomeCare) {
            return;
        }
        let Some(order) = p.state.orders().first() else {
            return;
        };
        let decision = p.state.new_client_fee(policy);
        rows.push(FeeRow {
            plan: p.id().clone(),
            unit: p.unit.clone(),
            client: scope.client_label(&p.client),
            ordered_on: order.received_on,
            submitted_on: p.state.first_sent().map(|(_, on)| on),
            payable: decision.payable,
            reason: decision.reason,
        });
    })?;
    rows.sort_by(|a, b| b.payable.cmp(&a.payable).then_with(|| a.plan.cmp(&b.plan)));
    Ok(rows)
}

impl Row for FeeRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("plan", "plan", "plan"),
            Column::new("unit", "enhet", "unit"),
            Column::new("client", "personnummer", "personal id"),
            Column::new("ordered_on", "beställning", "ordered"),
            Column::new("submitted_on", "första plan skickad", "first plan sent"),
            Column::new("payable", "ersättning", "fee payable"),
            Column::new("reason", "skäl", "reason"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        vec![
            self.plan.to_string(),
            self.unit.to_string(),
            self.client.clone(),
            self.ordered_on.to_string(),
            text::date(self.submitted_on),
            text::yes_no(lang, self.payable),
            text::fee_reason(lang, &self.reason),
        ]
    }
}

#[cfg(test)]
mod tests {
    use planledger_app::testkit::*;
    use planledger_plan::Command;

    use super::*;
    use crate::{Format, render_to_string};

    #[test]
    fn the_fee_is_payable_only_when_sent_within_15_days_and_approved_or_supplemented() {
        let s = Scenario::new();
        let u = unit("hemtjanst-norr");
        // Ordered 1 March: the plan must be sent by 16 March (001).
        let plans = [
            ("fee-approved", 2, Some(10)),
            ("fee-late", 3, Some(18)),
            ("fee-supplement", 4, Some(12)),
            ("fee-waiting", 5, Some(16)),
            ("fee-unsent", 6, None),
        ];
        for (id, n, sent) in plans {
            let p = plan(id);
            s.ok(
                &officer(),
                at(2026, 3, 1),
                order(&p, ActKind::HomeCare, &u, client(n), date(2026, 3, 1)),
            );
            s.ok(
                &key_worker(),
                at(2026, 3, 9),
                Command::Draft {
                    plan: p.clone(),
                    content: content(ActKind::HomeCare, &u, client(n), date(2026, 3, 9)),
                },
            );
            if let Some(day) = sent {
                s.ok(
                    &key_worker(),
                    at(2026, 3, day),
                    Command::Submit {
                        plan: p.clone(),
                        version: 1,
                    },
                );
            }
        }
        for id in ["fee-approved", "fee-late"] {
            s.ok(
                &officer(),
                at(2026, 3, 19),
                Command::Approve {
                    plan: plan(id),
                    version: 1,
                },
            );
        }
        let sup = plan("fee-supplement");
        s.ok(
            &officer(),
            at(2026, 3, 13),
            Command::RequestSupplement {
                plan: sup.clone(),
                version: 1,
                reason: "Ange tider för städning".into(),
                due_on: date(2026, 3, 20),
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 18),
            Command::ProvideSupplement {
                plan: sup,
                version: 1,
                note: "Tider tillagda".into(),
            },
        );
        // An LSS plan is not a home-care client: not listed.
        s.ok(
            &officer(),
            at(2026, 3, 1),
            order(
                &plan("lss"),
                ActKind::LssDailyActivity,
                &u,
                client(7),
                date(2026, 3, 1),
            ),
        );
        let p = s.projection();
        let policy = DeadlinePolicy::default();
        let rows = new_client_fee(&p, &policy, &Scope::new(date(2026, 3, 31))).unwrap();
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.plan.as_str(), r.payable, r.reason.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "fee-approved",
                    true,
                    FeeReason::Approved {
                        approved_on: date(2026, 3, 19)
                    }
                ),
                (
                    "fee-supplement",
                    true,
                    FeeReason::Supplemented {
                        provided_on: date(2026, 3, 18)
                    }
                ),
                (
                    "fee-late",
                    false,
                    FeeReason::SubmittedLate {
                        submitted_on: date(2026, 3, 18),
                        due_on: date(2026, 3, 16),
                        days_late: 2
                    }
                ),
                (
                    "fee-unsent",
                    false,
                    FeeReason::NotSubmitted {
                        due_on: date(2026, 3, 16)
                    }
                ),
                ("fee-waiting", false, FeeReason::AwaitingDecision),
            ]
        );
        // As of 15 March the approval had not happened: nothing was payable yet.
        let early = new_client_fee(&p, &policy, &Scope::new(date(2026, 3, 15))).unwrap();
        assert!(early.iter().all(|r| !r.payable));
        let sv = render_to_string(&rows[2..3], Format::Csv, Lang::Sv).unwrap();
        assert!(
            sv.ends_with(
                ",2026-03-01,2026-03-18,nej,\"första planen skickad 2026-03-18, 2 dagar efter sista dag 2026-03-16\"\n"
            ),
            "{sv}"
        );
    }
}
