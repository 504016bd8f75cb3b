//! The bounded load test of `planledger serve` (issue 17): on loopback only, for a fixed
//! time, concurrent readers and writers against a real service on an embedded ledger in
//! a temporary directory, and the same calls on the library directly (the application's
//! `Recorder` and `read::show` / `read::history`) in the same run, interleaved.
//!
//! ```sh
//! cargo bench --bench serve_load                       # 20 s per side
//! PLANLEDGER_LOAD_SECS=60 PLANLEDGER_LOAD_READERS=8 cargo bench --bench serve_load
//! ```
//!
//! Environment: `PLANLEDGER_LOAD_SECS` (seconds per side, default 20), `_READERS` and
//! `_WRITERS` (threads per side, default 4 each; 0 leaves that kind of call out), `_CLIENTS` (plans preloaded, default
//! 300), `_ROUNDS` (the time of each side is cut into this many slices, the sides
//! alternating, default 4).
//!
//! The run fails (exit 1) unless every request succeeded, every acknowledged write is
//! in the ledger afterwards at the position it was acknowledged at (by its command id),
//! each plan has exactly its acknowledged records more than before, both chains verify
//! (`verify_store`), and the access log holds one entry per read over HTTP.
//!
//! `cargo test --all-targets` builds this and runs it without `--bench`: it then only
//! says how to run it (the tests must not take 40 s of a shared machine).

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use planledger_app::read::{self, Output, Which};
use planledger_app::{Location, Recorder, Request};
use planledger_audit::{Format, Lang, Scope, Subject};
use planledger_plan::{Actor, Command, CommandId, ImportLine, PlanId, Role, UserId, swedish_date};
use planledger_serve::Config;
use planledger_serve::auth::token_sha256;
use planledger_store::Store;

const WRITER_TOKEN: &str = "load-test-writer-token-5d1e";
const READER_TOKEN: &str = "load-test-reader-token-a93c";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be a whole number"))
        })
        .unwrap_or(default)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Call {
    Write,
    Show,
    History,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Side {
    Http,
    Library,
}

/// What one side's threads saw.
#[derive(Default)]
struct Tally {
    /// Latencies in microseconds, by call.
    micros: HashMap<Call, Vec<u32>>,
    errors: Vec<String>,
    /// Acknowledged writes: (command id, position, plan).
    acked: Vec<(String, u64, PlanId)>,
    /// Wall time the side ran.
    wall: Duration,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (k, mut v) in other.micros {
            self.micros.entry(k).or_default().append(&mut v);
        }
        self.errors.extend(other.errors);
        self.acked.extend(other.acked);
    }

    fn time(&mut self, call: Call, started: Instant) {
        let us = started.elapsed().as_micros().min(u32::MAX as u128) as u32;
        self.micros.entry(call).or_default().push(us);
    }
}

/// A small deterministic generator (xorshift64*): which plan a reader reads.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

fn deviation(plan: &PlanId, n: u64) -> Command {
    Command::RecordDeviation {
        plan: plan.clone(),
        occurred_on: swedish_date(Utc::now()),
        service: None,
        description: format!("Belastningstest: avvikelse nummer {n}"),
    }
}

fn writer_actor() -> Actor {
    Actor::new(UserId::new("kim").unwrap(), Role::KeyWorker)
}

/// The plans a writer of `side` may append to: its share of the open plans.
fn share(open: &[PlanId], side: Side, w: usize, writers: usize) -> Vec<PlanId> {
    let parity = if side == Side::Http { 0 } else { 1 };
    open.iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == parity && (i / 2) % writers == w)
        .map(|(_, p)| p.clone())
        .collect()
}

struct Shared {
    store: Arc<dyn Store>,
    base: String,
    readable: Vec<PlanId>,
    open: Vec<PlanId>,
    readers: usize,
    writers: usize,
    /// Writes so far, by side and writer (command ids stay unique across slices).
    seq: Mutex<HashMap<(Side, usize), u64>>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

fn http_reader(s: &Shared, r: usize, until: Instant) -> Tally {
    let agent = agent();
    let mut t = Tally::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (r as u64 + 1));
    let mut i = 0u64;
    while Instant::now() < until {
        let plan = &s.readable[rng.below(s.readable.len())];
        let (call, url) = if i % 2 == 0 {
            (Call::Show, format!("{}/v1/plans/{plan}", s.base))
        } else {
            (Call::History, format!("{}/v1/plans/{plan}/history", s.base))
        };
        i += 1;
        let started = Instant::now();
        let outcome = agent
            .get(&url)
            .header("Authorization", format!("Bearer {READER_TOKEN}"))
            .header("X-Purpose", "belastningstest")
            .call()
            .map_err(|e| e.to_string())
            .and_then(|mut resp| {
                let status = resp.status().as_u16();
                let body = resp.body_mut().read_to_vec().map_err(|e| e.to_string())?;
                if status == 200 && !body.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "{call:?}: status {status}: {}",
                        String::from_utf8_lossy(&body)
                    ))
                }
            });
        t.time(call, started);
        if let Err(e) = outcome {
            t.errors.push(e);
        }
    }
    t
}

