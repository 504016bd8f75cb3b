//! Self-monitoring (egenkontroll) of the current versions: unsigned, unapproved,
//! incomplete.

use chrono::NaiveDate;
use planledger_plan::{ActKind, AuthorityState, Gap, PlanId, SignatureRequirement, UnitId};
use planledger_projection::Projection;
use serde::Serialize;

use crate::render::{Column, Lang, Row};
use crate::scope::day_of;
use crate::{Scope, text};

/// A current version without the signature its act requires (000, 001, 004).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnsignedRow {
    pub plan: PlanId,
    pub unit: UnitId,
    pub act: ActKind,
    pub client: String,
    pub version: u32,
    pub required: SignatureRequirement,
    /// The day the version was recorded.
    pub recorded_on: NaiveDate,
    /// Days from then to the scope's date.
    pub days_unsigned: i64,
}

/// Open plans whose current version lacks its required signature, the longest waiting
/// first.
pub fn unsigned(projection: &Projection, scope: &Scope) -> Vec<UnsignedRow> {
    let mut rows = Vec::new();
    for p in scope.plans(projection) {
        if p.state.closed().is_some() {
            continue;
        }
        let (Some(act), Some(v)) = (p.state.act(), p.state.current_version()) else {
            continue;
        };
        let required = act.required_signature();
        if v.is_signed(required) {
            continue;
        }
        let recorded_on = day_of(v.recorded_at);
        rows.push(UnsignedRow {
            plan: p.id().clone(),
            unit: p.unit.clone(),
            act,
            client: scope.client_label(&p.client),
            version: v.number,
            required,
            recorded_on,
            days_unsigned: (scope.as_of - recorded_on).num_days(),
        });
    }
    rows.sort_by(|a, b| {
        b.days_unsigned
            .cmp(&a.days_unsigned)
            .then_with(|| a.plan.cmp(&b.plan))
    });
    rows
}

impl Row for UnsignedRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("plan", "plan", "plan"),
            Column::new("unit", "enhet", "unit"),
            Column::new("act", "insatsform", "act"),
            Column::new("client", "personnummer", "personal id"),
            Column::new("version", "version", "version"),
            Column::new("required", "ska signeras av", "to be signed by"),
            Column::new("recorded_on", "upprättad", "recorded"),
            Column::new("days_unsigned", "dagar osignerad", "days unsigned"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        vec![
            self.plan.to_string(),
            self.unit.to_string(),
            text::act(lang, self.act).to_owned(),
            self.client.clone(),
            self.version.to_string(),
            text::signature_requirement(lang, self.required).to_owned(),
            self.recorded_on.to_string(),
            self.days_unsigned.to_string(),
        ]
    }
}

/// Where a sent plan stands with the case officer, short of approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Waiting {
    /// Sent; the case officer has not decided.
    Decision,
    /// The case officer asked for a supplement by `due_on`; not delivered.
    Supplement { due_on: NaiveDate },
    /// The supplement was delivered; the case officer has not decided.
    DecisionAfterSupplement,
}

/// A plan sent to the authority and not approved (001).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnapprovedRow {
    pub plan: PlanId,
    pub unit: UnitId,
    pub act: ActKind,
    pub client: String,
    /// The version last sent.
    pub version: u32,
    /// The day it was last sent (or supplemented).
    pub submitted_on: NaiveDate,
    pub waiting: Waiting,
    pub days_waiting: i64,
}

/// Open plans whose latest submission is not approved, the longest waiting first.
pub fn unapproved(projection: &Projection, scope: &Scope) -> Vec<UnapprovedRow> {
    let mut rows = Vec::new();
    for p in scope.plans(projection) {
        if p.state.closed().is_some() {
            continue;
        }
        let Some(act) = p.state.act() else { continue };
        let (version, waiting) = match p.state.authority_state() {
            AuthorityState::NotSubmitted | AuthorityState::Approved { .. } => continue,
            AuthorityState::Submitted { version } => (version, Waiting::Decision),
            AuthorityState::SupplementRequested { version, due_on } => {
                (version, Waiting::Supplement { due_on })
            }
            AuthorityState::SupplementProvided { version } => {
                (version, Waiting::DecisionAfterSupplement)
            }
        };
        let Some(last) = p.state.submissions().last() else {
            continue;
        };
        let submitted_on = day_of(last.stamp.at);
        rows.push(UnapprovedRow {
            plan: p.id().clone(),
            unit: p.unit.clone(),
            act,
            client: scope.client_label(&p.client),
            version,
            submitted_on,
            waiting,
            days_waiting: (scope.as_of - submitted_on).num_days(),
        });
    }
    rows.sort_by(|a, b| {
        b.days_waiting
            .cmp(&a.days_waiting)
            .then_with(|| a.plan.cmp(&b.plan))
    });
    rows
}

