//! `planledger`: the command-line interface. Thin: it parses, calls the crates, prints.
//!
//! Two layers, as in ripgrep: `flags` is the syntax (clap derive; its doc comments are
//! the `--help` text), `Context` the validated configuration every command runs with.
//! `main` maps errors to the exit codes documented in `--help` and the README.

mod domain;
mod exit;
mod flags;
mod integrity;
mod location;
mod query;
mod record;
mod report;

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Parser;
use planledger_store::Store;

use crate::exit::{Exit, failure};
use crate::flags::{Cli, Cmd, DbCmd};
use crate::location::Location;

/// The validated global options.
struct Context {
    ledger: Option<Location>,
    /// "Now": the system clock, or `--now`.
    now: DateTime<Utc>,
}

impl Context {
    fn from_flags(cli: &Cli) -> anyhow::Result<Context> {
        let now = match &cli.now {
            None => Utc::now(),
            Some(text) => DateTime::parse_from_rfc3339(text)
                .map_err(|e| {
                    failure(
                        Exit::BadInput,
                        format!(
                            "--now {text:?} is not an RFC 3339 time (2026-03-02T09:00:00Z): {e}"
                        ),
                    )
                })?
                .with_timezone(&Utc),
        };
        Ok(Context {
            ledger: cli
                .ledger
                .as_deref()
                .map(|l| Location::parse(l, &cli.ledger_name)),
            now,
        })
    }

    fn location(&self) -> anyhow::Result<&Location> {
        self.ledger.as_ref().ok_or_else(|| {
            failure(
                Exit::BadInput,
                "no ledger given: pass --ledger DIR|URL or set PLANLEDGER_LEDGER",
            )
        })
    }

    fn open(&self) -> anyhow::Result<Box<dyn Store>> {
        location::open(self.location()?)
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::from_flags(&cli)?;
    if let Some((actor, command, expect)) = domain::from_flags(&cli.command)? {
        let store = ctx.open()?;
        let mut recorder = record::Recorder::new(store.as_ref());
        return domain::record_one(&mut recorder, &actor, &command, ctx.now, expect);
    }
    match &cli.command {
        Cmd::Init => {
            let loc = ctx.location()?;
            location::create(loc)?;
            println!("created an empty ledger in {}", loc.describe());
            Ok(())
        }
        Cmd::Keygen { name, out } => integrity::keygen(name, out),
        Cmd::Import { file } => {
            let store = ctx.open()?;
            let mut recorder = record::Recorder::new(store.as_ref());
            domain::import(&mut recorder, file, ctx.now)
        }
        Cmd::Head { json } => integrity::head(ctx.open()?.as_ref(), *json),
        Cmd::Show {
            plan,
            version,
            as_of,
        } => query::show(ctx.open()?.as_ref(), plan, *version, as_of.as_deref()),
        Cmd::History(a) => report::history(ctx.open()?.as_ref(), a, ctx.now),
        Cmd::Verify(a) => {
            let key = a
                .pubkey
                .as_deref()
                .map(integrity::load_verifier)
                .transpose()?;
            let witness = a.witness.as_deref().zip(key.as_ref());
            integrity::verify(ctx.open(), witness, a.since_checkpoint, a.json)
        }
        Cmd::Checkpoint {
            key,
            witness,
            origin,
        } => integrity::checkpoint(
            ctx.open()?.as_ref(),
            key,
            witness,
            origin.as_deref(),
            ctx.now,
        ),
        Cmd::Export {
            client,
            out,
            key,
            witness,
            pubkey,
        } => {
            let store = ctx.open()?;
            let verifier;
            let source = match (key, witness) {
                (Some(key), witness) => integrity::ExportCheckpoint::Sign {
                    key,
                    witness: witness.as_deref(),
                },
                (None, Some(dir)) => {
                    let pubkey = pubkey.as_deref().ok_or_else(|| {
                        failure(
                            Exit::BadInput,
                            "to use a witness checkpoint, give its verifier key with --pubkey",
                        )
                    })?;
                    verifier = integrity::load_verifier(pubkey)?;
                    integrity::ExportCheckpoint::Witness {
                        dir,
                        key: &verifier,
                    }
                }
                (None, None) => {
                    return Err(failure(
                        Exit::BadInput,
                        "give --key KEYFILE or --witness DIR",
                    ));
                }
            };
            integrity::export(store.as_ref(), client, out, source, ctx.now)
        }
        Cmd::Copy { from, to } => {
            let from = location::open(&Location::parse(from, &cli.ledger_name))?;
            let to_loc = Location::parse(to, &cli.ledger_name);
            let to = location::open_or_create(&to_loc)?;
            let head = planledger_store::copy_ledger(from.as_ref(), to.as_ref(), &mut |_, _| {})
                .context(
                    "the copy failed; the target may hold part of it — delete it and copy again",
                )?;
            println!(
                "copied {} records to {}; root {}",
                head.size,
                to_loc.describe(),
                head.root
            );
            Ok(())
        }
        Cmd::Audit(a) => {
            let policy = report::policy(cli.policy.as_deref())?;
            report::audit(ctx.open()?.as_ref(), a, &policy, ctx.now)
        }
        Cmd::Demo {
            clients,
            seed,
            months,
        } => report::demo(
            ctx.location()?,
            *clients,
            *seed,
            *months,
            report::policy(cli.policy.as_deref())?,
        ),
        Cmd::Db {
            command: DbCmd::Migrate { database, url },
        } => {
            let url = match (database.as_ref().or(url.as_ref()), &ctx.ledger) {
                (Some(u), _) => u.clone(),
                (None, Some(Location::Postgres { url, .. })) => url.clone(),
                _ => {
                    return Err(failure(
                        Exit::BadInput,
                        "give --url postgres://… (or a postgres:// --ledger)",
                    ));
                }
            };
            let applied = planledger_store_postgres::migrate(&url)
                .map_err(|e| failure(Exit::Storage, format!("migration failed: {e}")))?;
            println!(
                "database schema is current ({} migrations applied now)",
                applied.len()
            );
            Ok(())
        }
        _ => unreachable!("domain commands are handled above"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if exit::is_broken_pipe(&err) => {
            // The reader went away (`planledger audit … | head`): not an error.
            ExitCode::SUCCESS
        }
        Err(err) => {
            let code = exit::of_error(&err);
            // `{:#}` prints the context chain on one line: what failed, then why.
            eprintln!("planledger: {err:#}");
            code.into()
        }
    }
}
