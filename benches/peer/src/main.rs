//! The peer benchmark: planledger's PostgreSQL store next to an established Rust
//! event-sourcing framework, cqrs-es with postgres-es, on the same throwaway PostgreSQL
//! server, with the same workload, in the same run.
//!
//! The workload is the synthetic organisation's commands (`planledger-synth`), decided
//! by planledger's own domain (`decide`), so both sides store the same events of the
//! same plans (one stream, or aggregate, per plan):
//!
//! - **append**: one durable transaction per command, by 1 and by `--writers` writers
//!   (plans shared out between them, each plan's commands in order). Ours:
//!   `PostgresStore::append` (hash-chained, Merkle nodes, head row). The peer twice: its
//!   repository (`PostgresEventRepository::persist`, events as JSON rows), and its
//!   framework (`CqrsFramework::execute`: load the aggregate by replaying its events,
//!   `handle` the command with the same `decide`, persist), which is how cqrs-es is used.
//! - **replay**: every plan's events read back and folded into its `PlanState`, plan by
//!   plan (ours `read_stream`, the peer's `get_events` as its `load_aggregate` does), and
//!   the whole store in one pass (ours `read_all`, the peer's `stream_all_events`).
//!   Both replays must give equal states for every plan, or the run fails.
//!
//! The PostgreSQL server is planledger's `TestServer`: fsync and synchronous commit on,
//! so every acknowledged append of either side is durable.
//!
//! This package is a workspace of its own (see its Cargo.toml) so that the project's
//! tests never compile tokio, sqlx and the framework.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use clap::Parser;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventRepository, PersistedEventStore, SerializedEvent};
use cqrs_es::{Aggregate, CqrsFramework, DomainEvent};
use planledger_app::batch_of;
use planledger_plan::{Actor, Command, Event, PlanState, SCHEMA_VERSION, decide};
use planledger_store::{AppendBatch, Store};
use planledger_store_postgres::PostgresStore;
use planledger_store_postgres::testing::TestServer;
use planledger_synth::Organisation;
use postgres_es::PostgresEventRepository;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;

/// The same append and replay workload through planledger and through cqrs-es +
/// postgres-es, on one PostgreSQL server (see BENCHMARKS.md).
#[derive(Debug, Parser)]
struct Flags {
    /// Commands appended (one transaction each) per variant.
    #[arg(long, default_value_t = 5_000)]
    commands: usize,
    /// Concurrent writers for the second round of appends.
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// Months of activity the generator covers.
    #[arg(long, default_value_t = 12)]
    months: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

// ---- cqrs-es side: a plan as an aggregate, planledger's own rules inside ----------------

/// An event as the framework stores it: planledger's event with the time and actor that
/// planledger keeps in its record header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Recorded {
    event: Event,
    at: DateTime<Utc>,
    actor: Actor,
}

impl DomainEvent for Recorded {
    fn event_type(&self) -> String {
        self.event.event_type().to_owned()
    }
    fn event_version(&self) -> String {
        SCHEMA_VERSION.to_string()
    }
}

/// A command as the framework is handed it.
struct Given {
    command: Command,
    at: DateTime<Utc>,
    actor: Actor,
}

#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rejected ({})", self.0)
    }
}

impl std::error::Error for Refused {}

/// The plan aggregate: planledger's `PlanState`. Not snapshotted (the state is rebuilt
/// from events), so it serialises to nothing.
#[derive(Default, Serialize, Deserialize)]
struct PlanAggregate {
    #[serde(skip)]
    state: PlanState,
}

impl Aggregate for PlanAggregate {
    const TYPE: &'static str = "plan";
    type Command = Given;
    type Event = Recorded;
    type Error = Refused;
    type Services = ();

