//! `audit` (thin wrappers over `planledger_audit`) and `demo`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Days, NaiveDate, Utc};
use planledger_audit::{Format, Lang, Row, Scope, Subject, render};
use planledger_plan::{DeadlinePolicy, Personnummer, PlanId, UnitId};
use planledger_projection::Projection;
use planledger_store::{Store, verify_store};
use planledger_synth::Organisation;

use crate::exit::{Exit, failure};
use crate::flags::{AuditArgs, HistoryArgs, Query};
use crate::location::{self, Location};
use crate::record::Recorder;

/// The deadline policy: the file given, or DOMAIN.md's defaults.
pub fn policy(path: Option<&Path>) -> anyhow::Result<DeadlinePolicy> {
    let Some(path) = path else {
        return Ok(DeadlinePolicy::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy file {}", path.display()))?;
    DeadlinePolicy::from_toml(&text).map_err(|e| {
        failure(
            Exit::BadInput,
            format!("the policy file {} is invalid: {e}", path.display()),
        )
    })
}

fn date(text: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| {
        failure(
            Exit::BadInput,
            format!("{text:?} is not a date YYYY-MM-DD: {e}"),
        )
    })
}

fn write_rows<R: Row>(rows: &[R], format: Format, lang: Lang) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    render(rows, format, lang, &mut out).context("cannot write the report")?;
    out.flush().context("cannot write the report")
}

/// Runs one report on a projection of the whole ledger.
fn run_query(
    projection: &Projection,
    query: Query,
    policy: &DeadlinePolicy,
    scope: &Scope,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    use planledger_audit as a;
    match query {
        Query::Overdue => write_rows(&a::overdue(projection, policy, scope), format, lang),
        Query::Late => write_rows(&a::late(projection, policy, scope), format, lang),
        Query::Unsigned => write_rows(&a::unsigned(projection, scope), format, lang),
        Query::Unapproved => write_rows(&a::unapproved(projection, scope), format, lang),
        Query::Incomplete => write_rows(&a::incomplete(projection, scope), format, lang),
        Query::Fee => write_rows(&a::new_client_fee(projection, policy, scope), format, lang),
        Query::Overview => write_rows(&a::overview(projection, policy, scope), format, lang),
        Query::InForce => write_rows(&a::in_force(projection, scope, None)?, format, lang),
    }
}

/// The options every report shares, validated.
struct ReportOptions {
    scope: Scope,
    format: Format,
    lang: Lang,
}

impl ReportOptions {
    fn new(
        as_of: Option<&str>,
        unit: Option<&str>,
        format: &str,
        lang: &str,
        show_personnummer: bool,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ReportOptions> {
        let format: Format = format
            .parse()
            .map_err(|e| failure(Exit::BadInput, format!("--format: {e}")))?;
        let lang: Lang = lang
            .parse()
            .map_err(|e| failure(Exit::BadInput, format!("--lang: {e}")))?;
        let as_of = match as_of {
            Some(d) => date(d)?,
            None => now.date_naive(),
        };
        let mut scope = Scope::new(as_of);
        if let Some(unit) = unit {
            let unit =
                UnitId::new(unit).map_err(|e| failure(Exit::BadInput, format!("--unit: {e}")))?;
            scope = scope.unit(unit);
        }
        if show_personnummer {
            scope = scope.reveal_personnummer();
        }
        Ok(ReportOptions {
            scope,
            format,
            lang,
        })
    }
}

/// `--plan` or `--client` as an audit subject.
fn subject(plan: Option<&str>, client: Option<&str>) -> anyhow::Result<Option<Subject>> {
    Ok(match (plan, client) {
        (Some(p), _) => {
            Some(Subject::Plan(PlanId::new(p).map_err(|e| {
                failure(Exit::BadInput, format!("--plan: {e}"))
            })?))
        }
        (None, Some(c)) => Some(Subject::Client(Personnummer::parse(c).map_err(|e| {
            failure(
                Exit::BadInput,
                format!("--client is not a personnummer: {e}"),
            )
        })?)),
        (None, None) => None,
    })
}

/// `audit QUERY`.
pub fn audit(
    store: &dyn Store,
    args: &AuditArgs,
    policy: &DeadlinePolicy,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let o = ReportOptions::new(
        args.as_of.as_deref(),
        args.unit.as_deref(),
        &args.format,
        &args.lang,
        args.show_personnummer,
        now,
    )?;
    let subject = subject(args.plan.as_deref(), args.client.as_deref())?;
    if subject.is_some() && args.query != Query::InForce {
        return Err(failure(
            Exit::BadInput,
            "--plan and --client go with in-force only (use `history` for one plan or client)",
        ));
    }
    let projection = Projection::open(store).context("cannot read the ledger")?;
    if let Some(unit) = &o.scope.unit {
        if projection.plans_in_unit(unit).next().is_none() {
            return Err(failure(
                Exit::NotFound,
                format!("the ledger has no plan of unit {unit}"),
            ));
        }
    }
    if args.query == Query::InForce {
        let rows = planledger_audit::in_force(&projection, &o.scope, subject.as_ref())?;
        return write_rows(&rows, o.format, o.lang);
    }
    run_query(&projection, args.query, policy, &o.scope, o.format, o.lang)
}

/// `history`.
pub fn history(store: &dyn Store, args: &HistoryArgs, now: DateTime<Utc>) -> anyhow::Result<()> {
    let o = ReportOptions::new(
        args.as_of.as_deref(),
        None,
        &args.format,
        &args.lang,
        args.show_personnummer,
        now,
    )?;
    let subject = subject(args.plan.as_deref(), args.client.as_deref())?
        .ok_or_else(|| failure(Exit::BadInput, "give --plan ID or --client PNR"))?;
    let projection = Projection::open(store).context("cannot read the ledger")?;
    let history = planledger_audit::history(&projection, &o.scope, &subject)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    history
        .render(o.format, o.lang, &mut out)
        .context("cannot write the history")?;
    out.flush().context("cannot write the history")
}

/// Concurrent writers for the demo. Each append is durable (one fsync) before it
/// returns; the embedded store commits the appends that queue up meanwhile together,
/// so writers that wait on the disk side by side multiply the throughput.
const DEMO_WRITERS: usize = 32;

/// Records `commands` with [`DEMO_WRITERS`] threads. All commands of one plan go to the
/// same writer, in order, so each plan's stream is exactly as generated; only the
/// interleaving of plans in the global order varies from run to run.
fn record_concurrently(
    store: &dyn Store,
    commands: impl Iterator<
        Item = (
            DateTime<Utc>,
            planledger_plan::Actor,
            planledger_plan::Command,
        ),
    >,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<u64> {
    use std::hash::{Hash, Hasher};
    std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(DEMO_WRITERS);
        let mut workers = Vec::with_capacity(DEMO_WRITERS);
        for _ in 0..DEMO_WRITERS {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(
                DateTime<Utc>,
                planledger_plan::Actor,
                planledger_plan::Command,
            )>(256);
            senders.push(tx);
            workers.push(scope.spawn(move || -> anyhow::Result<u64> {
                let mut recorder = Recorder::new(store);
                let mut n = 0u64;
                for (at, actor, command) in rx {
                    recorder
                        .record(&command, &actor, at, None)
                        .map_err(|e| failure(e.exit(), format!("a generated command: {e}")))?;
                    n += 1;
                    bar.inc(1);
                }
                Ok(n)
            }));
        }
        for item in commands {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            item.2.plan().hash(&mut h);
            let worker = (h.finish() % DEMO_WRITERS as u64) as usize;
            if senders[worker].send(item).is_err() {
                // That writer stopped on an error; it is reported below.
                break;
            }
        }
        drop(senders);
        let mut total = 0;
        for w in workers {
            total += w.join().expect("a demo writer panicked")?;
        }
        Ok(total)
    })
}

