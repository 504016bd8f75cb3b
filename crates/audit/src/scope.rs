//! What a query looks at: the date it is asked as of, an optional unit, and whether full
//! personnummer may be shown.

use chrono::{DateTime, NaiveDate, Utc};
use planledger_plan::{DeadlinePolicy, Personnummer, PlanId, PlanState, UnitId};
use planledger_projection::Plans;

use crate::error::AuditError;

/// The frame of every query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The query sees the ledger as it stood at the end of this day (Swedish time): nothing
    /// recorded later, and deadlines counted to this day.
    pub as_of: NaiveDate,
    /// Only plans of this unit, when given.
    pub unit: Option<UnitId>,
    /// Show full personnummer; masked (`19640823-****`) otherwise. Only an explicit
    /// choice of the user sets it.
    pub reveal_personnummer: bool,
}

impl Scope {
    /// Every unit, personnummer masked.
    pub fn new(as_of: NaiveDate) -> Scope {
        Scope {
            as_of,
            unit: None,
            reveal_personnummer: false,
        }
    }

    /// Only the plans of `unit`.
    pub fn unit(mut self, unit: UnitId) -> Scope {
        self.unit = Some(unit);
        self
    }

    /// Full personnummer in the output.
    pub fn reveal_personnummer(mut self) -> Scope {
        self.reveal_personnummer = true;
        self
    }

    /// The last instant of `as_of` in Swedish time
    /// ([`planledger_plan::end_of_swedish_day`]): what was recorded by then counts.
    pub fn cutoff(&self) -> DateTime<Utc> {
        planledger_plan::end_of_swedish_day(self.as_of)
    }

    /// A client's number as this scope may show it.
    pub fn client_label(&self, client: &Personnummer) -> String {
        if self.reveal_personnummer {
            client.expose()
        } else {
            client.to_string()
        }
    }

    /// Calls `f` with each plan in scope that existed by the cutoff, as it stood then
    /// and without contents (the read model), by plan id; one plan at a time, so a
    /// report over a whole ledger holds its rows, never the ledger.
    pub(crate) fn each_plan(
        &self,
        plans: &dyn Plans,
        f: &mut dyn FnMut(Scoped<'_>),
    ) -> Result<(), AuditError> {
        plans.each_summary(self.unit.as_ref(), self.cutoff(), &mut |state| {
            if let Some(scoped) = Scoped::new(state) {
                f(scoped);
            }
        })?;
        Ok(())
    }
}

impl Scope {
    /// [`Scope::each_plan`], but only the plans that may have a deadline overdue on the
    /// scope's date under `policy` (the read model's due index; at least those).
    pub(crate) fn each_overdue_candidate(
        &self,
        plans: &dyn Plans,
        policy: &DeadlinePolicy,
        f: &mut dyn FnMut(Scoped<'_>),
    ) -> Result<(), AuditError> {
        plans.each_overdue_candidate(self.unit.as_ref(), self.as_of, policy, &mut |state| {
            if let Some(scoped) = Scoped::new(state) {
                f(scoped);
            }
        })?;
        Ok(())
    }
}

/// The calendar day of a recorded instant, as the deadline rules count it: the Swedish
/// date ([`planledger_plan::swedish_date`]).
pub(crate) fn day_of(at: DateTime<Utc>) -> NaiveDate {
    planledger_plan::swedish_date(at)
}

/// One plan as it stood at a cutoff, with the fields every row repeats.
pub(crate) struct Scoped<'a> {
    pub state: &'a PlanState,
    pub id: &'a PlanId,
    pub unit: UnitId,
    pub client: Personnummer,
}

impl<'a> Scoped<'a> {
    /// `None` for a plan with no order by the cutoff (it did not exist yet).
    pub fn new(state: &'a PlanState) -> Option<Scoped<'a>> {
        Some(Scoped {
            id: state.plan()?,
            unit: state.unit()?.clone(),
            client: *state.client()?,
            state,
        })
    }

    pub fn id(&self) -> &PlanId {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_scope_sees_up_to_the_end_of_its_swedish_day() {
        let winter = Scope::new(d(2026, 3, 25)).cutoff();
        assert_eq!(winter.to_rfc3339(), "2026-03-25T22:59:59.999999+00:00");
        let summer = Scope::new(d(2026, 6, 10)).cutoff();
        assert_eq!(summer.to_rfc3339(), "2026-06-10T21:59:59.999999+00:00");
        for t in [winter, summer] {
            assert_eq!(
                day_of(t + chrono::Duration::microseconds(1)),
                day_of(t).succ_opt().unwrap()
            );
        }
    }
}