    async fn handle(
        &mut self,
        given: Given,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), Refused> {
        let events = decide(&self.state, &given.command, &given.actor, given.at)
            .map_err(|r| Refused(r.rule()))?;
        for event in events {
            let recorded = Recorded {
                event,
                at: given.at,
                actor: given.actor.clone(),
            };
            sink.write(recorded, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, e: Recorded) {
        self.state.apply(&e.event, e.at, &e.actor);
    }
}

// ---- the workload --------------------------------------------------------------------

/// One command and what `decide` made of it, in every shape the variants need.
struct Step {
    plan: String,
    command: Command,
    at: DateTime<Utc>,
    actor: Actor,
    /// Stream version before the command.
    version: u64,
    events: Vec<Event>,
    /// The application's one mapping from the events to a batch, as the CLI appends.
    batch: AppendBatch,
}

impl Step {
    fn ours(&self) -> AppendBatch {
        self.batch.clone()
    }

    fn peer(&self) -> anyhow::Result<Vec<SerializedEvent>> {
        self.events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let recorded = Recorded {
                    event: e.clone(),
                    at: self.at,
                    actor: self.actor.clone(),
                };
                Ok(SerializedEvent {
                    aggregate_id: self.plan.clone(),
                    sequence: (self.version + 1) as usize + i,
                    aggregate_type: PlanAggregate::TYPE.to_owned(),
                    event_type: recorded.event_type(),
                    event_version: recorded.event_version(),
                    payload: serde_json::to_value(&recorded)?,
                    metadata: serde_json::json!({}),
                })
            })
            .collect()
    }
}

fn workload(org: &Organisation, commands: usize) -> anyhow::Result<Vec<Step>> {
    let mut states: HashMap<String, PlanState> = HashMap::new();
    let mut steps = Vec::with_capacity(commands);
    for (at, actor, command) in org.commands()?.take(commands) {
        let plan = command.plan().as_str().to_owned();
        let state = states.entry(plan.clone()).or_default();
        let events = decide(state, &command, &actor, at)
            .map_err(|r| anyhow::anyhow!("the generator gave a rejected command ({})", r.rule()))?;
        let version = state.stream_version();
        let batch = batch_of(
            command.plan(),
            state,
            version,
            (&actor, at),
            &events,
            &org.policy,
        );
        steps.push(Step {
            plan,
            command,
            at,
            actor,
            version,
            events,
            batch,
        });
    }
    if steps.len() < commands {
        bail!("the organisation has only {} commands", steps.len());
    }
    Ok(steps)
}

/// The steps shared out over `writers` (by plan, so each plan's commands stay in order
/// on one writer).
fn share<T>(steps: Vec<(String, T)>, writers: usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = (0..writers).map(|_| Vec::new()).collect();
    let mut owner: HashMap<String, usize> = HashMap::new();
    let mut next = 0;
    for (plan, step) in steps {
        let w = *owner.entry(plan).or_insert_with(|| {
            next += 1;
            (next - 1) % writers
        });
        out[w].push(step);
    }
    out
}

// ---- measuring -----------------------------------------------------------------------

struct Figures {
    rows: Vec<(String, String)>,
}

impl Figures {
    fn add(&mut self, what: impl Into<String>, figure: impl Into<String>) {
        let (what, figure) = (what.into(), figure.into());
        eprintln!("  {what}: {figure}");
        self.rows.push((what, figure));
    }
}

