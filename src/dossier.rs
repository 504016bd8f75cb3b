//! `dossier`: the complaint dossier of one client, HTML or PDF, with its evidence bundle.

use planledger_app::dossier::{self, DossierInput};
use planledger_app::{Result, witness};

use crate::Context;
use crate::flags::DossierArgs;

pub fn dossier(ctx: &Context, a: DossierArgs) -> Result<()> {
    // Refuse a bad --out before any work.
    dossier::DossierFormat::of_path(&a.out)?;
    let map_key = ctx.map_key(a.map_key.as_deref())?;
    let policy = ctx.policy()?;
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
    let made_by = std::env::var("USER").unwrap_or_else(|_| "planledger dossier".into());
    let d = dossier::build(&DossierInput {
        store: store.as_ref(),
        client: &a.client,
        policy: &policy,
        lang: a.lang,
        checkpoint: &checkpoint,
        verifier: &verifier,
        map_key: map_key.as_ref(),
        now: chrono::Utc::now(),
        made_by: &made_by,
    })?;
    let bundle = dossier::write(&d, &a.out)?;
    println!(
        "wrote the dossier of {} records of {} plans to {}, its evidence bundle to {}",
        d.records,
        d.plans,
        crate::exit::mask(a.out.display()),
        crate::exit::mask(bundle.display())
    );
    Ok(())
}
