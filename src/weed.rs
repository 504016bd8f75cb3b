//! Per-client keys, legal holds and weeding (gallring): `kek-gen`, `rotate-kek`,
//! `hold add|release`, `weed`.

use std::path::Path;

use planledger_app::crypt::{self, Kek};
use planledger_app::keyed::KeyedStore;
use planledger_app::weeding::{self, Candidate};
use planledger_app::{Error, Kind, Result};
use planledger_plan::Actor;
use planledger_plan::retention::{Due, RetentionCommand, RetentionPolicy};

use crate::Context;
use crate::flags::{HoldCmd, WeedArgs};

pub fn kek_gen(out: &Path) -> Result<()> {
    crypt::kek_gen(out)?;
    println!(
        "wrote a key-encryption key to {} (mode 0600); keep it apart from the ledger and its backups",
        crate::exit::mask(out.display())
    );
    Ok(())
}

fn keyed(ctx: &Context) -> Result<(KeyedStore, Kek)> {
    let kek = ctx.kek()?.ok_or_else(|| {
        Error::new(
            Kind::BadInput,
            "--kek: give the ledger's key-encryption key (or PLANLEDGER_KEK)",
        )
    })?;
    Ok((ctx.location()?.open_keyed(&kek)?, kek))
}

pub fn rotate_kek(ctx: &Context, new: &Path) -> Result<()> {
    let (store, _) = keyed(ctx)?;
    let new = crypt::load_kek(new, &ctx.limits)?;
    let n = store.keys().rotate(&new)?;
    println!(
        "rewrapped {n} client keys under the new key-encryption key; the old one no longer opens the ledger"
    );
    Ok(())
}

pub fn hold(ctx: &Context, command: HoldCmd) -> Result<()> {
    let (add, a) = match command {
        HoldCmd::Add(a) => (true, a),
        HoldCmd::Release(a) => (false, a),
    };
    // Who may place or release a hold is the domain's rule, applied by `weeding::hold`.
    let actor = Actor::new(a.user, a.role);
    let (store, _) = keyed(ctx)?;
    let position = weeding::hold(&store, &a.client, add, &a.reason, &actor, ctx.claimed_now)?;
    println!(
        "{} for client {} at position {position}",
        if add { "hold placed" } else { "hold released" },
        a.client
    );
    Ok(())
}

fn verdict(c: &Candidate) -> String {
    match &c.due {
        Due::Due { rule, from, by } if c.held => {
            format!("held (due under {rule} from {from}, by {by})")
        }
        Due::Due { rule, .. } if c.plaintext => format!(
            "due under {rule}, but written before encryption: cannot be weeded by destroying its key"
        ),
        Due::Due { rule, from, by } => format!("due under {rule} from {from}, by {by}"),
        Due::NotYet { rule, from } if c.held => format!("held (not due: {rule} from {from})"),
        Due::NotYet { rule, from } => format!("not due: {rule} from {from}"),
        Due::Kept { rule, why } => format!("kept under {rule}: {why}"),
    }
}

pub fn weed(ctx: &Context, a: WeedArgs) -> Result<()> {
    let actor = match (&a.user, a.role) {
        (Some(u), Some(r)) if !a.dry_run => Some(Actor::new(u.clone(), r)),
        _ => None,
    };
    // The domain's rule, before anything is opened or written: a role that may not weed
    // does not finish earlier runs' weedings either.
    if let Some(actor) = &actor {
        weeding::authorize(RetentionCommand::Weed, actor)?;
    }
    let decision = a.decision.clone().unwrap_or_default();
    if !a.dry_run && decision.trim().is_empty() {
        return Err(Error::new(
            Kind::BadInput,
            "--decision: weeding needs the decision it is done under",
        ));
    }
    let map_key = ctx.map_key(a.map_key.as_deref())?;
    let (store, _) = keyed(ctx)?;
    let policy = retention_policy(ctx)?;
    if !a.dry_run {
        let finished = weeding::finish_pending(&store)?;
        if finished > 0 {
            println!("finished {finished} weedings an earlier run recorded but did not complete");
        }
    }
    let candidates = weeding::candidates(&store, &policy, a.as_of)?;
    let mut weeded = 0;
    for c in &candidates {
        let line = format!(
            "{} last entry {} plans {}: {}",
            c.client,
            c.last_entry,
            c.plans.len(),
            verdict(c)
        );
        match &actor {
            Some(actor) if c.weeds() => {
                if let Some(key) = &map_key {
                    planledger_app::map::remember_weeded(&store, key, &c.client, &c.plans)?;
                }
                let position =
                    weeding::weed_one(&store, c, &decision, a.as_of, actor, ctx.claimed_now)?;
                weeded += 1;
                println!("{line}; weeded (event at position {position})");
            }
            _ => println!("{line}"),
        }
    }
    let due = candidates.iter().filter(|c| c.weeds()).count();
    let held = candidates.iter().filter(|c| c.held).count();
    if a.dry_run {
        println!("dry run: {due} clients due, {held} held; nothing was written");
    } else {
        println!("weeded {weeded} clients; {held} held");
    }
    Ok(())
}

/// The retention rules of the policy file (`[retention.<act>]`), or the defaults.
fn retention_policy(ctx: &Context) -> Result<RetentionPolicy> {
    let Some(path) = ctx.policy_path() else {
        return Ok(RetentionPolicy::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    RetentionPolicy::from_toml(&text).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!("the policy file {} is invalid: {e}", path.display()),
        )
    })
}
