//! `export`: one client's evidence bundle, proven against a signed checkpoint.

use planledger_app::{Result, evidence, keys, witness};

use crate::Context;
use crate::flags::ExportArgs;

pub fn export(ctx: &Context, a: ExportArgs) -> Result<()> {
    let store = ctx.open()?;
    let checkpoint = match (&a.key, &a.witness, &a.pubkey) {
        (Some(key), dir, _) => {
            let signed = witness::sign_head(
                store.as_ref(),
                &keys::load_signer(key, &ctx.limits)?,
                None,
                ctx.now,
            )?;
            if let Some(dir) = dir {
                witness::write(dir, &signed)?;
            }
            signed
        }
        (None, Some(dir), Some(pubkey)) => {
            witness::latest(dir, &keys::load_verifier(pubkey, &ctx.limits)?, &ctx.limits)?
        }
        _ => unreachable!("clap requires --key, or --witness with --pubkey"),
    };
    let done = evidence::export(store.as_ref(), &a.client, &checkpoint, &a.out)?;
    println!(
        "wrote {} records of {} plans, proven against the checkpoint of size {}, to {}",
        done.records,
        done.plans,
        done.size,
        crate::exit::mask(a.out.display())
    );
    if done.later > 0 {
        eprintln!(
            "note: {} later records are not in the bundle; they come after the checkpoint",
            done.later
        );
    }
    Ok(())
}