impl Row for UnapprovedRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("plan", "plan", "plan"),
            Column::new("unit", "enhet", "unit"),
            Column::new("act", "insatsform", "act"),
            Column::new("client", "personnummer", "personal id"),
            Column::new("version", "version", "version"),
            Column::new("submitted_on", "skickad", "sent"),
            Column::new("waiting", "väntar på", "waiting for"),
            Column::new("days_waiting", "dagar", "days"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        let waiting = match self.waiting {
            Waiting::Decision => lang.pick("beslut", "decision").to_owned(),
            Waiting::Supplement { due_on } => format!(
                "{} {due_on}",
                lang.pick("komplettering senast", "supplement due")
            ),
            Waiting::DecisionAfterSupplement => lang
                .pick("beslut efter komplettering", "decision after supplement")
                .to_owned(),
        };
        vec![
            self.plan.to_string(),
            self.unit.to_string(),
            text::act(lang, self.act).to_owned(),
            self.client.clone(),
            self.version.to_string(),
            self.submitted_on.to_string(),
            waiting,
            self.days_waiting.to_string(),
        ]
    }
}

/// The current version of a plan and what it lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncompleteRow {
    pub plan: PlanId,
    pub unit: UnitId,
    pub act: ActKind,
    pub client: String,
    pub version: u32,
    /// What is missing or too vague, signatures included, in the order of the plan.
    pub gaps: Vec<Gap>,
}

/// Open plans whose current version has completeness gaps (the seeds' required
/// contents for its act, and its signature), by plan.
pub fn incomplete(projection: &Projection, scope: &Scope) -> Vec<IncompleteRow> {
    let mut rows = Vec::new();
    for p in scope.plans(projection) {
        if p.state.closed().is_some() {
            continue;
        }
        let (Some(act), Some(v)) = (p.state.act(), p.state.current_version()) else {
            continue;
        };
        let gaps = p.state.gaps(v.number);
        if gaps.is_empty() {
            continue;
        }
        rows.push(IncompleteRow {
            plan: p.id().clone(),
            unit: p.unit.clone(),
            act,
            client: scope.client_label(&p.client),
            version: v.number,
            gaps,
        });
    }
    rows
}

impl Row for IncompleteRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("plan", "plan", "plan"),
            Column::new("unit", "enhet", "unit"),
            Column::new("act", "insatsform", "act"),
            Column::new("client", "personnummer", "personal id"),
            Column::new("version", "version", "version"),
            Column::new("gap_count", "brister", "gaps"),
            Column::new("gaps", "vad som saknas", "what is missing"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        let gaps: Vec<String> = self.gaps.iter().map(|g| text::gap(lang, g)).collect();
        vec![
            self.plan.to_string(),
            self.unit.to_string(),
            text::act(lang, self.act).to_owned(),
            self.client.clone(),
            self.version.to_string(),
            self.gaps.len().to_string(),
            gaps.join("; "),
        ]
    }
}

#[cfg(test)]
mod tests {
    use planledger_app::testkit::*;
    use planledger_plan::{Command, ServiceField, Signer};

    use super::*;
    use crate::{Format, render_to_string};

