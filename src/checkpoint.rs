//! `keygen` and `checkpoint`: the signing key, and the signed tree heads a witness keeps.

use std::path::Path;

use planledger_app::{Result, keys, witness};

use crate::Context;

pub fn keygen(name: &str, out: &Path) -> Result<()> {
    let signer = keys::keygen(name, out)?;
    eprintln!(
        "wrote the secret key to {} (mode 0600); keep it away from the ledger's machine. \
         The verifier key, to publish and give to inspectors:",
        crate::exit::mask(out.display())
    );
    println!("{}", signer.verifier().to_text());
    Ok(())
}

pub fn checkpoint(ctx: &Context, key: &Path, dir: &Path, origin: Option<&str>) -> Result<()> {
    let signer = keys::load_signer(key, &ctx.limits)?;
    let store = ctx.open()?;
    let (signed, file) =
        witness::checkpoint(store.as_ref(), &signer, dir, origin, ctx.now, &ctx.limits)?;
    let cp = &signed.checkpoint;
    println!(
        "checkpoint of {} records, root {}, written to {}",
        cp.size,
        cp.root,
        crate::exit::mask(file.display())
    );
    Ok(())
}
