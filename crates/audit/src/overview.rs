//! A unit's overview for an inspector: every client, the plan's status and dates, and
//! the open findings.

use chrono::NaiveDate;
use planledger_plan::{ActKind, AuthorityState, DeadlinePolicy, DueKind, PlanId, UnitId};
use planledger_projection::Plans;
use serde::Serialize;

use crate::error::AuditError;
use crate::render::{Column, Lang, Row};
use crate::scope::day_of;
use crate::{Scope, text};

/// Where a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Ordered; no version drawn up.
    AwaitingDraft,
    /// The current version is not sent to the authority.
    NotSubmitted,
    /// Sent; the case officer has not decided.
    Submitted,
    /// The case officer asked for a supplement that has not come.
    SupplementRequested,
    /// The supplement came; the case officer has not decided.
    SupplementProvided,
    /// The current version is approved.
    Approved,
    Closed,
}

impl PlanStatus {
    fn text(self, lang: Lang) -> &'static str {
        match self {
            PlanStatus::AwaitingDraft => lang.pick("ej upprättad", "not drawn up"),
            PlanStatus::NotSubmitted => lang.pick("ej skickad", "not sent"),
            PlanStatus::Submitted => lang.pick("skickad", "sent"),
            PlanStatus::SupplementRequested => {
                lang.pick("komplettering begärd", "supplement requested")
            }
            PlanStatus::SupplementProvided => lang.pick("kompletterad", "supplemented"),
            PlanStatus::Approved => lang.pick("godkänd", "approved"),
            PlanStatus::Closed => lang.pick("avslutad", "closed"),
        }
    }
}

/// One client's plan in a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverviewRow {
    pub client: String,
    pub plan: PlanId,
    pub unit: UnitId,
    pub act: ActKind,
    pub status: PlanStatus,
    /// The current version's number.
    pub version: Option<u32>,
    /// The current version's "upprättad" date (the day it was recorded if the plan
    /// does not say).
    pub drawn_up_on: Option<NaiveDate>,
    /// The latest version sent to the authority and the day it was first sent
    /// ([`planledger_plan::PlanState::last_sent`]; a supplement delivered for it later
    /// does not move the date).
    pub submitted_on: Option<NaiveDate>,
    pub submitted_version: Option<u32>,
    /// The last approval, and of which version.
    pub approved_on: Option<NaiveDate>,
    pub approved_version: Option<u32>,
    pub last_reviewed_on: Option<NaiveDate>,
    pub next_follow_up_on: Option<NaiveDate>,
    /// Deadlines passed and not met.
    pub overdue: usize,
    /// Completeness gaps of the current version (signature included).
    pub gaps: usize,
    /// Supplements asked for and not delivered.
    pub open_supplements: usize,
    /// Deviations recorded.
    pub deviations: usize,
}

