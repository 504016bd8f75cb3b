//! Self-monitoring (egenkontroll) of the current versions: unsigned, unapproved,
//! incomplete.

use chrono::NaiveDate;
use planledger_plan::{
    ActKind, AuthorityState, DeadlinePolicy, Gap, PlanId, PlanState, SignatureRequirement, UnitId,
};
use planledger_projection::Plans;
use serde::Serialize;

use crate::error::AuditError;
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
pub fn unsigned(plans: &dyn Plans, scope: &Scope) -> Result<Vec<UnsignedRow>, AuditError> {
    let mut rows = Vec::new();
    scope.each_plan(plans, &mut |p| {
        if p.state.closed().is_some() {
            return;
        }
        let (Some(act), Some(v)) = (p.state.act(), p.state.current_version()) else {
            return;
        };
        let required = act.required_signature();
        if v.is_signed(required) {
            return;
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
    })?;
    rows.sort_by(|a, b| {
        b.days_unsigned
            .cmp(&a.days_unsigned)
            .then_with(|| a.plan.cmp(&b.plan))
    });
    Ok(rows)
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

/// What the current version of a plan waits for on its way to approval. Every version
/// follows the same path (issue 20): drawn up, signed, sent, then approved, or a
/// supplement asked for and delivered and then decided (001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Waiting {
    /// Ordered; no version drawn up yet.
    DrawingUp,
    /// Drawn up, not sent, and without the signature its act requires.
    Signature,
    /// Drawn up (and signed), not sent to the authority.
    Sending,
    /// Sent; the case officer has not decided.
    Decision,
    /// The case officer asked for a supplement by `due_on`; not delivered.
    Supplement { due_on: NaiveDate },
    /// The supplement was delivered; the case officer has not decided.
    DecisionAfterSupplement,
}

/// The current version of an open plan that is not approved, and what it waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnapprovedRow {
    pub plan: PlanId,
    pub unit: UnitId,
    pub act: ActKind,
    pub client: String,
    /// The current version; `None` while none is drawn up.
    pub version: Option<u32>,
    /// The day the current version was sent ([`planledger_plan::PlanState::sent_on`]),
    /// if it was.
    pub submitted_on: Option<NaiveDate>,
    pub waiting: Waiting,
    /// The day it began to wait for that: the order, the version's recording, its
    /// sending, the supplement's request or its delivery.
    pub since: NaiveDate,
    /// Days from `since` to the scope's date.
    pub days_waiting: i64,
}

/// Open plans whose current version is not approved, with what each waits for, the
/// longest waiting first. A plan whose current version is approved is not listed,
/// whatever its earlier versions were; an approved version 1 does not cover an unsent
/// version 2. Plans of an act whose `policy` sends nothing to the authority (housing
/// support by default) are listed only once a version was sent anyway.
pub fn unapproved(
    plans: &dyn Plans,
    policy: &DeadlinePolicy,
    scope: &Scope,
) -> Result<Vec<UnapprovedRow>, AuditError> {
    let mut rows = Vec::new();
    scope.each_plan(plans, &mut |p| {
        let s = &p.state;
        if s.closed().is_some() {
            return;
        }
        let Some(act) = s.act() else { return };
        let Some((waiting, since)) = waiting_for(s) else {
            return;
        };
        if !policy.for_act(act).sends_to_authority() && s.submissions().is_empty() {
            return;
        }
        let current = s.current_version();
        rows.push(UnapprovedRow {
            plan: p.id().clone(),
            unit: p.unit.clone(),
            act,
            client: scope.client_label(&p.client),
            version: current.map(|v| v.number),
            submitted_on: current.and_then(|v| s.sent_on(v.number)),
            waiting,
            since,
            days_waiting: (scope.as_of - since).num_days(),
        });
    })?;
    rows.sort_by(|a, b| {
        b.days_waiting
            .cmp(&a.days_waiting)
            .then_with(|| a.plan.cmp(&b.plan))
    });
    Ok(rows)
}

