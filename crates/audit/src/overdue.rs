//! Overdue: deadlines passed and not met (plans not drawn up, not sent, not reviewed
//! this month, not followed up in time; supplements past their due date). And late:
//! deadlines met, but after their date (the case officer's "which plans arrived late").

use chrono::NaiveDate;
use planledger_plan::{ActKind, DeadlinePolicy, DueKind, PlanId, UnitId};
use planledger_projection::Plans;
use serde::Serialize;

use crate::error::AuditError;
use crate::render::{Column, Lang, Row};
use crate::{Scope, text};

/// One deadline not met as of the scope's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueRow {
    pub plan: PlanId,
    pub unit: UnitId,
    pub act: ActKind,
    /// Masked unless the scope reveals personnummer.
    pub client: String,
    pub kind: DueKind,
    /// The version concerned, where one is.
    pub version: Option<u32>,
    pub due_on: NaiveDate,
    pub days_late: i64,
}

/// Every deadline not met as of `scope.as_of` under `policy`, the latest first (then by
/// plan and kind). Closed plans have none.
pub fn overdue(
    plans: &dyn Plans,
    policy: &DeadlinePolicy,
    scope: &Scope,
) -> Result<Vec<OverdueRow>, AuditError> {
    let mut rows = Vec::new();
    scope.each_overdue_candidate(plans, policy, &mut |p| {
        let Some(act) = p.state.act() else { return };
        for o in p.state.overdue(policy, scope.as_of) {
            rows.push(OverdueRow {
                plan: p.id().clone(),
                unit: p.unit.clone(),
                act,
                client: scope.client_label(&p.client),
                kind: o.kind,
                version: o.version,
                due_on: o.due_on,
                days_late: o.days_late,
            });
        }
    })?;
    rows.sort_by(|a, b| {
        b.days_late
            .cmp(&a.days_late)
            .then_with(|| a.plan.cmp(&b.plan))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    Ok(rows)
}

impl Row for OverdueRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("plan", "plan", "plan"),
            Column::new("unit", "enhet", "unit"),
            Column::new("act", "insatsform", "act"),
            Column::new("client", "personnummer", "personal id"),
            Column::new("kind", "vad", "what"),
            Column::new("version", "version", "version"),
            Column::new("due_on", "senast", "due"),
            Column::new("days_late", "dagar sent", "days late"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        vec![
            self.plan.to_string(),
            self.unit.to_string(),
            text::act(lang, self.act).to_owned(),
            self.client.clone(),
            text::due_kind(lang, self.kind).to_owned(),
            text::opt(self.version),
            self.due_on.to_string(),
            self.days_late.to_string(),
        ]
    }
}

/// One deadline met after its date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LateRow {
    pub plan: PlanId,
    pub unit: UnitId,
    pub act: ActKind,
    pub client: String,
    pub kind: DueKind,
    pub version: Option<u32>,
    pub due_on: NaiveDate,
    pub met_on: NaiveDate,
    pub days_late: i64,
}

