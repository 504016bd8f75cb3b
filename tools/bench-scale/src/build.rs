//! Ledgers from the synthetic generator, built once and cached.
//!
//! Building a ledger of a million records through `Store::append` would take one fsync
//! per command (hours on this disk), and the benches measure reading, not writing. So a
//! ledger is built the way a bulk copy is: the generator's commands go through the
//! domain's `decide` (every event is one the CLI would have recorded), the events are
//! sealed into a chain here, and the records are written with `Store::append_sealed` in
//! large chunks, which checks that every record continues the chain. The result is the
//! same ledger, byte for byte, as recording the commands one by one at the same times.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use planledger_app::batch_of;
use planledger_ledger::{Entry, Hash, seal};
use planledger_plan::{Actor, Command, Event, PlanId, PlanState, decide};
use planledger_store::{AppendBatch, Store};
use planledger_store_redb::RedbStore;
use planledger_synth::{Organisation, import_line};

/// Records sealed and written per `append_sealed` call (one redb commit each).
const WRITE_CHUNK: usize = 16_384;

/// Clients sampled to learn how many commands and records one client makes.
const SAMPLE_CLIENTS: usize = 500;

/// A ledger on disk and what it holds.
pub struct Ledger {
    pub path: PathBuf,
    pub org: Organisation,
    pub records: u64,
    /// How long building took, if it was built in this run (not taken from the cache).
    pub built_in: Option<Duration>,
}

/// Commands and records one client makes over the organisation's period, on average.
pub struct PerClient {
    pub commands: f64,
    pub records: f64,
}

/// Measures [`PerClient`] on a small organisation with the same period and seed.
pub fn per_client(org: &Organisation) -> anyhow::Result<PerClient> {
    let sample = Organisation {
        clients: SAMPLE_CLIENTS,
        ..org.clone()
    };
    let mut commands = 0u64;
    let records = decided(&sample, None, |_entries| {
        commands += 1;
        Ok(true)
    })?;
    Ok(PerClient {
        commands: commands as f64 / SAMPLE_CLIENTS as f64,
        records: records as f64 / SAMPLE_CLIENTS as f64,
    })
}

/// Runs every command of `org` through `decide`, in order, and hands each command's
/// entries (one per event) to `sink`, until `sink` returns `false` or `limit` records
/// are reached (at a command boundary: the ledger may end a few records past it).
/// Returns the number of entries handed over.
fn decided(
    org: &Organisation,
    limit: Option<u64>,
    mut sink: impl FnMut(Vec<Entry>) -> anyhow::Result<bool>,
) -> anyhow::Result<u64> {
    let mut states: HashMap<PlanId, PlanState> = HashMap::new();
    let mut count = 0u64;
    for (at, actor, command) in org.commands()? {
        let entries = decide_one(&mut states, &command, &actor, at)?;
        count += entries.len() as u64;
        if !sink(entries)? || limit.is_some_and(|l| count >= l) {
            break;
        }
    }
    Ok(count)
}

fn decide_one(
    states: &mut HashMap<PlanId, PlanState>,
    command: &Command,
    actor: &Actor,
    at: DateTime<Utc>,
) -> anyhow::Result<Vec<Entry>> {
    let (read, events, state) = decide_events(states, command, actor, at)?;
    for e in &events {
        state.apply(e, at, actor);
    }
    let plan = command.plan();
    Ok(events
        .iter()
        .enumerate()
        .map(|(i, e)| e.to_entry(plan, read + 1 + i as u64, at, actor))
        .collect())
}

/// Decides `command` against the plan's state in `states`; returns the plan's stream
/// version it was decided at, the events, and the state (for the caller to apply them).
fn decide_events<'s>(
    states: &'s mut HashMap<PlanId, PlanState>,
    command: &Command,
    actor: &Actor,
    at: DateTime<Utc>,
) -> anyhow::Result<(u64, Vec<Event>, &'s mut PlanState)> {
    let state = states.entry(command.plan().clone()).or_default();
    let read = state.stream_version();
    let events = decide(state, command, actor, at).map_err(|r| {
        anyhow::anyhow!("the generator gave a command decide rejects ({})", r.rule())
    })?;
    Ok((read, events, state))
}