/// What the plan's current version waits for, and since when; `None` once approved.
fn waiting_for(s: &PlanState) -> Option<(Waiting, NaiveDate)> {
    let Some(v) = s.current_version() else {
        let ordered = s.orders().first()?;
        return Some((Waiting::DrawingUp, ordered.received_on));
    };
    if v.approved.is_some() {
        return None;
    }
    // A supplement asked for is outstanding whichever version it was asked of: the
    // case officer waits for it before deciding anything.
    if let Some(open) = s.open_supplement() {
        return Some((
            Waiting::Supplement {
                due_on: open.due_on,
            },
            day_of(open.requested.at),
        ));
    }
    match s.authority_state() {
        AuthorityState::Submitted { version } if version == v.number => {
            let sent = s
                .submissions()
                .iter()
                .rev()
                .find(|x| x.version == version)?;
            return Some((Waiting::Decision, day_of(sent.stamp.at)));
        }
        AuthorityState::SupplementProvided { version } if version == v.number => {
            let provided = s
                .supplements()
                .iter()
                .rev()
                .find_map(|x| x.provided.as_ref())?;
            return Some((Waiting::DecisionAfterSupplement, day_of(provided.stamp.at)));
        }
        _ => {}
    }
    let required = s.act()?.required_signature();
    let waiting = if v.is_signed(required) {
        Waiting::Sending
    } else {
        Waiting::Signature
    };
    Some((waiting, v.recorded_on()))
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
            Column::new("since", "sedan", "since"),
            Column::new("days_waiting", "dagar", "days"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        let waiting = match self.waiting {
            Waiting::DrawingUp => lang.pick("upprättande", "drawing up").to_owned(),
            Waiting::Signature => lang.pick("signatur", "signature").to_owned(),
            Waiting::Sending => lang
                .pick(
                    "att skickas till handläggare",
                    "sending to the case officer",
                )
                .to_owned(),
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
            text::opt(self.version),
            text::date(self.submitted_on),
            waiting,
            self.since.to_string(),
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
pub fn incomplete(plans: &dyn Plans, scope: &Scope) -> Result<Vec<IncompleteRow>, AuditError> {
    let mut rows = Vec::new();
    scope.each_plan(plans, &mut |p| {
        if p.state.closed().is_some() {
            return;
        }
        let (Some(act), Some(v)) = (p.state.act(), p.state.current_version()) else {
            return;
        };
        let gaps = p.state.gaps(v.number);
        if gaps.is_empty() {
            return;
        }
        rows.push(IncompleteRow {
            plan: p.id().clone(),
            unit: p.unit.clone(),
            act,
            client: scope.client_label(&p.client),
            version: v.number,
            gaps,
        });
    })?;
    Ok(rows)
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
    use chrono::{DateTime, Utc};
    use planledger_app::testkit::*;
    use planledger_plan::{Command, DeadlinePolicy, DueKind, RevisionReason, ServiceField, Signer};

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
        let rows = unsigned(&p, &Scope::new(date(2026, 3, 20))).unwrap();
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
        let before = unsigned(&p, &Scope::new(date(2026, 3, 9))).unwrap();
        assert_eq!(before.len(), 3);
        assert!(before.iter().any(|r| r.plan.as_str() == "plan-1"));
        let csv = render_to_string(&rows[2..], Format::Csv, Lang::Sv).unwrap();
        assert!(csv.ends_with(",medarbetare,2026-03-12,8\n"), "{csv}");
    }

    #[test]
    fn unapproved_lists_each_current_version_not_approved_with_what_it_waits_for() {
        let p = scenario().projection();
        let rows = unapproved(
            &p,
            &DeadlinePolicy::default(),
            &Scope::new(date(2026, 3, 20)),
        )
        .unwrap();
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.plan.as_str(),
                    r.version,
                    r.waiting,
                    r.since,
                    r.days_waiting,
                )
            })
            .collect();
        // plan-1 is approved: not listed. plan-3 was never sent (the report listed only
        // sent plans before issue 20).
        assert_eq!(
            got,
            [
                ("plan-3", Some(1), Waiting::Signature, date(2026, 3, 9), 11),
                (
                    "plan-2",
                    Some(1),
                    Waiting::Supplement {
                        due_on: date(2026, 3, 24)
                    },
                    date(2026, 3, 14),
                    6
                ),
            ]
        );
        assert_eq!(rows[1].submitted_on, Some(date(2026, 3, 11)));
        assert_eq!(rows[0].submitted_on, None);
        // plan-4 is housing support, whose routine (004) sends no plan to the authority:
        // it waits for no approval, unless the organisation's policy sends them.
        let sends = DeadlinePolicy::from_toml("[housing_support]\nsubmit_days_after_version = 0\n")
            .unwrap();
        let with_sending = unapproved(&p, &sends, &Scope::new(date(2026, 3, 20))).unwrap();
        let four = with_sending
            .iter()
            .find(|r| r.plan.as_str() == "plan-4")
            .unwrap();
        assert_eq!((four.waiting, four.days_waiting), (Waiting::Signature, 8));
        // As of 12 March plan-1 and plan-2 were sent and neither decided.
        let earlier = unapproved(
            &p,
            &DeadlinePolicy::default(),
            &Scope::new(date(2026, 3, 12)),
        )
        .unwrap();
        let got: Vec<_> = earlier
            .iter()
            .map(|r| (r.plan.as_str(), r.waiting))
            .collect();
        assert_eq!(
            got,
            [
                ("plan-3", Waiting::Signature),
                ("plan-1", Waiting::Decision),
                ("plan-2", Waiting::Decision),
            ]
        );
        let table = render_to_string(&rows, Format::Table, Lang::En).unwrap();
        assert!(table.contains("supplement due 2026-03-24"), "{table}");
    }

    /// Issue 20: a revision follows the same path as the first version. v1 signed,
    /// sent and approved; v2 drawn up 1 June and signed, then sent 20 June, then
    /// approved 25 June.
    fn approved_then_revised() -> Scenario {
        let s = Scenario::new();
        let u = unit("hemtjanst-norr");
        let p = plan("plan-rev");
        s.ok(
            &officer(),
            at(2026, 3, 2),
            order(&p, ActKind::HomeCare, &u, client(0), date(2026, 3, 2)),
        );
        let v1 = content(ActKind::HomeCare, &u, client(0), date(2026, 3, 9));
        s.ok(
            &key_worker(),
            at(2026, 3, 9),
            Command::Draft {
                plan: p.clone(),
                content: v1.clone(),
            },
        );
        let sign = |version, day: DateTime<Utc>| {
            s.ok(
                &key_worker(),
                day,
                Command::Sign {
                    plan: p.clone(),
                    version,
                    signer: Signer::Client,
                },
            );
        };
        sign(1, at(2026, 3, 9));
        let send = |version, day| {
            s.ok(
                &key_worker(),
                day,
                Command::Submit {
                    plan: p.clone(),
                    version,
                },
            );
        };
        send(1, at(2026, 3, 11));
        let approve = |version, day| {
            s.ok(
                &officer(),
                day,
                Command::Approve {
                    plan: p.clone(),
                    version,
                },
            );
        };
        approve(1, at(2026, 3, 13));
        let mut v2 = v1;
        v2.services[0].how = "En personal; kunden duschar sittande".into();
        s.ok(
            &key_worker(),
            at(2026, 6, 1),
            Command::Revise {
                plan: p.clone(),
                reason: RevisionReason::ChangedNeeds,
                note: String::new(),
                content: v2,
            },
        );
        sign(2, at(2026, 6, 1));
        send(2, at(2026, 6, 20));
        approve(2, at(2026, 6, 25));
        s
    }

    #[test]
    fn an_unsent_revision_of_an_approved_plan_waits_for_sending_and_is_overdue_past_its_deadline() {
        let p = approved_then_revised().projection();
        let policy = DeadlinePolicy::default();
        let waiting = |d| {
            unapproved(&p, &DeadlinePolicy::default(), &Scope::new(d))
                .unwrap()
                .iter()
                .map(|r| (r.version, r.waiting, r.days_waiting))
                .collect::<Vec<_>>()
        };
        let overdue_on = |d| {
            crate::overdue(&p, &policy, &Scope::new(d))
                .unwrap()
                .iter()
                .map(|r| (r.kind, r.version, r.due_on, r.days_late))
                .collect::<Vec<_>>()
        };
        // Ordered 2 March, nothing drawn up by the 5th.
        assert_eq!(waiting(date(2026, 3, 5)), [(None, Waiting::DrawingUp, 3)]);
        // v1 approved: nothing waits.
        assert_eq!(waiting(date(2026, 5, 31)), []);
        // v2 drawn up and signed, not sent: it waits for sending.
        assert_eq!(waiting(date(2026, 6, 10)), [(Some(2), Waiting::Sending, 9)]);
        // Home care sends a revision within 15 days (001): due 16 June.
        assert_eq!(overdue_on(date(2026, 6, 16)), []);
        assert_eq!(
            overdue_on(date(2026, 6, 19)),
            [(DueKind::Submit, Some(2), date(2026, 6, 16), 3)]
        );
        // Sent on 20 June: it waits for the case officer's decision, and met its
        // deadline late.
        assert_eq!(
            waiting(date(2026, 6, 22)),
            [(Some(2), Waiting::Decision, 2)]
        );
        assert_eq!(overdue_on(date(2026, 6, 22)), []);
        let late = crate::late(&p, &policy, &Scope::new(date(2026, 6, 22))).unwrap();
        assert_eq!(
            late.iter()
                .map(|r| (r.kind, r.version, r.days_late))
                .collect::<Vec<_>>(),
            [(DueKind::Submit, Some(2), 4)]
        );
        // Approved on 25 June: it disappears.
        assert_eq!(waiting(date(2026, 6, 25)), []);
        // Version 1's approval stays in the history.
        let h = crate::history(
            &p,
            &Scope::new(date(2026, 6, 30)),
            &crate::Subject::Plan(plan("plan-rev")),
        )
        .unwrap();
        let approvals: Vec<_> = h
            .versions
            .iter()
            .map(|v| (v.version, v.approved.as_ref().map(|a| a.at)))
            .collect();
        assert_eq!(
            approvals,
            [(1, Some(at(2026, 3, 13))), (2, Some(at(2026, 6, 25)))]
        );
    }

    #[test]
    fn incomplete_lists_the_gaps_of_each_current_version() {
        let p = scenario().projection();
        let rows = incomplete(&p, &Scope::new(date(2026, 3, 20))).unwrap();
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
