//! Per-client keys, legal holds and weeding (gallring): `kek-gen`, `rotate-kek`,
//! `hold add|release`, `weed`.

use std::path::Path;

use planledger_app::crypt::{self, Kek};
use planledger_app::keyed::KeyedStore;
use planledger_app::weeding::{self, Candidate, Progress};
use planledger_app::{Error, Kind, Result};
use planledger_plan::Actor;
use planledger_plan::retention::Due;

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
    let map_key = ctx.map_key(a.map_key.as_deref())?;
    let decision = a.decision.clone().unwrap_or_default();
    let job = actor.as_ref().map(|actor| weeding::Job {
        actor,
        decision: &decision,
        at: ctx.claimed_now,
        map_key: map_key.as_ref(),
    });
    // Clap requires --as, --role and --decision without --dry-run; the domain's rules
    // are checked before anything is opened.
    if let Some(job) = &job {
        job.check()?;
    }
    let (store, _) = keyed(ctx)?;
    let policy = planledger_app::load_retention_policy(ctx.policy_path(), &ctx.limits)?;
    let mut weeded = 0;
    let candidates = weeding::run(&store, &policy, a.as_of, job.as_ref(), &mut |p| match p {
        Progress::Finished(n) => {
            println!("finished {n} weedings an earlier run recorded but did not complete")
        }
        Progress::Client(c, position) => {
            let line = format!(
                "{} last entry {} plans {}: {}",
                c.client,
                c.last_entry,
                c.plans.len(),
                verdict(c)
            );
            match position {
                Some(position) => {
                    weeded += 1;
                    println!("{line}; weeded (event at position {position})");
                }
                None => println!("{line}"),
            }
        }
    })?;
    let due = candidates.iter().filter(|c| c.weeds()).count();
    let held = candidates.iter().filter(|c| c.held).count();
    if a.dry_run {
        println!("dry run: {due} clients due, {held} held; nothing was written");
    } else {
        println!("weeded {weeded} clients; {held} held");
    }
    Ok(())
}
