//! `planledger`: the command-line interface. Thin: it parses (`flags`), calls the
//! application layer (`planledger_app`), prints, and maps errors to the exit codes
//! documented in `--help` and the README (`exit`). One file per command family.

mod audit;
mod checkpoint;
mod demo;
mod dossier;
mod exit;
mod export;
mod flags;
mod import;
mod record;
mod serve;
mod show;
mod verify;
mod weed;
mod witness;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use planledger_app::{Error, Kind, Limits, Location, Result};
use planledger_plan::DeadlinePolicy;
use planledger_store::Store;

use crate::flags::{Cli, Cmd, DbCmd};

/// See the workspace's Cargo.toml on why not the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What every command runs with.
pub struct Context {
    ledger: Option<Location>,
    /// "Now" as this invocation claims it: the system clock, or `--claimed-at`. Never
    /// the time a record is sealed at (the store's clock) or a checkpoint is signed at.
    pub claimed_now: DateTime<Utc>,
    policy: Option<PathBuf>,
    /// What is read at most (`--max-…-bytes`).
    pub limits: Limits,
    /// `--claimed-at` as given (sent to a server as the line's `at`).
    pub claimed_at: Option<DateTime<Utc>>,
    /// `--server URL` and `--token-file`: the commands that work over HTTP go there.
    server: Option<(String, Option<PathBuf>)>,
    /// The key-encryption key's file (`--kek`).
    kek: Option<PathBuf>,
}

impl Context {
    pub fn location(&self) -> Result<&Location> {
        self.ledger.as_ref().ok_or_else(|| {
            Error::new(
                Kind::BadInput,
                "no ledger given: pass --ledger DIR|URL or set PLANLEDGER_LEDGER",
            )
        })
    }

    pub fn open(&self) -> Result<Box<dyn Store>> {
        self.location()?.open_with(self.kek()?.as_ref())
    }

    /// The policy file, if one is given.
    pub fn policy_path(&self) -> Option<&std::path::Path> {
        self.policy.as_deref()
    }

    /// The key-encryption key, if `--kek` is given.
    pub fn kek(&self) -> Result<Option<planledger_app::crypt::Kek>> {
        (self.kek.as_deref())
            .map(|p| planledger_app::crypt::load_kek(p, &self.limits))
            .transpose()
    }

    /// The server to send the command to, if `--server` was given.
    pub fn server(&self) -> Result<Option<planledger_serve::client::Server>> {
        self.server
            .as_ref()
            .map(|(url, token_file)| {
                planledger_serve::client::Server::new(url, token_file.as_deref(), &self.limits)
            })
            .transpose()
    }

    /// The deadline policy: the file given, or the documented defaults.
    pub fn policy(&self) -> Result<DeadlinePolicy> {
        planledger_app::load_policy(self.policy.as_deref(), &self.limits)
    }

    /// The map key in `path`, if one is given (`--map-key`).
    pub fn map_key(
        &self,
        path: Option<&std::path::Path>,
    ) -> Result<Option<planledger_app::map::MapKey>> {
        path.map(|p| planledger_app::map::load_key(p, &self.limits))
            .transpose()
    }
}

/// Standard output, locked, for a command's report.
pub fn stdout() -> std::io::StdoutLock<'static> {
    std::io::stdout().lock()
}

/// A progress bar on standard error when it is a terminal; hidden otherwise.
pub fn progress(template: &str, total: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(indicatif::ProgressStyle::with_template(template).expect("a valid template"));
    bar
}