/// A count per second, rounded.
fn rate(n: usize, t: Duration) -> String {
    format!("{:.0}", n as f64 / t.as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let per_client = 34.0; // commands per client-year, as bench-scale measures
    let clients = ((flags.commands as f64 / per_client) * 1.2).ceil() as usize + 10;
    let org = Organisation {
        seed: flags.seed,
        clients,
        months: flags.months,
        ..Organisation::default()
    };
    let steps = workload(&org, flags.commands)?;
    let events: usize = steps.iter().map(|s| s.events.len()).sum();
    let plans: Vec<String> = {
        let mut p: Vec<String> = steps.iter().map(|s| s.plan.clone()).collect();
        p.sort();
        p.dedup();
        p
    };
    eprintln!(
        "{} commands, {events} events, {} plans; starting PostgreSQL …",
        steps.len(),
        plans.len()
    );
    let server = TestServer::start().context("starting the throwaway PostgreSQL server")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut fig = Figures { rows: Vec::new() };
    let writer_counts = {
        let mut w = vec![1, flags.writers.max(1)];
        w.dedup();
        w
    };
    // The last round's databases are kept for the replays.
    let mut ours_store = None;
    let mut peer_pool = None;
    for &writers in &writer_counts {
        // Ours.
        let url = server.create_database()?;
        planledger_store_postgres::migrate(&url)?;
        let store = Arc::new(PostgresStore::create(&url, "bench")?);
        let parts = share(
            steps.iter().map(|s| (s.plan.clone(), s.ours())).collect(),
            writers,
        );
        let started = Instant::now();
        std::thread::scope(|sc| -> anyhow::Result<()> {
            let handles: Vec<_> = parts
                .into_iter()
                .map(|part| {
                    let store = Arc::clone(&store);
                    sc.spawn(move || -> anyhow::Result<()> {
                        for b in part {
                            store.append(b)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            for h in handles {
                h.join().expect("writer does not panic")?;
            }
            Ok(())
        })?;
        let t = started.elapsed();
        fig.add(
            format!("append, {writers} writer(s): planledger PostgresStore::append"),
            format!(
                "{} commands/s ({} events/s)",
                rate(steps.len(), t),
                rate(events, t)
            ),
        );
        if store.head()?.size != events as u64 {
            bail!(
                "planledger holds {} records, {events} expected",
                store.head()?.size
            );
        }
        ours_store = Some(store);

        // The peer's repository.
        let peer_url = server.create_database()?;
        let pool = rt.block_on(peer_pool_for(&peer_url, writers))?;
        let repo = Arc::new(PostgresEventRepository::new(pool.clone()));
        let parts = share(
            steps
                .iter()
                .map(|s| Ok((s.plan.clone(), s.peer()?)))
                .collect::<anyhow::Result<Vec<_>>>()?,
            writers,
        );
        let started = Instant::now();
        rt.block_on(async {
            let tasks: Vec<_> = parts
                .into_iter()
                .map(|part| {
                    let repo = Arc::clone(&repo);
                    tokio::spawn(async move {
                        for evs in part {
                            repo.persist::<PlanAggregate>(&evs, None).await?;
                        }
                        anyhow::Ok(())
                    })
                })
                .collect();
            for t in tasks {
                t.await??;
            }
            anyhow::Ok(())
        })?;
        let t = started.elapsed();
        fig.add(
            format!("append, {writers} writer(s): postgres-es PostgresEventRepository::persist"),
            format!(
                "{} commands/s ({} events/s)",
                rate(steps.len(), t),
                rate(events, t)
            ),
        );
        let rows: i64 =
            rt.block_on(sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&pool))?;
        if rows != events as i64 {
            bail!("postgres-es holds {rows} events, {events} expected");
        }

        // The peer's framework: load (replay), handle, persist, per command.
        let fw_url = server.create_database()?;
        let fw_pool = rt.block_on(peer_pool_for(&fw_url, writers))?;
        let cqrs = Arc::new(CqrsFramework::new(
            PersistedEventStore::<_, PlanAggregate>::new_event_store(PostgresEventRepository::new(
                fw_pool.clone(),
            )),
            vec![],
            (),
        ));
        let parts = share(
            steps
                .iter()
                .map(|s| {
                    (
                        s.plan.clone(),
                        (
                            s.plan.clone(),
                            Given {
                                command: s.command.clone(),
                                at: s.at,
                                actor: s.actor.clone(),
                            },
                        ),
                    )
                })
                .collect(),
            writers,
        );
        let started = Instant::now();
        rt.block_on(async {
            let tasks: Vec<_> = parts
                .into_iter()
                .map(|part| {
                    let cqrs = Arc::clone(&cqrs);
                    tokio::spawn(async move {
                        for (plan, given) in part {
                            cqrs.execute(&plan, given)
                                .await
                                .map_err(|e| anyhow::anyhow!("cqrs-es execute: {e}"))?;
                        }
                        anyhow::Ok(())
                    })
                })
                .collect();
            for t in tasks {
                t.await??;
            }
            anyhow::Ok(())
        })?;
        let t = started.elapsed();
        fig.add(
            format!("append, {writers} writer(s): cqrs-es CqrsFramework::execute (load + decide + persist)"),
            format!("{} commands/s ({} events/s)", rate(steps.len(), t), rate(events, t)),
        );
        let rows: i64 =
            rt.block_on(sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&fw_pool))?;
        if rows != events as i64 {
            bail!("the framework stored {rows} events, {events} expected");
        }
        peer_pool = Some(pool);
    }

    // Replays, on the last round's databases.
    let store = ours_store.expect("one round ran");
    let pool = peer_pool.expect("one round ran");
    let repo = PostgresEventRepository::new(pool);

    let started = Instant::now();
    let mut ours_states: HashMap<String, PlanState> = HashMap::new();
    for plan in &plans {
        let mut state = PlanState::new();
        for r in store.read_stream(plan, 1, usize::MAX)? {
            state.apply_entry(r.entry())?;
        }
        ours_states.insert(plan.clone(), state);
    }
    let t = started.elapsed();
    fig.add(
        "replay plan by plan: planledger read_stream + fold",
        format!(
            "{} plans/s ({} events/s)",
            rate(plans.len(), t),
            rate(events, t)
        ),
    );

    let started = Instant::now();
    let mut peer_states: HashMap<String, PlanState> = HashMap::new();
    rt.block_on(async {
        for plan in &plans {
            let mut agg = PlanAggregate::default();
            for e in repo.get_events::<PlanAggregate>(plan).await? {
                let recorded: Recorded = serde_json::from_value(e.payload)?;
                agg.apply(recorded);
            }
            peer_states.insert(plan.clone(), agg.state);
        }
        anyhow::Ok(())
    })?;
    let t = started.elapsed();
    fig.add(
        "replay plan by plan: postgres-es get_events + fold",
        format!(
            "{} plans/s ({} events/s)",
            rate(plans.len(), t),
            rate(events, t)
        ),
    );
    if ours_states != peer_states {
        bail!("the two replays disagree on some plan's state");
    }

    let started = Instant::now();
    let mut all: HashMap<String, PlanState> = HashMap::new();
    let mut from = 0u64;
    loop {
        let records = store.read_all(from, 8192)?;
        if records.is_empty() {
            break;
        }
        from += records.len() as u64;
        for r in &records {
            all.entry(r.stream_id().to_owned())
                .or_default()
                .apply_entry(r.entry())?;
        }
    }
    let t = started.elapsed();
    fig.add(
        "replay the whole store: planledger read_all + fold",
        format!("{} events/s", rate(events, t)),
    );
    if all != ours_states {
        bail!("planledger's whole-store replay disagrees with its per-plan replay");
    }

    let started = Instant::now();
    let mut all_peer: HashMap<String, PlanState> = HashMap::new();
    rt.block_on(async {
        let mut stream = repo.stream_all_events::<PlanAggregate>().await?;
        // Ordered by sequence across aggregates (postgres-es's order), which still keeps
        // each aggregate's events in order.
        while let Some(e) = stream.next::<PlanAggregate>(&[]).await {
            let e = e?;
            all_peer.entry(e.aggregate_id.clone()).or_default().apply(
                &e.payload.event,
                e.payload.at,
                &e.payload.actor,
            );
        }
        anyhow::Ok(())
    })?;
    let t = started.elapsed();
    fig.add(
        "replay the whole store: postgres-es stream_all_events + fold",
        format!("{} events/s", rate(events, t)),
    );
    if all_peer != ours_states {
        bail!("postgres-es's whole-store replay disagrees with planledger's");
    }

    println!(
        "\n{} commands ({events} events, {} plans), one PostgreSQL 15 server (fsync on, synchronous_commit on)\n",
        steps.len(),
        plans.len()
    );
    println!("| what | figure |\n|---|---:|");
    for (what, figure) in &fig.rows {
        println!("| {what} | {figure} |");
    }
    drop(server);
    Ok(())
}

/// A pool for the peer with room for every writer, and postgres-es's table.
async fn peer_pool_for(url: &str, writers: usize) -> anyhow::Result<sqlx::PgPool> {
    // The harness's URL carries libpq's connect_timeout, which sqlx does not take.
    let url = url.split('?').next().unwrap_or(url);
    let pool = PgPoolOptions::new()
        .max_connections(writers as u32 + 2)
        .connect(url)
        .await
        .context("connecting sqlx to the test server")?;
    // postgres-es's documented table (its db/init.sql).
    sqlx::query(
        "CREATE TABLE events (
            aggregate_type text NOT NULL,
            aggregate_id text NOT NULL,
            sequence bigint CHECK (sequence >= 0) NOT NULL,
            event_type text NOT NULL,
            event_version text NOT NULL,
            payload json NOT NULL,
            metadata json NOT NULL,
            PRIMARY KEY (aggregate_type, aggregate_id, sequence)
        )",
    )
    .execute(&pool)
    .await?;
    Ok(pool)
}
