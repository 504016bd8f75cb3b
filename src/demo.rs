//! `demo`: a synthetic organisation recorded into a new ledger, verified, reported on.

use chrono::NaiveDate;
use planledger_app::{Location, Result};
use planledger_plan::swedish_date;
use planledger_synth::Organisation;

use crate::{Context, stdout};

/// `demo`: a synthetic organisation, recorded, verified, reported on.
pub fn demo(
    ctx: &Context,
    clients: usize,
    seed: u64,
    months: u32,
    until: Option<NaiveDate>,
) -> Result<()> {
    let loc: &Location = ctx.location()?;
    let policy = ctx.policy()?;
    let (until, start) = planledger_app::demo::period(until, months, ctx.claimed_now)?;
    let org = Organisation {
        seed,
        clients,
        months,
        start,
        policy: policy.clone(),
        ..Organisation::default()
    };
    eprintln!(
        "recording {clients} synthetic clients over {months} months up to {until} (seed {seed}) into {}",
        loc.describe()
    );
    let bar = crate::progress("{spinner} {pos} commands recorded ({per_sec})", 0);
    let demo = planledger_app::demo::run(loc, &org, ctx.claimed_now, &|| bar.inc(1))?;
    bar.finish_and_clear();
    println!(
        "recorded {} commands as {} records in {:.1} s; verified in {:.2} s: {}",
        demo.commands,
        demo.report.records,
        demo.recorded_in.as_secs_f64(),
        demo.verified_in.as_secs_f64(),
        demo.report.message()
    );
    planledger_app::demo::report(demo.store.as_ref(), &org, until, &mut stdout())?;
    let as_of = if until == swedish_date(ctx.claimed_now) {
        String::new()
    } else {
        format!(" --as-of {until}")
    };
    println!(
        "\nnext: `planledger --ledger {loc} audit late{as_of}`, `… verify`, `… history --plan plan-000001`",
        loc = loc.describe()
    );
    Ok(())
}
