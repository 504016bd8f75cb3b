//! `verify`: the whole ledger, against the checkpoints a witness holds, or only what came
//! after the latest one; a JSON report for a nightly job.

use planledger_app::{Error, Kind, Result, keys, witness};

use crate::Context;
use crate::flags::VerifyArgs;

pub fn verify(ctx: &Context, a: VerifyArgs) -> Result<()> {
    let heads = match (&a.witness, &a.pubkey) {
        (Some(dir), Some(pubkey)) => {
            witness::checkpoints(dir, &keys::load_verifier(pubkey, &ctx.limits)?, &ctx.limits)?
                .iter()
                .map(|w| w.checkpoint.tree_head())
                .collect()
        }
        _ => Vec::new(),
    };
    let bar = crate::progress(
        "verifying {wide_bar} {pos}/{len} records ({per_sec}, {eta})",
        0,
    );
    let outcome = planledger_app::verify(
        ctx.open(),
        &heads,
        a.since_checkpoint,
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    );
    bar.finish_and_clear();
    let outcome = outcome?;
    if a.json {
        println!("{}", outcome.to_json());
    } else if let (Some(r), true) = (&outcome.report, outcome.ok()) {
        println!(
            "OK: {} (from position {}; {} checkpoints matched)",
            r.message(),
            outcome.from,
            outcome.checkpoints
        );
    }
    if let Some(differs) = &outcome.index {
        return Err(Error::new(
            Kind::Verification,
            format!(
                "the records verify, but the plan index beside them differs from them at {differs}: \
                 readers would be shown a wrong list; rebuild it with `planledger reindex`"
            ),
        ));
    }
    match outcome.violation {
        None => Ok(()),
        Some(v) => Err(Error::new(
            Kind::Verification,
            format!(
                "verification FAILED at position {}: {}; the ledger was altered or damaged from there \
                 on — keep the files as they are and restore from a copy that verifies",
                v.position, v.kind
            ),
        )),
    }
}
