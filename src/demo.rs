//! `demo`: a synthetic organisation recorded into a new ledger, verified, reported on.

use planledger_app::{Location, Result};
use planledger_synth::Organisation;

use crate::{Context, stdout};

/// `demo`: a synthetic organisation, recorded, verified, reported on.
pub fn demo(ctx: &Context, clients: usize, seed: u64, months: u32) -> Result<()> {
    let loc: &Location = ctx.location()?;
    let policy = ctx.policy()?;
    let org = Organisation {
        seed,
        clients,
        months,
        policy: policy.clone(),
        ..Organisation::default()
    };
    eprintln!(
        "recording {clients} synthetic clients over {months} months (seed {seed}) into {}",
        loc.describe()
    );
    let bar = crate::progress("{spinner} {pos} commands recorded ({per_sec})", 0);
    let demo = planledger_app::demo::run(loc, &org, &|| bar.inc(1))?;
    bar.finish_and_clear();
    println!(
        "recorded {} commands as {} records in {:.1} s; verified in {:.2} s: {}",
        demo.commands,
        demo.report.records,
        demo.recorded_in.as_secs_f64(),
        demo.verified_in.as_secs_f64(),
        demo.report.message()
    );
    let last_day = planledger_app::demo::report(demo.store.as_ref(), &org, &mut stdout())?;
    println!(
        "\nnext: `planledger --ledger {loc} audit late --as-of {last_day}`, `… verify`, `… history --plan PLAN`",
        loc = loc.describe()
    );
    Ok(())
}
