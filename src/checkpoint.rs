//! `keygen` and `checkpoint`: the signing key, and the signed tree heads a witness keeps.

use std::path::Path;

use planledger_app::{Result, keys, map, witness};

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

pub fn map_keygen(out: &Path) -> Result<()> {
    map::keygen(out)?;
    eprintln!(
        "wrote the map key to {} (mode 0600); give it to checkpoint, export and verify with \
         --map-key, and keep it, as the ledger, for as long as the checkpoints",
        crate::exit::mask(out.display())
    );
    Ok(())
}

pub fn checkpoint(
    ctx: &Context,
    key: &Path,
    dir: &Path,
    origin: Option<&str>,
    map_key: Option<&Path>,
) -> Result<()> {
    let signer = keys::load_signer(key, &ctx.limits)?;
    let map_key = ctx.map_key(map_key)?;
    let store = ctx.open()?;
    let (signed, file) = witness::checkpoint(
        store.as_ref(),
        &signer,
        dir,
        origin,
        chrono::Utc::now(),
        &ctx.limits,
        map_key.as_ref(),
    )?;
    let cp = &signed.checkpoint;
    println!(
        "checkpoint of {} records, root {}{}, written to {}",
        cp.size,
        cp.root,
        match (&cp.map_root, &signed.map) {
            (Some(m), Some(map)) if map.records_read < cp.size => format!(
                ", map root {m} (read {} of {} records: the rest from the map of the last checkpoint)",
                map.records_read, cp.size
            ),
            (Some(m), _) => format!(", map root {m}"),
            (None, _) => " (no map: give --map-key for bundles that prove completeness)".into(),
        },
        crate::exit::mask(file.display())
    );
    Ok(())
}
