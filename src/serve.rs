//! `serve` (the HTTP service, `planledger_serve`) and `access-log` (the read-access log's
//! extract and sample, read locally).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;
use planledger_app::{Error, Kind, Result};
use planledger_plan::{Personnummer, Role, UnitId, UserId};
use planledger_serve::access::{AccessEntry, AccessLog};

use crate::Context;

/// `planledger serve --config FILE`.
#[derive(Args, Debug)]
#[command(after_help = "\
The configuration file (TOML; examples/serve.toml is a commented example) names the
address to listen on, the ledger (a directory made by `init`, or a postgres:// URL), TLS
certificate files, the key-encryption key of a ledger that encrypts personal data (`kek`,
as --kek), the OpenID Connect issuer whose tokens identify people, and who is who:
[[users]] (user id as the token names it, role, units) and [[systems]] (the SHA-256 of an
API token, its role and units, whether it records on behalf of users). Roles and units
come from this file only, never from a request. A bad file is refused with its line and
field (exit 2).

Every read of a client's personal data is logged, with the caller, role, time, query and
the purpose stated in the X-Purpose header, in the access log: a ledger of its own beside
the plans' (the directory access-log inside an embedded ledger's directory, or the
PostgreSQL ledger NAME-access-log), read with `planledger access-log`.

Routes: /openapi.json documents them; /health, /ready and /metrics (Prometheus) need no
token. SIGINT or SIGTERM stops it after the requests in flight (at most 30 s). --now does
not apply: the service uses the system clock. RUST_LOG=planledger_serve=info logs
requests' routes and outcomes, never personal data.")]
pub struct ServeArgs {
    /// The configuration file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
}

pub fn serve(a: ServeArgs) -> Result<()> {
    let config = planledger_serve::Config::load(&a.config)
        .map_err(|e| Error::new(Kind::BadInput, e.to_string()))?;
    planledger_serve::serve_until_signal(config, |running| {
        let scheme = if running.tls { "https" } else { "http" };
        eprintln!("planledger: serving on {scheme}://{}", running.addr);
    })
    .map_err(|e| Error::new(Kind::Storage, e.to_string()))
}

/// `planledger access-log`.
#[derive(Args, Debug)]
#[command(after_help = "\
Reading the access log is itself logged (who, in which role, with which purpose). The
service holds the embedded access log open while it runs: stop it, or ask the service
(POST /v1/access-log/extract, GET /v1/access-log/sample).")]
pub struct AccessLogArgs {
    /// The extract a person has a right to: every logged read of this client's data
    /// (personnummer, 12 digits).
    #[arg(
        long,
        value_name = "PNR",
        conflicts_with = "sample",
        required_unless_present = "sample"
    )]
    pub client: Option<Personnummer>,
    /// A random sample of N reads of the plans of --unit between --from and --to.
    #[arg(long, value_name = "N", requires_all = ["unit", "from", "to"])]
    pub sample: Option<usize>,
    /// The unit whose plans' reads are sampled.
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<UnitId>,
    /// The first Swedish day of the sample (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// The last Swedish day of the sample.
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
    /// Who reads the log (logged).
    #[arg(long = "as", value_name = "USER")]
    pub user: UserId,
    /// In which role (logged).
    #[arg(long, value_name = "ROLE")]
    pub role: Role,
    /// Why (logged).
    #[arg(long, value_name = "TEXT")]
    pub purpose: String,
    /// The access log, if not where the service keeps it beside --ledger (a directory,
    /// or a PostgreSQL ledger name).
    #[arg(long, value_name = "DIR|NAME")]
    pub access_log: Option<String>,
}

pub fn access_log(ctx: &Context, a: AccessLogArgs) -> Result<()> {
    if a.purpose.trim().is_empty() {
        return Err(Error::new(Kind::BadInput, "--purpose must not be empty"));
    }
    let at = planledger_serve::access_log_location(ctx.location()?, a.access_log.as_deref());
    let (log, _writer) = AccessLog::start(std::sync::Arc::from(at.open()?));
    let failed = |why: String| Error::new(Kind::Storage, why);
    let (reads, query) = match (a.client, a.sample) {
        (Some(client), _) => (log.extract(&client).map_err(failed)?, "access-log --client"),
        (None, Some(n)) => {
            let (unit, from, to) = (
                a.unit.expect("clap requires --unit"),
                a.from.expect("clap requires --from"),
                a.to.expect("clap requires --to"),
            );
            let all = log.of_unit(unit.as_str(), from, to).map_err(failed)?;
            (
                planledger_serve::access::sample(all, n),
                "access-log --sample",
            )
        }
        _ => unreachable!("clap requires --client or --sample"),
    };
    let purpose = planledger_plan::json::mask_personnummer(a.purpose.trim());
    let mut entries: Vec<AccessEntry> = match a.client {
        Some(client) => vec![AccessEntry {
            client,
            unit: None,
            plan: None,
            query: query.into(),
            purpose: purpose.clone(),
        }],
        None => reads
            .iter()
            .map(|r| AccessEntry {
                client: r.entry.client,
                unit: r.entry.unit.clone(),
                plan: r.entry.plan.clone(),
                query: query.into(),
                purpose: purpose.clone(),
            })
            .collect(),
    };
    entries.dedup();
    let actor = planledger_ledger::Actor {
        user_id: a.user.to_string(),
        role: a.role.as_str().to_owned(),
    };
    log.log_blocking(actor, chrono::Utc::now(), entries)
        .map_err(failed)?;
    let text = serde_json::to_string_pretty(&serde_json::json!({ "reads": reads }))
        .expect("reads serialise");
    use std::io::Write;
    writeln!(crate::stdout(), "{text}").map_err(|e| Error::io("cannot write the output", e))
}