fn library_reader(s: &Shared, r: usize, until: Instant) -> Tally {
    let mut t = Tally::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (r as u64 + 1));
    let output = Output {
        format: Format::Json,
        lang: Lang::Sv,
    };
    let mut i = 0u64;
    while Instant::now() < until {
        let plan = &s.readable[rng.below(s.readable.len())];
        let mut out = Vec::new();
        let started = Instant::now();
        let (call, outcome) = if i % 2 == 0 {
            let o = read::show(
                s.store.as_ref(),
                plan,
                Which::Current,
                false,
                output,
                &mut out,
            );
            (Call::Show, o)
        } else {
            let scope = Scope::new(swedish_date(Utc::now()));
            let subject = Subject::Plan(plan.clone());
            let o = read::history(s.store.as_ref(), &scope, &subject, output, &mut out);
            (Call::History, o)
        };
        i += 1;
        t.time(call, started);
        if let Err(e) = outcome {
            t.errors.push(format!("{call:?}: {e}"));
        }
    }
    t
}

fn next_seq(s: &Shared, side: Side, w: usize) -> u64 {
    let mut seq = s.seq.lock().unwrap();
    let n = seq.entry((side, w)).or_default();
    *n += 1;
    *n
}

fn http_writer(s: &Shared, w: usize, until: Instant) -> Tally {
    let agent = agent();
    let mut t = Tally::default();
    let plans = share(&s.open, Side::Http, w, s.writers);
    let url = format!("{}/v1/commands", s.base);
    while Instant::now() < until {
        let n = next_seq(s, Side::Http, w);
        let plan = &plans[n as usize % plans.len()];
        let key = format!("load-http-w{w}-n{n}");
        let line = ImportLine {
            id: None,
            actor: writer_actor(),
            at: Some(Utc::now()),
            expect_version: None,
            command: deviation(plan, n),
        };
        let body = serde_json::to_string(&line).unwrap();
        let started = Instant::now();
        let outcome = agent
            .post(&url)
            .header("Authorization", format!("Bearer {WRITER_TOKEN}"))
            .header("Idempotency-Key", &key)
            .header("Content-Type", "application/json")
            .send(&body)
            .map_err(|e| e.to_string())
            .and_then(|mut resp| {
                let status = resp.status().as_u16();
                let text = resp
                    .body_mut()
                    .read_to_string()
                    .map_err(|e| e.to_string())?;
                if status != 201 {
                    return Err(format!("write: status {status}: {text}"));
                }
                let v: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| e.to_string())?;
                v["recorded"][0]["position"]
                    .as_u64()
                    .ok_or_else(|| format!("write: no position in {text}"))
            });
        t.time(Call::Write, started);
        match outcome {
            Ok(position) => t.acked.push((key, position, plan.clone())),
            Err(e) => t.errors.push(e),
        }
    }
    t
}

fn library_writer(s: &Shared, w: usize, until: Instant) -> Tally {
    let mut t = Tally::default();
    let plans = share(&s.open, Side::Library, w, s.writers);
    let mut recorder = Recorder::new(s.store.as_ref(), Default::default());
    let actor = writer_actor();
    while Instant::now() < until {
        let n = next_seq(s, Side::Library, w);
        let plan = &plans[n as usize % plans.len()];
        let key = format!("load-lib-w{w}-n{n}");
        let id = CommandId::new(key.clone()).unwrap();
        let command = deviation(plan, n);
        let started = Instant::now();
        let outcome = recorder.record_request(&Request {
            command: &command,
            actor: &actor,
            at: Utc::now(),
            expect_version: None,
            command_id: Some(&id),
        });
        t.time(Call::Write, started);
        match outcome {
            Ok(r) => t.acked.push((key, r[0].position, plan.clone())),
            Err(e) => t.errors.push(format!("write: {e}")),
        }
    }
    t
}