fn run(cli: Cli) -> Result<()> {
    let limits = cli.limits();
    let ctx = Context {
        limits,
        ledger: cli
            .ledger
            .as_deref()
            .map(|l| Location::parse(l, &cli.ledger_name)),
        claimed_now: cli.claimed_at.unwrap_or_else(Utc::now),
        claimed_at: cli.claimed_at,
        policy: cli.policy,
        server: cli.server.map(|url| (url, cli.token_file)),
        kek: cli.kek,
    };
    if ctx.server.is_some() && !works_over_server(&cli.command) {
        return Err(Error::new(
            Kind::BadInput,
            "this command does not work with --server (or PLANLEDGER_SERVER); only the domain \
             commands, import, show, history and audit do: give --ledger instead",
        ));
    }
    match cli.command {
        Cmd::Init => {
            let loc = ctx.location()?;
            loc.create()?;
            if let Some(kek) = ctx.kek()? {
                loc.open_keyed(&kek)?;
            }
            println!("created an empty ledger in {}", exit::mask(loc.describe()));
            Ok(())
        }
        Cmd::Import { file } => import::run(&ctx, &file),
        Cmd::Schema { which } => {
            let (_, text) = planledger_app::schema::all()
                .into_iter()
                .find(|(name, _)| name.starts_with(which.as_str()))
                .expect("clap lists the schemas");
            stdout()
                .write_all(text.as_bytes())
                .map_err(|e| Error::io("cannot write the schema", e))
        }
        Cmd::Head { json } => {
            // The head holds no personal data: read without the key store.
            let h = ctx.location()?.open()?.head()?;
            if json {
                let (last, root) = (h.last_hash.to_hex(), h.root.to_hex());
                println!(
                    r#"{{"size":{},"last_hash":"{last}","root":"{root}"}}"#,
                    h.size
                );
            } else {
                println!(
                    "size {}\nlast hash {}\nroot {}",
                    h.size, h.last_hash, h.root
                );
            }
            Ok(())
        }
        Cmd::Show(a) => show::show(&ctx, a),
        Cmd::History(a) => audit::history(&ctx, a),
        Cmd::Audit(a) => audit::audit(&ctx, a),
        Cmd::Demo {
            clients,
            seed,
            months,
            until,
        } => demo::demo(&ctx, clients, seed, months, until),
        Cmd::Verify(a) => verify::verify(&ctx, a),
        Cmd::Reindex => {
            let store = ctx.open()?;
            let bar = progress(
                "indexing {wide_bar} {pos}/{len} records, then plans ({eta})",
                0,
            );
            let policy = ctx.policy()?;
            let plans =
                planledger_app::index::reindex(store.as_ref(), &policy, &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                });
            bar.finish_and_clear();
            println!("indexed {} plans of {} records", plans?, store.head()?.size);
            Ok(())
        }
        Cmd::Keygen { name, out } => checkpoint::keygen(&name, &out),
        Cmd::MapKeygen { out } => checkpoint::map_keygen(&out),
        Cmd::KekGen { out } => weed::kek_gen(&out),
        Cmd::RotateKek { new_kek } => weed::rotate_kek(&ctx, &new_kek),
        Cmd::Hold { command } => weed::hold(&ctx, command),
        Cmd::Weed(a) => weed::weed(&ctx, a),
        Cmd::Checkpoint {
            key,
            witness,
            map_key,
            origin,
        } => checkpoint::checkpoint(&ctx, &key, &witness, origin.as_deref(), map_key.as_deref()),
        Cmd::Export(a) => export::export(&ctx, a),
        Cmd::Dossier(a) => dossier::dossier(&ctx, a),
        Cmd::Proof { from, to } => export::proof(&ctx, from, to),
        Cmd::Witness { command } => witness::run(&ctx, command),
        Cmd::Copy { from, to } => {
            let (from, to) = (
                Location::parse(&from, &cli.ledger_name),
                Location::parse(&to, &cli.ledger_name),
            );
            let head = from.copy_to(&to, &ctx.policy()?)?;
            println!(
                "copied {} records to {}; root {}",
                head.size,
                exit::mask(to.describe()),
                head.root
            );
            Ok(())
        }
        Cmd::Db {
            command: DbCmd::Migrate { url },
        } => {
            let url = match (url, &ctx.ledger) {
                (Some(u), _) => u,
                (None, Some(Location::Postgres { url, .. })) => url.clone(),
                _ => {
                    return Err(Error::new(
                        Kind::BadInput,
                        "give the database URL (postgres://…), or a postgres:// --ledger",
                    ));
                }
            };
            let applied = planledger_app::migrate(&url)?;
            println!("database schema is current ({applied} migrations applied now)");
            Ok(())
        }
        Cmd::Serve(a) => serve::serve(a),
        Cmd::AccessLog(a) => serve::access_log(&ctx, a),
        Cmd::Completions { shell } => {
            let mut cli = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cli, "planledger", &mut stdout());
            Ok(())
        }
        Cmd::Man => clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
            .render(&mut stdout())
            .map_err(|e| Error::io("cannot write the manual page", e)),
        command => record::run(&ctx, command),
    }
}