/// Every plan in scope as of the scope's date, by client then plan. Closed plans are
/// listed with their status; their deadlines and gaps no longer count as open findings.
pub fn overview(
    plans: &dyn Plans,
    policy: &DeadlinePolicy,
    scope: &Scope,
) -> Result<Vec<OverviewRow>, AuditError> {
    let mut rows: Vec<(planledger_plan::Personnummer, OverviewRow)> = Vec::new();
    scope.each_plan(plans, &mut |p| {
        let s = &p.state;
        let Some(act) = s.act() else { return };
        let current = s.current_version();
        let closed = s.closed().is_some_and(|c| c.closed_on <= scope.as_of);
        let status = if closed {
            PlanStatus::Closed
        } else if s.open_supplement().is_some() {
            PlanStatus::SupplementRequested
        } else {
            match (current, s.authority_state()) {
                (None, _) => PlanStatus::AwaitingDraft,
                (Some(v), AuthorityState::Approved { version }) if version == v.number => {
                    PlanStatus::Approved
                }
                (Some(v), AuthorityState::Submitted { version }) if version == v.number => {
                    PlanStatus::Submitted
                }
                (Some(v), AuthorityState::SupplementProvided { version })
                    if version == v.number =>
                {
                    PlanStatus::SupplementProvided
                }
                (Some(_), _) => PlanStatus::NotSubmitted,
            }
        };
        // The same "sent" as the fee report's: the day a version first reached the
        // authority; a supplement delivered later does not move it (001).
        let last_sent = s.last_sent();
        let last_approval = s
            .versions()
            .iter()
            .filter_map(|v| v.approved.as_ref().map(|a| (a.at, v.number)))
            .max();
        let next_follow_up_on = s
            .due_dates(policy)
            .into_iter()
            .filter(|d| d.kind == DueKind::FollowUp && d.met_on.is_none())
            .map(|d| d.due_on)
            .min();
        let row = OverviewRow {
            client: scope.client_label(&p.client),
            plan: p.id().clone(),
            unit: p.unit.clone(),
            act,
            status,
            version: current.map(|v| v.number),
            drawn_up_on: current.map(|v| v.drawn_up_on.unwrap_or(day_of(v.recorded_at))),
            submitted_on: last_sent.map(|(_, on)| on),
            submitted_version: last_sent.map(|(n, _)| n),
            approved_on: last_approval.map(|(at, _)| day_of(at)),
            approved_version: last_approval.map(|(_, n)| n),
            last_reviewed_on: s.reviews().last().map(|r| day_of(r.stamp.at)),
            next_follow_up_on: if closed { None } else { next_follow_up_on },
            overdue: s.overdue(policy, scope.as_of).len(),
            gaps: match current {
                Some(v) if !closed => s.gaps(v.number).len(),
                _ => 0,
            },
            open_supplements: s
                .supplements()
                .iter()
                .filter(|x| x.provided.is_none())
                .count(),
            deviations: s.deviation_count() as usize,
        };
        rows.push((p.client, row));
    })?;
    rows.sort_by(|(a, ra), (b, rb)| a.cmp(b).then_with(|| ra.plan.cmp(&rb.plan)));
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

fn dated(day: Option<NaiveDate>, version: Option<u32>) -> String {
    match (day, version) {
        (Some(d), Some(v)) => format!("{d} (v{v})"),
        (d, _) => text::date(d),
    }
}

impl Row for OverviewRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("client", "personnummer", "personal id"),
            Column::new("plan", "plan", "plan"),
            Column::new("act", "insatsform", "act"),
            Column::new("status", "status", "status"),
            Column::new("version", "version", "version"),
            Column::new("drawn_up_on", "upprättad", "drawn up"),
            Column::new("submitted_on", "skickad", "sent"),
            Column::new("approved_on", "godkänd", "approved"),
            Column::new("last_reviewed_on", "senaste genomgång", "last review"),
            Column::new("next_follow_up_on", "nästa uppföljning", "next follow-up"),
            Column::new("overdue", "försenat", "overdue"),
            Column::new("gaps", "brister", "gaps"),
            Column::new("open_supplements", "kompletteringar", "supplements"),
            Column::new("deviations", "avvikelser", "deviations"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        vec![
            self.client.clone(),
            self.plan.to_string(),
            text::act(lang, self.act).to_owned(),
            self.status.text(lang).to_owned(),
            text::opt(self.version),
            text::date(self.drawn_up_on),
            dated(self.submitted_on, self.submitted_version),
            dated(self.approved_on, self.approved_version),
            text::date(self.last_reviewed_on),
            text::date(self.next_follow_up_on),
            self.overdue.to_string(),
            self.gaps.to_string(),
            self.open_supplements.to_string(),
            self.deviations.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use planledger_app::testkit::*;
    use planledger_plan::{CloseReason, Command, ReviewChecklist, Signer};

    use super::*;
    use crate::{Format, render_to_string};

    #[test]
    fn the_overview_lists_every_client_of_the_unit_with_status_dates_and_findings() {
        let s = Scenario::new();
        let u = unit("hemtjanst-norr");
        let other = unit("hemtjanst-soder");
        // client 0: approved, reviewed, one deviation.
        let a = plan("plan-a");
        s.ok(
            &officer(),
            at(2026, 3, 2),
            order(&a, ActKind::HomeCare, &u, client(0), date(2026, 3, 2)),
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 9),
            Command::Draft {
                plan: a.clone(),
                content: content(ActKind::HomeCare, &u, client(0), date(2026, 3, 8)),
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 9),
            Command::Sign {
                plan: a.clone(),
                version: 1,
                signer: Signer::Client,
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 10),
            Command::Submit {
                plan: a.clone(),
                version: 1,
            },
        );
        s.ok(
            &officer(),
            at(2026, 3, 12),
            Command::Approve {
                plan: a.clone(),
                version: 1,
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 4, 9),
            Command::RecordReview {
                plan: a.clone(),
                version: 1,
                checklist: ReviewChecklist {
                    participation_described: true,
                    services_and_goals_clear: true,
                    usable_by_new_staff: true,
                    matches_order: true,
                },
                findings: String::new(),
            },
        );
        s.ok(
            &staff(),
            at(2026, 4, 10),
            Command::RecordDeviation {
                plan: a,
                occurred_on: date(2026, 4, 10),
                service: Some("Dusch".into()),
                description: "Duschen uteblev".into(),
            },
        );
        // client 2: ordered 1 March, nothing else: two deadlines passed.
        s.ok(
            &officer(),
            at(2026, 3, 1),
            order(
                &plan("plan-b"),
                ActKind::HomeCare,
                &u,
                client(2),
                date(2026, 3, 1),
            ),
        );
        // client 3: drawn up, unsigned, sent, a supplement asked for.
        let c = plan("plan-c");
        s.ok(
            &officer(),
            at(2026, 4, 1),
            order(&c, ActKind::HomeCare, &u, client(3), date(2026, 4, 1)),
        );
        s.ok(
            &key_worker(),
            at(2026, 4, 3),
            Command::Draft {
                plan: c.clone(),
                content: content(ActKind::HomeCare, &u, client(3), date(2026, 4, 3)),
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 4, 4),
            Command::Submit {
                plan: c.clone(),
                version: 1,
            },
        );
        s.ok(
            &officer(),
            at(2026, 4, 6),
            Command::RequestSupplement {
                plan: c,
                version: 1,
                reason: "Ange vem som utför städning".into(),
                due_on: date(2026, 4, 30),
            },
        );
        // client 4: closed.
        let d = plan("plan-d");
        s.ok(
            &officer(),
            at(2026, 3, 1),
            order(&d, ActKind::HomeCare, &u, client(4), date(2026, 3, 1)),
        );
        s.ok(
            &manager(),
            at(2026, 3, 5),
            Command::Close {
                plan: d,
                reason: CloseReason::Moved,
                closed_on: date(2026, 3, 5),
            },
        );
        // Another unit's client does not appear.
        s.ok(
            &officer(),
            at(2026, 3, 1),
            order(
                &plan("plan-e"),
                ActKind::HomeCare,
                &other,
                client(5),
                date(2026, 3, 1),
            ),
        );

        let p = s.projection();
        let policy = DeadlinePolicy::default();
        let rows = overview(&p, &policy, &Scope::new(date(2026, 4, 15)).unit(u)).unwrap();
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.plan.as_str(),
                    r.status,
                    (r.overdue, r.gaps, r.open_supplements, r.deviations),
                )
            })
            .collect();
        // By client number: 19640823 (client 0), then 1970-10-62, -63, -64.
        assert_eq!(
            got,
            [
                ("plan-a", PlanStatus::Approved, (0, 0, 0, 1)),
                ("plan-b", PlanStatus::AwaitingDraft, (2, 0, 0, 0)),
                ("plan-c", PlanStatus::SupplementRequested, (0, 1, 1, 0)),
                ("plan-d", PlanStatus::Closed, (0, 0, 0, 0)),
            ]
        );
        let a = &rows[0];
        assert_eq!(a.client, "19640823-****");
        assert_eq!(a.drawn_up_on, Some(date(2026, 3, 8)));
        assert_eq!(
            (a.submitted_on, a.submitted_version),
            (Some(date(2026, 3, 10)), Some(1))
        );
        assert_eq!(
            (a.approved_on, a.approved_version),
            (Some(date(2026, 3, 12)), Some(1))
        );
        assert_eq!(a.last_reviewed_on, Some(date(2026, 4, 9)));
        // Home care follows up at the plan's date: six months after 8 March.
        assert_eq!(a.next_follow_up_on, Some(date(2026, 9, 8)));

        let revealed = overview(
            &p,
            &policy,
            &Scope::new(date(2026, 4, 15))
                .unit(unit("hemtjanst-norr"))
                .reveal_personnummer(),
        )
        .unwrap();
        assert_eq!(revealed[0].client, "19640823-3234");

        let table = render_to_string(&rows, Format::Table, Lang::Sv).unwrap();
        let first: Vec<&str> = table
            .lines()
            .nth(2)
            .unwrap()
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            first,
            [
                "19640823-****",
                "plan-a",
                "hemtjänst",
                "godkänd",
                "1",
                "2026-03-08",
                "2026-03-10 (v1)",
                "2026-03-12 (v1)",
                "2026-04-09",
                "2026-09-08",
                "0",
                "0",
                "0",
                "1"
            ],
            "{table}"
        );
    }

    #[test]
    fn the_overview_and_the_fee_report_agree_on_when_a_supplemented_plan_was_sent_001() {
        // Sent 12 March, a supplement asked for, delivered 18 March: the plan reached
        // the case officer on the 12th (001: "inkommit"); the supplement completed it.
        let s = Scenario::new();
        let u = unit("hemtjanst-norr");
        let p = plan("plan-komplettering");
        s.ok(
            &officer(),
            at(2026, 3, 1),
            order(&p, ActKind::HomeCare, &u, client(0), date(2026, 3, 1)),
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 9),
            Command::Draft {
                plan: p.clone(),
                content: content(ActKind::HomeCare, &u, client(0), date(2026, 3, 9)),
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 12),
            Command::Submit {
                plan: p.clone(),
                version: 1,
            },
        );
        s.ok(
            &officer(),
            at(2026, 3, 13),
            Command::RequestSupplement {
                plan: p.clone(),
                version: 1,
                reason: "Ange tider för städning".into(),
                due_on: date(2026, 3, 20),
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 18),
            Command::ProvideSupplement {
                plan: p,
                version: 1,
                note: "Tider tillagda".into(),
            },
        );
        let projection = s.projection();
        let policy = DeadlinePolicy::default();
        let scope = Scope::new(date(2026, 3, 31));
        let row = &overview(&projection, &policy, &scope).unwrap()[0];
        let fee = &crate::new_client_fee(&projection, &policy, &scope).unwrap()[0];
        assert_eq!(row.status, PlanStatus::SupplementProvided);
        assert_eq!(
            (row.submitted_on, row.submitted_version),
            (Some(date(2026, 3, 12)), Some(1))
        );
        assert_eq!(fee.submitted_on, Some(date(2026, 3, 12)));
        assert_eq!(
            fee.reason,
            planledger_plan::FeeReason::Supplemented {
                provided_on: date(2026, 3, 18)
            }
        );
    }
}
