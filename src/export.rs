//! `export`: one client's evidence bundle, proven against a signed checkpoint.

use planledger_app::{Result, evidence, witness};

use crate::Context;
use crate::flags::ExportArgs;

pub fn export(ctx: &Context, a: ExportArgs) -> Result<()> {
    let map_key = ctx.map_key(a.map_key.as_deref())?;
    let store = ctx.open()?;
    let dir = a.witness.as_deref().expect("clap requires --witness");
    let (checkpoint, verifier) = witness::proving(
        store.as_ref(),
        dir,
        a.key.as_deref(),
        a.pubkey.as_deref(),
        &ctx.limits,
        map_key.as_ref(),
    )?;
    let since = match &a.since {
        Some(file) => Some(witness::read_one(file, &verifier, &ctx.limits)?),
        None => None,
    };
    let done = evidence::export(
        store.as_ref(),
        &a.client,
        &checkpoint,
        since.as_ref(),
        map_key.as_ref(),
        &a.out,
    )?;
    println!(
        "wrote {} records of {} plans, proven against the checkpoint of size {}, to {}",
        done.records,
        done.plans,
        done.size,
        crate::exit::mask(a.out.display())
    );
    if done.weeded > 0 {
        println!(
            "{} of the plans were weeded: their records are sealed (their content destroyed), with the weeding that destroyed the key, proven too",
            done.weeded
        );
    }
    match checkpoint.checkpoint.map_root {
        Some(_) => println!(
            "with the checkpoint's map proof that these are all of the client's records as of it"
        ),
        None => println!(
            "the checkpoint commits no map: the bundle proves inclusion, not that it holds all of the client's records"
        ),
    }
    if let Some(old) = &since {
        println!(
            "with the proof that it extends the checkpoint of {} records you gave",
            old.checkpoint.size
        );
    }
    if done.later > 0 {
        eprintln!(
            "note: {} later records are not in the bundle; they come after the checkpoint",
            done.later
        );
    }
    Ok(())
}

/// `proof --from N [--to M]`: the consistency proof between the ledger's trees of N and
/// M records (the head by default), as JSON, with both roots.
pub fn proof(ctx: &Context, from: u64, to: Option<u64>) -> Result<()> {
    let store = ctx.open()?;
    let to = match to {
        Some(to) => to,
        None => store.head()?.size,
    };
    let proof = evidence::consistency(store.as_ref(), from, to)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&proof).expect("JSON serialises")
    );
    Ok(())
}