/// Whether `command` can be sent to a server (`--server`), or needs no ledger at all.
fn works_over_server(command: &Cmd) -> bool {
    !matches!(
        command,
        Cmd::Init
            | Cmd::Head { .. }
            | Cmd::Verify(_)
            | Cmd::Reindex
            | Cmd::Checkpoint { .. }
            | Cmd::Export(_)
            | Cmd::Proof { .. }
            | Cmd::Witness { .. }
            | Cmd::Copy { .. }
            | Cmd::Demo { .. }
            | Cmd::Db { .. }
            | Cmd::AccessLog(_)
            | Cmd::RotateKek { .. }
            | Cmd::Hold { .. }
            | Cmd::Weed(_)
            | Cmd::Dossier(_)
    )
}

/// Diagnostics for operators: `RUST_LOG` (e.g. `RUST_LOG=planledger=debug`, the
/// `tracing-subscriber` filter syntax) turns them on, to standard error; without it
/// nothing is logged. Spans and events name the command, the backend, counts, durations
/// and error kinds, never a value given on the command line or read from the ledger
/// (no path, id, personnummer or message text: a message may quote a file name).
fn init_tracing() {
    let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG") else {
        return;
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

fn main() -> ExitCode {
    init_tracing();
    // One line, never a panic's message (which could quote data) nor a backtrace: a
    // storage engine that panics on a damaged file is caught and reported as damage.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("planledger: internal error{at}");
    }));
    let matches = match <Cli as clap::CommandFactory>::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            // `verify --json` answers a nightly job in JSON even when its command line
            // is wrong; the reason goes to standard error as for any usage error.
            let args: Vec<_> = std::env::args_os().skip(1).collect();
            let wants_json =
                args.iter().any(|a| a == "verify") && args.iter().any(|a| a == "--json");
            if wants_json
                && !matches!(
                    e.kind(),
                    clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
                )
            {
                let error = Kind::BadInput.json(
                    "the command line is not valid (standard error says why; see `planledger verify --help`)",
                );
                println!("{}", serde_json::json!({ "ok": false, "error": error }));
            }
            return exit::usage(e);
        }
    };
    // The subcommand's name is one of clap's fixed list: never user data.
    let command = matches.subcommand_name().unwrap_or("").to_owned();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return exit::usage(e),
    };
    let span = tracing::info_span!("command", name = %command);
    let _entered = span.enter();
    let started = std::time::Instant::now();
    tracing::debug!("started");
    let outcome = run(cli);
    let ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok(()) => {
            tracing::info!(ms, "succeeded");
            ExitCode::SUCCESS
        }
        // The reader went away (`planledger audit … | head`): not an error.
        Err(err) if err.is_broken_pipe() => {
            tracing::info!(ms, "succeeded (the reader closed the pipe)");
            ExitCode::SUCCESS
        }
        Err(err) => {
            // The kind only: the message may quote a file name the user gave.
            tracing::warn!(ms, kind = ?err.kind(), "failed");
            eprintln!("planledger: {}", exit::mask(&err));
            exit::code(err.kind())
        }
    }
}
