//! The demonstration: a synthetic organisation recorded into a new ledger by concurrent
//! writers through the [`Recorder`], then verified.

use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use planledger_audit::{Format, Lang, Scope};
use planledger_plan::{ActKind, Actor, Command, DeadlinePolicy};
use planledger_store::{Store, VerifyReport, verify_store};
use planledger_synth::Organisation;

use crate::error::{Error, Kind, Result};
use crate::location::Location;
use crate::read::{Output, Report, write_report};
use crate::recorder::Recorder;

/// Concurrent writers. Each append is durable (one fsync) before it returns; the store
/// commits the appends that queue up meanwhile together, so writers that wait on the
/// disk side by side multiply the throughput.
const WRITERS: usize = 32;

/// What the demo did.
pub struct Demo {
    pub store: Box<dyn Store>,
    pub commands: u64,
    pub recorded_in: Duration,
    pub verified_in: Duration,
    pub report: VerifyReport,
}

/// Records `commands` with [`WRITERS`] threads. All commands of one plan go to the same
/// writer, in order, so each plan's stream is exactly as generated; only the
/// interleaving of plans in the global order varies from run to run.
pub fn record_concurrently(
    store: &dyn Store,
    commands: impl Iterator<Item = (DateTime<Utc>, Actor, Command)>,
    policy: &DeadlinePolicy,
    on_recorded: &(dyn Fn() + Sync),
) -> Result<u64> {
    std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(WRITERS);
        let mut workers = Vec::with_capacity(WRITERS);
        for _ in 0..WRITERS {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(DateTime<Utc>, Actor, Command)>(256);
            senders.push(tx);
            workers.push(scope.spawn(move || -> Result<u64> {
                let mut recorder = Recorder::new(store, policy.clone());
                let mut n = 0u64;
                for (at, actor, command) in rx {
                    recorder
                        .record(&command, &actor, at, None)
                        .map_err(|e| Error::new(e.kind(), format!("a generated command: {e}")))?;
                    n += 1;
                    on_recorded();
                }
                Ok(n)
            }));
        }
        for item in commands {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            item.2.plan().hash(&mut h);
            let worker = (h.finish() % WRITERS as u64) as usize;
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

/// The demo's period: it ends on `until` (today in Sweden at `now` without one, never
/// later) and lasts `months` months. Returns its last day and its first.
pub fn period(
    until: Option<NaiveDate>,
    months: u32,
    now: DateTime<Utc>,
) -> Result<(NaiveDate, NaiveDate)> {
    let today = planledger_plan::swedish_date(now);
    let until = until.unwrap_or(today);
    if until > today {
        return Err(Error::new(
            Kind::BadInput,
            format!("--until is after today ({today}): the demo records nothing in the future"),
        ));
    }
    Ok((until, start_of_period_ending(until, months)?))
}

/// The first day of a `months`-month period whose last day is `until` (the period then
/// ends at midnight after `until`, or up to three days earlier when the month
/// arithmetic clamps a day such as the 31st).
fn start_of_period_ending(until: NaiveDate, months: u32) -> Result<NaiveDate> {
    until
        .succ_opt()
        .and_then(|end| end.checked_sub_months(chrono::Months::new(months)))
        .ok_or_else(|| {
            Error::new(
                Kind::BadInput,
                "the demo's period does not fit the supported dates: choose another --until or --months",
            )
        })
}

/// Generates `org`, records what happened up to `not_after` (nothing in the future) into
/// a new ledger at `loc` and verifies it. The generator's stream is in time order and
/// every plan's commands follow each other in it, so what is left out is the end of
/// some plans' courses, never a command in the middle of one.
pub fn run(
    loc: &Location,
    org: &Organisation,
    not_after: DateTime<Utc>,
    on_recorded: &(dyn Fn() + Sync),
) -> Result<Demo> {
    let commands = org.commands().map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!("cannot generate the organisation: {e}"),
        )
    })?;
    let commands = commands.filter(move |(at, _, _)| *at <= not_after);
    let store = loc.create()?;
    let started = Instant::now();
    let count = record_concurrently(store.as_ref(), commands, &org.policy, on_recorded)?;
    let recorded_in = started.elapsed();
    let started = Instant::now();
    let report = verify_store(store.as_ref(), &[], &mut |_, _| {})?;
    if let Some(v) = &report.violation {
        return Err(Error::new(
            Kind::Verification,
            format!("the new ledger does not verify at {v}"),
        ));
    }
    Ok(Demo {
        store,
        commands: count,
        recorded_in,
        verified_in: started.elapsed(),
        report,
    })
}

/// Writes what the demo's ledger holds as of the Swedish day `last_day`: the counts of
/// every report, then the overview of a home-care unit (seed 001's act, the README's
/// example) or the first unit that has plans.
pub fn report(
    store: &dyn Store,
    org: &Organisation,
    last_day: NaiveDate,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    use planledger_audit as a;
    let plans = crate::read::plans(store)?;
    let p = &plans;
    let (policy, scope) = (&org.policy, Scope::new(last_day));
    let written = |e| Error::io("cannot write the output", e);
    writeln!(
        out,
        "as of {last_day}: {} plans; {} deadlines overdue, {} met late; {} unsigned, {} unapproved, {} incomplete",
        store.tag_values(planledger_projection::TAG_UNIT)?.len(),
        a::overdue(p, policy, &scope)?.len(),
        a::late(p, policy, &scope)?.len(),
        a::unsigned(p, &scope)?.len(),
        a::unapproved(p, policy, &scope)?.len(),
        a::incomplete(p, &scope)?.len(),
    )
    .map_err(written)?;
    // A unit that has plans (a small organisation leaves some units empty).
    let mut units = Vec::new();
    for unit in org.units() {
        if planledger_projection::Plans::has_unit(p, &unit.id)? {
            units.push(unit);
        }
    }
    if let Some(unit) = units
        .iter()
        .find(|u| u.act == ActKind::HomeCare)
        .or(units.first())
    {
        writeln!(out, "\nunit overview: {} ({})\n", unit.name, unit.id).map_err(written)?;
        let output = Output {
            format: Format::Table,
            lang: Lang::En,
        };
        let scope = scope.unit(unit.id.clone());
        write_report(p, Report::Overview, policy, &scope, None, output, out)?;
    }
    Ok(())
}