/// Runs one side's readers and writers for `slice`.
fn run_slice(s: &Shared, side: Side, slice: Duration) -> Tally {
    let until = Instant::now() + slice;
    let started = Instant::now();
    let mut total = Tally::default();
    std::thread::scope(|scope| {
        let mut threads = Vec::new();
        for r in 0..s.readers {
            threads.push(scope.spawn(move || match side {
                Side::Http => http_reader(s, r, until),
                Side::Library => library_reader(s, r, until),
            }));
        }
        for w in 0..s.writers {
            threads.push(scope.spawn(move || match side {
                Side::Http => http_writer(s, w, until),
                Side::Library => library_writer(s, w, until),
            }));
        }
        for t in threads {
            total.merge(t.join().expect("a load thread panicked"));
        }
    });
    total.wall = started.elapsed();
    total
}

/// The nearest-rank percentile of sorted `v`, in milliseconds.
fn pct(v: &[u32], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1] as f64 / 1000.0
}

/// fdatasyncs per second of 512-byte appends to a file in `dir`: the disk's limit for
/// a writer that waits for its own commit.
fn fdatasync_rate(dir: &std::path::Path) -> f64 {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).unwrap();
    let started = Instant::now();
    for _ in 0..200 {
        f.write_all(&[7u8; 512]).unwrap();
        f.sync_data().unwrap();
    }
    let rate = 200.0 / started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(path);
    rate
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "serve_load: a load test of some 40 s; run it with `cargo bench --bench serve_load`"
        );
        return;
    }
    let secs = env_or("PLANLEDGER_LOAD_SECS", 20);
    let readers = env_or("PLANLEDGER_LOAD_READERS", 4) as usize;
    let writers = env_or("PLANLEDGER_LOAD_WRITERS", 4) as usize;
    let clients = env_or("PLANLEDGER_LOAD_CLIENTS", 300) as usize;
    let rounds = env_or("PLANLEDGER_LOAD_ROUNDS", 4).max(1) as u32;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "serve_load: {secs} s per side in {rounds} alternating slices, {readers} readers and {writers} writers per side, \
         {clients} clients preloaded; {cores} cores, load average {} at the start",
        loadavg()
    );

    // An embedded ledger in a temporary directory, preloaded with a synthetic
    // organisation (three months of its plans).
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let policy = planledger_plan::DeadlinePolicy::default();
    let store: Arc<dyn Store> = Arc::from(Location::Dir(ledger.clone()).create().unwrap());
    let org = planledger_synth::Organisation {
        clients,
        months: 3,
        ..Default::default()
    };
    let preloaded = planledger_app::demo::record_concurrently(
        store.as_ref(),
        org.commands().unwrap(),
        &policy,
        &|| {},
    )
    .unwrap();
    let mut readable = Vec::new();
    let mut open = Vec::new();
    let mut before: HashMap<PlanId, u64> = HashMap::new();
    for i in 0..clients {
        let plan = planledger_synth::plan_id(i as u32);
        let state = planledger_app::load_plan(store.as_ref(), &plan).unwrap();
        if state.current_version().is_some() {
            readable.push(plan.clone());
        }
        if state.plan().is_some() && !state.is_closed() {
            open.push(plan.clone());
        }
        before.insert(plan, state.stream_version());
    }
    assert!(
        open.len() >= 2 * writers,
        "too few open plans ({}) for {writers} writers per side",
        open.len()
    );
    let fsyncs = fdatasync_rate(dir.path());
    println!(
        "preloaded {preloaded} commands ({} records); {} plans readable, {} open; fdatasync: {fsyncs:.0}/s",
        store.head().unwrap().size,
        readable.len(),
        open.len()
    );

    // The service, on loopback, on the same stores.
    let access_dir = dir.path().join("access-log");
    let access: Arc<dyn Store> = Arc::from(Location::Dir(access_dir).open_or_create().unwrap());
    let config = Config::parse(&format!(
        r#"
listen = "127.0.0.1:0"
ledger = "{}"
[[users]]
user = "kim"
role = "key_worker"
units = ["*"]
[[systems]]
name = "journal"
token_sha256 = "{}"
on_behalf_of_users = true
[[systems]]
name = "registrar"
token_sha256 = "{}"
role = "admin"
units = ["*"]
"#,
        ledger.display(),
        token_sha256(WRITER_TOKEN),
        token_sha256(READER_TOKEN),
    ))
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let running = rt
        .block_on(planledger_serve::start_with_stores(
            config,
            planledger_serve::system_clock(),
            store.clone(),
            access.clone(),
        ))
        .unwrap();
    assert!(running.addr.ip().is_loopback());
    let shared = Shared {
        store: store.clone(),
        base: format!("http://{}", running.addr),
        readable,
        open,
        readers,
        writers,
        seq: Mutex::new(HashMap::new()),
    };

    let slice = Duration::from_secs(secs) / rounds;
    let mut tallies: HashMap<Side, Tally> = HashMap::new();
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [Side::Http, Side::Library]
        } else {
            [Side::Library, Side::Http]
        };
        for side in order {
            let t = run_slice(&shared, side, slice);
            let total = tallies.entry(side).or_default();
            total.wall += t.wall;
            total.merge(t);
        }
    }
    rt.block_on(running.shutdown(Duration::from_secs(30)))
        .unwrap();
    let load_end = loadavg();

    // The figures.
    println!();
    println!("| call | side | requests | requests/s | p50 ms | p99 ms |");
    println!("|---|---|---:|---:|---:|---:|");
    for call in [Call::Write, Call::Show, Call::History] {
        for side in [Side::Library, Side::Http] {
            let t = tallies.get_mut(&side).unwrap();
            let v = t.micros.entry(call).or_default();
            if v.is_empty() {
                continue; // no readers, or no writers, in this run
            }
            v.sort_unstable();
            let rate = v.len() as f64 / t.wall.as_secs_f64();
            let what = match call {
                Call::Write => "write: record a deviation",
                Call::Show => "read: show a plan",
                Call::History => "read: a plan's history",
            };
            let how = match side {
                Side::Library => "library",
                Side::Http => "HTTP",
            };
            println!(
                "| {what} | {how} | {} | {rate:.0} | {:.2} | {:.2} |",
                v.len(),
                pct(v, 50.0),
                pct(v, 99.0)
            );
        }
    }
    println!("\nload average {load_end} at the end");

    // The checks: no errors, every acknowledged write where it was acknowledged, nothing
    // else written, both chains intact, one access-log entry per read over HTTP.
    let mut failures = Vec::new();
    let mut added: HashMap<PlanId, u64> = HashMap::new();
    for side in [Side::Http, Side::Library] {
        let t = &tallies[&side];
        if !t.errors.is_empty() {
            failures.push(format!(
                "{side:?}: {} errors, the first: {}",
                t.errors.len(),
                t.errors[0]
            ));
        }
        for (key, position, plan) in &t.acked {
            match store.command_position(key) {
                Ok(Some(p)) if p == *position => {}
                other => failures.push(format!(
                    "{side:?}: the write {key} acknowledged at {position} is at {other:?}"
                )),
            }
            *added.entry(plan.clone()).or_default() += 1;
        }
    }
    for (plan, n) in &before {
        let now = store.stream_version(plan.as_str()).unwrap();
        let want = n + added.get(plan).copied().unwrap_or(0);
        if now != want {
            failures.push(format!("{plan} has {now} records, expected {want}"));
        }
    }
    for (name, s) in [("ledger", &store), ("access log", &access)] {
        let report = planledger_store::verify_store(s.as_ref(), &[], &mut |_, _| {}).unwrap();
        println!(
            "verify {name}: {} records, {}",
            report.records,
            if report.violation.is_none() {
                "intact"
            } else {
                "VIOLATION"
            }
        );
        if let Some(v) = report.violation {
            failures.push(format!("the {name} does not verify at {}", v.position));
        }
    }
    let http = &tallies[&Side::Http];
    let http_reads = [Call::Show, Call::History]
        .iter()
        .map(|c| http.micros.get(c).map_or(0, Vec::len))
        .sum::<usize>() as u64;
    let logged = access.head().unwrap().size;
    if logged != http_reads {
        failures.push(format!(
            "{http_reads} reads over HTTP but {logged} access-log entries"
        ));
    }
    let acked: usize = tallies.values().map(|t| t.acked.len()).sum();
    if failures.is_empty() {
        println!(
            "ok: 0 errors; {acked} acknowledged writes all present at their positions; \
             {http_reads} reads over HTTP, {logged} access-log entries"
        );
    } else {
        for f in &failures {
            eprintln!("FAILED: {f}");
        }
        std::process::exit(1);
    }
}
