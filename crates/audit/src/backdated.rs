//! `backdated`: entries the ledger sealed long after the time they claim. Deadline
//! reports count from the claimed time, which whoever wrote the entry chose; this report
//! is how an inspector sees which of those claims came late, and how late.

use chrono::{DateTime, TimeDelta, Utc};
use planledger_plan::{Actor, DeadlinePolicy, PlanId};
use serde::Serialize;

use crate::render::{Column, Lang, Row};
use crate::{AuditError, Scope, history};

/// One entry sealed more than the policy's threshold after the time it claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackdatedRow {
    pub plan: PlanId,
    /// The record's number in the plan's stream and its position in the ledger.
    pub stream_version: u64,
    pub position: u64,
    pub event_type: String,
    pub by: Actor,
    /// When it happened, as the entry claims.
    pub claimed_at: DateTime<Utc>,
    /// When the ledger sealed it, by the store's clock.
    pub sealed_at: DateTime<Utc>,
    /// Whole days between the two.
    pub days_later: i64,
}

/// Every entry of the scope's plans sealed by the end of `scope.as_of` more than
/// `policy.backdated_after_days` after the time it claims, in ledger order; none when
/// the policy turns the check off.
pub fn backdated(
    plans: &dyn planledger_projection::Plans,
    policy: &DeadlinePolicy,
    scope: &Scope,
) -> Result<Vec<BackdatedRow>, AuditError> {
    let Some(days) = policy.backdated_after_days else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    plans.each_backdated(
        scope.unit.as_ref(),
        scope.cutoff(),
        TimeDelta::days(i64::from(days)),
        &mut |b| {
            rows.push(BackdatedRow {
                days_later: (b.sealed_at - b.claimed_at).num_days(),
                plan: b.plan,
                stream_version: b.stream_version,
                position: b.position,
                event_type: b.event_type,
                by: b.actor,
                claimed_at: b.claimed_at,
                sealed_at: b.sealed_at,
            });
        },
    )?;
    Ok(rows)
}

impl Row for BackdatedRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("plan", "plan", "plan"),
            Column::new("stream_version", "nr", "no"),
            Column::new("position", "post", "record"),
            Column::new("event_type", "händelse", "event"),
            Column::new("by", "av", "by"),
            Column::new(
                "claimed_at",
                "enligt anteckningen",
                "according to the entry",
            ),
            Column::new("sealed_at", "i liggaren", "in the ledger"),
            Column::new("days_later", "dagar senare", "days later"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        vec![
            self.plan.to_string(),
            format!("#{}", self.stream_version),
            self.position.to_string(),
            history::event_name(lang, &self.event_type),
            history::actor(lang, &self.by),
            history::instant(self.claimed_at),
            history::instant(self.sealed_at),
            self.days_later.to_string(),
        ]
    }
}