    /// plan-1: signed, sent, approved. plan-2: unsigned, sent, supplement asked.
    /// plan-3: unsigned, with two gaps, not sent. plan-4: housing support signed by the
    /// client only (it needs a staff member, 004).
    fn scenario() -> Scenario {
        let s = Scenario::new();
        let u = unit("hemtjanst-norr");
        for (n, id) in [(2, "plan-1"), (3, "plan-2"), (4, "plan-3")] {
            let p = plan(id);
            s.ok(
                &officer(),
                at(2026, 3, 2),
                order(&p, ActKind::HomeCare, &u, client(n), date(2026, 3, 2)),
            );
            let mut c = content(ActKind::HomeCare, &u, client(n), date(2026, 3, 9));
            if id == "plan-3" {
                c.services[0].who = String::new();
                c.follow_up.on = None;
            }
            s.ok(
                &key_worker(),
                at(2026, 3, 9),
                Command::Draft {
                    plan: p.clone(),
                    content: c,
                },
            );
        }
        let one = plan("plan-1");
        s.ok(
            &key_worker(),
            at(2026, 3, 10),
            Command::Sign {
                plan: one.clone(),
                version: 1,
                signer: Signer::Client,
            },
        );
        for id in ["plan-1", "plan-2"] {
            s.ok(
                &key_worker(),
                at(2026, 3, 11),
                Command::Submit {
                    plan: plan(id),
                    version: 1,
                },
            );
        }
        s.ok(
            &officer(),
            at(2026, 3, 13),
            Command::Approve {
                plan: one,
                version: 1,
            },
        );
        s.ok(
            &officer(),
            at(2026, 3, 14),
            Command::RequestSupplement {
                plan: plan("plan-2"),
                version: 1,
                reason: "Ange tider för inköp".into(),
                due_on: date(2026, 3, 24),
            },
        );
        let four = plan("plan-4");
        let bo = unit("boendestod-syd");
        s.ok(
            &officer(),
            at(2026, 3, 2),
            order(
                &four,
                ActKind::HousingSupport,
                &bo,
                client(5),
                date(2026, 3, 2),
            ),
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 12),
            Command::Draft {
                plan: four.clone(),
                content: content(ActKind::HousingSupport, &bo, client(5), date(2026, 3, 12)),
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 12),
            Command::Sign {
                plan: four,
                version: 1,
                signer: Signer::Client,
            },
        );
        s
    }

    #[test]
    fn unsigned_lists_current_versions_without_the_signature_their_act_requires() {
        let p = scenario().projection();
        let rows = unsigned(&p, &Scope::new(date(2026, 3, 20)));
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.plan.as_str(), r.required, r.days_unsigned))
            .collect();
        assert_eq!(
            got,
            [
                ("plan-2", SignatureRequirement::ClientOrRepresentative, 11),
                ("plan-3", SignatureRequirement::ClientOrRepresentative, 11),
                ("plan-4", SignatureRequirement::StaffMember, 8),
            ]
        );
        // As of before plan-1 was signed, it is unsigned too.
        let before = unsigned(&p, &Scope::new(date(2026, 3, 9)));
        assert_eq!(before.len(), 3);
        assert!(before.iter().any(|r| r.plan.as_str() == "plan-1"));
        let csv = render_to_string(&rows[2..], Format::Csv, Lang::Sv).unwrap();
        assert!(csv.ends_with(",medarbetare,2026-03-12,8\n"), "{csv}");
    }

    #[test]
    fn unapproved_lists_sent_plans_awaiting_the_case_officer_or_a_supplement() {
        let p = scenario().projection();
        let rows = unapproved(&p, &Scope::new(date(2026, 3, 20)));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].plan.as_str(), "plan-2");
        assert_eq!(
            rows[0].waiting,
            Waiting::Supplement {
                due_on: date(2026, 3, 24)
            }
        );
        assert_eq!(
            (rows[0].submitted_on, rows[0].days_waiting),
            (date(2026, 3, 11), 9)
        );
        // As of 12 March both were sent and neither decided.
        let earlier = unapproved(&p, &Scope::new(date(2026, 3, 12)));
        let got: Vec<_> = earlier
            .iter()
            .map(|r| (r.plan.as_str(), r.waiting))
            .collect();
        assert_eq!(
            got,
            [("plan-1", Waiting::Decision), ("plan-2", Waiting::Decision)]
        );
        let table = render_to_string(&rows, Format::Table, Lang::En).unwrap();
        assert!(table.contains("supplement due 2026-03-24"), "{table}");
    }

    #[test]
    fn incomplete_lists_the_gaps_of_each_current_version() {
        let p = scenario().projection();
        let rows = incomplete(&p, &Scope::new(date(2026, 3, 20)));
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.plan.as_str(), r.gaps.clone()))
            .collect();
        let unsigned = Gap::Unsigned {
            required: SignatureRequirement::ClientOrRepresentative,
        };
        assert_eq!(
            got,
            [
                ("plan-2", vec![unsigned]),
                (
                    "plan-3",
                    vec![
                        Gap::Service {
                            service: 1,
                            field: ServiceField::Who
                        },
                        Gap::FollowUpDate,
                        unsigned,
                    ]
                ),
                (
                    "plan-4",
                    vec![Gap::Unsigned {
                        required: SignatureRequirement::StaffMember
                    }]
                ),
            ]
        );
        let sv = render_to_string(&rows[1..2], Format::Csv, Lang::Sv).unwrap();
        assert!(
            sv.contains(
                ",3,insats 1 anger inte vem; datum för uppföljning saknas; \
                 versionen är inte signerad av kunden eller god man/förvaltare\n"
            ),
            "{sv}"
        );
        let json = render_to_string(&rows[1..2], Format::Json, Lang::Sv).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[0]["gaps"][1]["gap"], "follow_up_date");
    }
}