/// The cached ledger of `org`'s first `limit` records (all of them if `None`), built if
/// the cache does not hold a complete one.
pub fn ledger(
    cache: &Path,
    name: &str,
    org: &Organisation,
    limit: Option<u64>,
) -> anyhow::Result<Ledger> {
    let path = cache.join(format!("{name}.redb"));
    let marker = cache.join(format!("{name}.complete"));
    if let Ok(text) = std::fs::read_to_string(&marker)
        && let Ok(records) = text.trim().parse::<u64>()
        && let Ok(store) = RedbStore::open(&path)
        && store.head().map(|h| h.size).ok() == Some(records)
    {
        // Records of an earlier build of the bench are kept; an index of another
        // version is rebuilt from them, as users do with `reindex`.
        if planledger_projection::LedgerPlans::open(&store).is_err() {
            eprintln!("bench-scale: reindexing the cached {name}");
            planledger_app::index::reindex(&store, &org.policy, &mut |_, _| {})?;
        }
        return Ok(Ledger {
            path,
            org: org.clone(),
            records,
            built_in: None,
        });
    }
    // A partial file from an interrupted build is never reused.
    let _ = std::fs::remove_file(&marker);
    let _ = std::fs::remove_file(&path);
    std::fs::create_dir_all(cache).with_context(|| format!("cannot create {}", cache.display()))?;
    let started = Instant::now();
    let store =
        RedbStore::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    let records = build_into(&store, org, limit)?;
    // Sealed in bulk, the records carry no plan index yet: derive it, as `copy` does.
    planledger_app::index::reindex(&store, &org.policy, &mut |_, _| {})?;
    drop(store);
    let built_in = started.elapsed();
    std::fs::write(&marker, format!("{records}\n"))
        .with_context(|| format!("cannot write {}", marker.display()))?;
    Ok(Ledger {
        path,
        org: org.clone(),
        records,
        built_in: Some(built_in),
    })
}

/// Generates and decides on one thread, seals and writes on another.
fn build_into(store: &RedbStore, org: &Organisation, limit: Option<u64>) -> anyhow::Result<u64> {
    let (tx, rx) = mpsc::sync_channel::<Vec<Entry>>(4);
    std::thread::scope(|s| {
        let producer = s.spawn(move || {
            let mut chunk = Vec::with_capacity(WRITE_CHUNK);
            let n = decided(org, limit, |entries| {
                chunk.extend(entries);
                if chunk.len() >= WRITE_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(WRITE_CHUNK));
                    // The writer stopped (an error): stop generating.
                    return Ok(tx.send(full).is_ok());
                }
                Ok(true)
            })?;
            if !chunk.is_empty() {
                let _ = tx.send(chunk);
            }
            anyhow::Ok(n)
        });
        let mut position = 0u64;
        let mut prev = Hash::ZERO;
        // A generated ledger is sealed as if each record were written when it claims to
        // be (never going back), so that nothing in it reads as back-dated.
        let mut sealed_at = i64::MIN;
        let mut written = Ok(());
        for entries in rx {
            let mut records = Vec::with_capacity(entries.len());
            for e in &entries {
                sealed_at = sealed_at.max(e.claimed_at_micros);
                let r = seal(position, prev, sealed_at, e).context("sealing a generated event")?;
                prev = r.hash();
                position += 1;
                records.push(r);
            }
            if let Err(e) = store.append_sealed(&records) {
                written = Err(anyhow::Error::from(e).context("writing generated records"));
                break;
            }
        }
        // Dropping the receiver (end of loop) unblocks a producer waiting to send.
        let generated = producer
            .join()
            .expect("the generator thread does not panic")?;
        written?;
        if generated != position {
            bail!("generated {generated} records but wrote {position}");
        }
        Ok(position)
    })
}

/// The same commands three ways, for the import bench: as JSON Lines (the CLI's import
/// format), as one append batch per command (what the CLI appends), and the records
/// those appends seal.
pub struct ImportSet {
    pub lines: Vec<String>,
    pub batches: Vec<AppendBatch>,
    pub records: u64,
}

/// The first `commands` commands of `org`, decided in order.
pub fn import_set(org: &Organisation, commands: u64) -> anyhow::Result<ImportSet> {
    let mut states: HashMap<PlanId, PlanState> = HashMap::new();
    let mut set = ImportSet {
        lines: Vec::new(),
        batches: Vec::new(),
        records: 0,
    };
    for (at, actor, command) in org.commands()?.take(commands as usize) {
        let (read, events, state) = decide_events(&mut states, &command, &actor, at)?;
        set.records += events.len() as u64;
        set.batches.push(batch_of(
            command.plan(),
            state,
            read,
            (&actor, at),
            &events,
            &org.policy,
        ));
        set.lines
            .push(serde_json::to_string(&import_line(at, actor, command))?);
    }
    if (set.lines.len() as u64) < commands {
        bail!(
            "the import organisation has only {} commands, {commands} were asked for",
            set.lines.len()
        );
    }
    Ok(set)
}