/// `demo`: a synthetic organisation, recorded, verified, reported on.
pub fn demo(
    loc: &Location,
    clients: usize,
    seed: u64,
    months: u32,
    policy: DeadlinePolicy,
) -> anyhow::Result<()> {
    let org = Organisation {
        seed,
        clients,
        months,
        policy: policy.clone(),
        ..Organisation::default()
    };
    let commands = org.commands().map_err(|e| {
        failure(
            Exit::BadInput,
            format!("cannot generate the organisation: {e}"),
        )
    })?;
    let store = location::create(loc)?;
    eprintln!(
        "recording {clients} synthetic clients over {months} months (seed {seed}) into {}",
        loc.describe()
    );
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos} commands recorded ({per_sec}) {msg}",
            )
            .expect("a valid template"),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let started = std::time::Instant::now();
    let count = record_concurrently(store.as_ref(), commands, &bar)?;
    bar.finish_and_clear();
    let recorded_in = started.elapsed();
    let started = std::time::Instant::now();
    let report = verify_store(store.as_ref(), &[], &mut |_, _| {})?;
    if let Some(v) = &report.violation {
        return Err(failure(
            Exit::Verification,
            format!("the new ledger does not verify at {v}"),
        ));
    }
    let verified_in = started.elapsed();
    println!(
        "recorded {count} commands as {} records in {:.1} s; verified in {:.2} s: {}",
        report.records,
        recorded_in.as_secs_f64(),
        verified_in.as_secs_f64(),
        report.message()
    );
    let projection = Projection::open(store.as_ref()).context("cannot read the ledger")?;
    let last_day = org
        .end_at()
        .date_naive()
        .checked_sub_days(Days::new(1))
        .expect("the period has a last day");
    let scope = Scope::new(last_day);
    use planledger_audit as a;
    println!(
        "as of {last_day}: {} plans; {} deadlines overdue, {} met late; {} unsigned, {} unapproved, {} incomplete",
        projection.plan_count(),
        a::overdue(&projection, &policy, &scope).len(),
        a::late(&projection, &policy, &scope).len(),
        a::unsigned(&projection, &scope).len(),
        a::unapproved(&projection, &scope).len(),
        a::incomplete(&projection, &scope).len(),
    );
    // Seed 001's act, home care, if the organisation has it: the README's example.
    let units = org.units();
    let Some(unit) = units
        .iter()
        .find(|u| u.act == planledger_plan::ActKind::HomeCare)
        .or(units.first())
        .cloned()
    else {
        return Ok(());
    };
    println!("\nunit overview: {} ({})\n", unit.name, unit.id);
    write_rows(
        &a::overview(&projection, &policy, &scope.unit(unit.id)),
        Format::Table,
        Lang::En,
    )?;
    println!(
        "\nnext: `planledger --ledger {loc} audit late --as-of {last_day}`, \
         `… verify`, `… history --plan PLAN`",
        loc = loc.describe()
    );
    Ok(())
}
