//! `show`: one version of one plan.

use chrono::{DateTime, NaiveDate, Utc};
use planledger_plan::PlanId;
use planledger_store::Store;

use crate::exit::{Exit, failure};
use crate::record::load_plan;

fn plan_id(text: &str) -> anyhow::Result<PlanId> {
    PlanId::new(text).map_err(|e| failure(Exit::BadInput, format!("plan id: {e}")))
}

/// The end of `date` (UTC), for "as of this day".
pub fn end_of_day(date: &str) -> anyhow::Result<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|e| {
        failure(
            Exit::BadInput,
            format!("{date:?} is not a date YYYY-MM-DD: {e}"),
        )
    })?;
    Ok(d.and_hms_micro_opt(23, 59, 59, 999_999)
        .expect("a valid time")
        .and_utc())
}

/// `show PLAN [--version N | --as-of DATE]`: the version's header and its content as JSON.
pub fn show(
    store: &dyn Store,
    plan: &str,
    version: Option<u32>,
    as_of: Option<&str>,
) -> anyhow::Result<()> {
    let plan = plan_id(plan)?;
    let state = load_plan(store, &plan).map_err(|e| failure(e.exit(), e.to_string()))?;
    if state.plan().is_none() {
        return Err(failure(Exit::NotFound, format!("there is no plan {plan}")));
    }
    let chosen = match (version, as_of) {
        (Some(n), _) => state.version(n).ok_or_else(|| {
            failure(
                Exit::NotFound,
                format!(
                    "plan {plan} has no version {n}; it has {}",
                    state.versions().len()
                ),
            )
        })?,
        (None, Some(date)) => state.version_in_force(end_of_day(date)?).ok_or_else(|| {
            failure(
                Exit::NotFound,
                format!("no version of plan {plan} was in force on {date}"),
            )
        })?,
        (None, None) => state.current_version().ok_or_else(|| {
            failure(
                Exit::NotFound,
                format!("plan {plan} has no version yet (it has an order only)"),
            )
        })?,
    };
    println!(
        "plan {plan} version {} of {}, recorded {} by {} ({}){}",
        chosen.number,
        state.versions().len(),
        chosen.recorded_at.format("%Y-%m-%dT%H:%M:%SZ"),
        chosen.by.user,
        chosen.by.role,
        match chosen.superseded_at {
            Some(t) => format!(", replaced {}", t.format("%Y-%m-%d")),
            None => String::new(),
        }
    );
    for s in &chosen.signatures {
        println!(
            "  signed by {} on {}",
            s.signer.describe(),
            s.at.format("%Y-%m-%d")
        );
    }
    if let Some(s) = &chosen.submitted {
        println!("  submitted {}", s.at.format("%Y-%m-%d"));
    }
    if let Some(s) = &chosen.approved {
        println!("  approved {}", s.at.format("%Y-%m-%d"));
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&chosen.content).expect("content serialises")
    );
    Ok(())
}