/// Every deadline met late by `scope.as_of` under `policy` (a plan sent after 15 days,
/// a supplement after its due date, …), the latest first (then by plan and kind).
pub fn late(
    plans: &dyn Plans,
    policy: &DeadlinePolicy,
    scope: &Scope,
) -> Result<Vec<LateRow>, AuditError> {
    let mut rows = Vec::new();
    scope.each_plan(plans, &mut |p| {
        let Some(act) = p.state.act() else { return };
        for d in p.state.due_dates(policy) {
            let (Some(met_on), Some(days_late)) = (d.met_on, d.met_late_by()) else {
                continue;
            };
            rows.push(LateRow {
                plan: p.id().clone(),
                unit: p.unit.clone(),
                act,
                client: scope.client_label(&p.client),
                kind: d.kind,
                version: d.version,
                due_on: d.due_on,
                met_on,
                days_late,
            });
        }
    })?;
    rows.sort_by(|a, b| {
        b.days_late
            .cmp(&a.days_late)
            .then_with(|| a.plan.cmp(&b.plan))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    Ok(rows)
}

impl Row for LateRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("plan", "plan", "plan"),
            Column::new("unit", "enhet", "unit"),
            Column::new("act", "insatsform", "act"),
            Column::new("client", "personnummer", "personal id"),
            Column::new("kind", "vad", "what"),
            Column::new("version", "version", "version"),
            Column::new("due_on", "senast", "due"),
            Column::new("met_on", "gjort", "done"),
            Column::new("days_late", "dagar sent", "days late"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        vec![
            self.plan.to_string(),
            self.unit.to_string(),
            text::act(lang, self.act).to_owned(),
            self.client.clone(),
            text::due_kind(lang, self.kind).to_owned(),
            text::opt(self.version),
            self.due_on.to_string(),
            self.met_on.to_string(),
            self.days_late.to_string(),
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
    fn overdue_lists_each_missed_deadline_with_days_late_as_of_the_date() {
        let s = Scenario::new();
        let norr = unit("hemtjanst-norr");
        let soder = unit("hemtjanst-soder");
        // plan-a: home care ordered 1 March, nothing since: draw-up due 15 March,
        // submit due 16 March.
        s.ok(
            &officer(),
            at(2026, 3, 1),
            order(
                &plan("plan-a"),
                ActKind::HomeCare,
                &norr,
                client(2),
                date(2026, 3, 1),
            ),
        );
        // plan-b: drawn up in time (10 March) but never sent: submit due 17 March.
        // A supplement is asked for on a sent version... not here; see plan-c.
        let b = plan("plan-b");
        s.ok(
            &officer(),
            at(2026, 3, 2),
            order(&b, ActKind::HomeCare, &norr, client(3), date(2026, 3, 2)),
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 10),
            Command::Draft {
                plan: b.clone(),
                content: content(ActKind::HomeCare, &norr, client(3), date(2026, 3, 10)),
            },
        );
        // plan-c (another unit): sent in time, a supplement asked for by 20 March and
        // not delivered.
        let c = plan("plan-c");
        s.ok(
            &officer(),
            at(2026, 3, 2),
            order(&c, ActKind::HomeCare, &soder, client(4), date(2026, 3, 2)),
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 5),
            Command::Draft {
                plan: c.clone(),
                content: content(ActKind::HomeCare, &soder, client(4), date(2026, 3, 5)),
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 6),
            Command::Submit {
                plan: c.clone(),
                version: 1,
            },
        );
        s.ok(
            &officer(),
            at(2026, 3, 9),
            Command::RequestSupplement {
                plan: c.clone(),
                version: 1,
                reason: "Ange tider för inköp".into(),
                due_on: date(2026, 3, 20),
            },
        );
        let p = s.projection();
        let policy = DeadlinePolicy::default();

        let rows = overdue(&p, &policy, &Scope::new(date(2026, 3, 25))).unwrap();
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.plan.as_str(), r.kind, r.due_on, r.days_late))
            .collect();
        assert_eq!(
            got,
            [
                ("plan-a", DueKind::DrawUp, date(2026, 3, 15), 10),
                ("plan-a", DueKind::Submit, date(2026, 3, 16), 9),
                ("plan-b", DueKind::Submit, date(2026, 3, 17), 8),
                ("plan-c", DueKind::Supplement, date(2026, 3, 20), 5),
            ]
        );
        assert_eq!(rows[0].client, "19701062-****");

        // As of 16 March only plan-a's draw-up is late (one day); the supplement and
        // plan-b's submission are not due yet.
        let early = overdue(&p, &policy, &Scope::new(date(2026, 3, 16))).unwrap();
        assert_eq!(early.len(), 1);
        assert_eq!((early[0].kind, early[0].days_late), (DueKind::DrawUp, 1));

        // The unit filter keeps the other unit out.
        let soder_only = overdue(&p, &policy, &Scope::new(date(2026, 3, 25)).unit(soder)).unwrap();
        assert_eq!(soder_only.len(), 1);
        assert_eq!(soder_only[0].plan.as_str(), "plan-c");

        let table = render_to_string(&rows, Format::Table, Lang::Sv).unwrap();
        assert!(
            table.starts_with("plan    enhet            insatsform  personnummer   vad"),
            "{table}"
        );
        assert!(table.contains("upprätta plan"), "{table}");
        let csv = render_to_string(&rows, Format::Csv, Lang::En).unwrap();
        assert_eq!(
            csv.lines().nth(1).unwrap(),
            "plan-a,hemtjanst-norr,home care,19701062-****,draw up plan,–,2026-03-15,10"
        );
    }

    #[test]
    fn late_lists_deadlines_met_after_their_date_with_days_late() {
        let s = Scenario::new();
        let u = unit("hemtjanst-norr");
        let p1 = plan("late-1");
        // Ordered 1 March: drawn up 18 March (due 15), sent 20 March (due 16).
        s.ok(
            &officer(),
            at(2026, 3, 1),
            order(&p1, ActKind::HomeCare, &u, client(2), date(2026, 3, 1)),
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 18),
            Command::Draft {
                plan: p1.clone(),
                content: content(ActKind::HomeCare, &u, client(2), date(2026, 3, 18)),
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 20),
            Command::Submit {
                plan: p1,
                version: 1,
            },
        );
        // In time: not listed.
        let p2 = plan("late-2");
        s.ok(
            &officer(),
            at(2026, 3, 1),
            order(&p2, ActKind::HomeCare, &u, client(3), date(2026, 3, 1)),
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 5),
            Command::Draft {
                plan: p2.clone(),
                content: content(ActKind::HomeCare, &u, client(3), date(2026, 3, 5)),
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 6),
            Command::Submit {
                plan: p2,
                version: 1,
            },
        );
        let p = s.projection();
        let policy = DeadlinePolicy::default();
        let rows = late(&p, &policy, &Scope::new(date(2026, 4, 1))).unwrap();
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.plan.as_str(), r.kind, r.due_on, r.met_on, r.days_late))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "late-1",
                    DueKind::Submit,
                    date(2026, 3, 16),
                    date(2026, 3, 20),
                    4
                ),
                (
                    "late-1",
                    DueKind::DrawUp,
                    date(2026, 3, 15),
                    date(2026, 3, 18),
                    3
                ),
            ]
        );
        // As of 19 March the plan was drawn up late and not yet sent: one late, one
        // overdue.
        let mid = Scope::new(date(2026, 3, 19));
        assert_eq!(late(&p, &policy, &mid).unwrap().len(), 1);
        assert_eq!(overdue(&p, &policy, &mid).unwrap()[0].kind, DueKind::Submit);
        let sv = render_to_string(&rows, Format::Csv, Lang::Sv).unwrap();
        assert_eq!(
            sv.lines().next().unwrap(),
            "plan,enhet,insatsform,personnummer,vad,version,senast,gjort,dagar sent"
        );
    }
}
