//! `keygen`, `checkpoint` and `export`: the signed tree heads kept elsewhere, and the
//! evidence bundles proven against them.

use std::path::Path;

use planledger_app::{Result, evidence, keys, witness};

use crate::Context;
use crate::flags::ExportArgs;

pub fn keygen(name: &str, out: &Path) -> Result<()> {
    let signer = keys::keygen(name, out)?;
    eprintln!(
        "wrote the secret key to {} (mode 0600); keep it away from the ledger's machine. \
         The verifier key, to publish and give to inspectors:",
        out.display()
    );
    println!("{}", signer.verifier().to_text());
    Ok(())
}

pub fn checkpoint(ctx: &Context, key: &Path, dir: &Path, origin: Option<&str>) -> Result<()> {
    let signer = keys::load_signer(key)?;
    let signed = witness::sign_head(ctx.open()?.as_ref(), &signer, origin, ctx.now)?;
    let file = witness::write(dir, &signed)?;
    let cp = &signed.checkpoint;
    println!(
        "checkpoint of {} records, root {}, written to {}",
        cp.size,
        cp.root,
        file.display()
    );
    Ok(())
}

pub fn export(ctx: &Context, a: ExportArgs) -> Result<()> {
    let store = ctx.open()?;
    let checkpoint = match (&a.key, &a.witness, &a.pubkey) {
        (Some(key), dir, _) => {
            let signed =
                witness::sign_head(store.as_ref(), &keys::load_signer(key)?, None, ctx.now)?;
            if let Some(dir) = dir {
                witness::write(dir, &signed)?;
            }
            signed
        }
        (None, Some(dir), Some(pubkey)) => witness::latest(dir, &keys::load_verifier(pubkey)?)?,
        _ => unreachable!("clap requires --key, or --witness with --pubkey"),
    };
    let done = evidence::export(store.as_ref(), &a.client, &checkpoint, &a.out)?;
    println!(
        "wrote {} records of {} plans, proven against the checkpoint of size {}, to {}",
        done.records,
        done.plans,
        done.size,
        a.out.display()
    );
    if done.later > 0 {
        eprintln!(
            "note: {} later records are not in the bundle; they come after the checkpoint",
            done.later
        );
    }
    Ok(())
}
