//! `bench-scale`: planledger measured where its users wait, at the scale they have, each
//! figure next to its limit in the same run so that the ratio holds on a noisy machine.
//!
//! - **verify** a whole ledger (`verify_store` on redb): records/s and MB/s, next to
//!   plain blake3 over the same bytes with the same number of threads, once the way
//!   b3sum hashes (one big buffer per thread) and once with one call per record;
//! - **rebuild** every projection from zero: events/s, next to only reading and
//!   decoding the same records;
//! - **history** of one client and the **plan in force** on a date: median and p99;
//! - a unit's **overview** and the **overdue** audit of an organisation of many clients;
//! - **import** of a JSON Lines file through the `planledger` CLI: commands/s, next to
//!   appending the same batches directly, to bulk-appending the same records, and to
//!   the disk's durable writes per second.
//!
//! Ledgers come from the deterministic generator (`planledger-synth`) and are cached
//! (`--cache`, by default `target/bench-scale`), so a second run starts measuring at
//! once. Criterion does not fit: one iteration of these is a whole ledger. Every scale
//! is a flag; `--small` runs everything in a minute for CI or a curious reader.
//! BENCHMARKS.md at the repository root has the method and the figures.

mod build;
mod copy;
mod limits;
mod reads;
mod report;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{Days, Months, NaiveDate};
use clap::{Parser, ValueEnum};
use planledger_audit::{Scope, Subject, history, in_force, overdue, overview};
use planledger_plan::{DeadlinePolicy, Event};
use planledger_projection::{Projection, fold_stream};
use planledger_store::{Store, verify_store};
use planledger_store_redb::RedbStore;
use planledger_synth::Organisation;

use crate::build::Ledger;
use crate::limits::Records;
use crate::report::{Report, latency, mb_per_sec, median, median_p99, per_sec, rss, thousands};

/// The CLI's allocator (the workspace's Cargo.toml says why), so that what is measured
/// in this process allocates as the `planledger` processes do.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Records read from the store per call when copying bytes for the blake3 baselines.
const COPY_CHUNK: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    Verify,
    Rebuild,
    Queries,
    Audit,
    Import,
    Reads,
    Map,
    Copy,
}

/// Whole-ledger benchmarks of planledger, each next to its limit (see BENCHMARKS.md).
#[derive(Debug, Parser)]
#[command(version)]
struct Flags {
    /// Records in the main ledger (verify, rebuild, history, plan in force).
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Further ledger sizes to verify (and nothing else), comma-separated: 10000000.
    #[arg(long, value_delimiter = ',')]
    verify_also: Vec<u64>,
    /// Further ledger sizes to measure the CLI reads on (and nothing else): 2000000.
    #[arg(long, value_delimiter = ',')]
    reads_also: Vec<u64>,
    /// Also measure the CLI reads on this PostgreSQL database (migrated; each ledger is
    /// copied into it once, as `bench-<records>`), or `throwaway` for a server started
    /// for the run from the PostgreSQL binaries, as the tests do.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// Runs of each CLI read (each per-client read on another client).
    #[arg(long, default_value_t = 5)]
    read_samples: usize,
    /// Clients of the organisation for the unit overview and overdue audit.
    #[arg(long, default_value_t = 100_000)]
    query_clients: usize,
    /// Commands in the JSON Lines file imported through the CLI.
    #[arg(long, default_value_t = 100_000)]
    import_commands: u64,
    /// Months of activity the generator covers.
    #[arg(long, default_value_t = 12)]
    months: u32,
    /// The generator's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Threads for verification and the blake3 baseline (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Repetitions of each whole-ledger measurement; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Clients sampled for the history and plan-in-force latencies.
    #[arg(long, default_value_t = 1000)]
    samples: usize,
    /// Where generated ledgers are cached [default: $CARGO_TARGET_DIR/bench-scale, else
    /// target/bench-scale in the repository].
    #[arg(long)]
    cache: Option<PathBuf>,
    /// The planledger binary for the import bench [default: beside this one].
    #[arg(long)]
    cli: Option<PathBuf>,
    /// Everything small (20k records, 2k clients, 1k imported commands): a smoke run.
    #[arg(long)]
    small: bool,
    /// Run only these sections (comma-separated) [default: all].
    #[arg(long, value_delimiter = ',', value_enum)]
    only: Vec<Section>,
    /// Also write the table (Markdown) to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only build (or find cached) the ledgers the selected sections need, measure
    /// nothing: run this while the machine is busy, the measurements when it is quiet.
    #[arg(long)]
    prepare: bool,
}

fn main() -> anyhow::Result<()> {
    let mut flags = Flags::parse();
    if flags.small {
        flags.records = 20_000;
        flags.query_clients = 2_000;
        flags.import_commands = 1_000;
        flags.samples = 200;
    }
    let threads = flags
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let cache = flags.cache.clone().unwrap_or_else(default_cache);
    let machine = report::machine(threads);
    eprintln!("{machine}");
    eprintln!("cache: {}", cache.display());
    let run = |s: Section| flags.only.is_empty() || flags.only.contains(&s);
    if flags.prepare {
        return prepare(&flags, &cache, run);
    }

    let mut report = Report::default();
    let base = Organisation {
        seed: flags.seed,
        months: flags.months,
        ..Organisation::default()
    };
    let per = build::per_client(&base)?;
    report.section("Generated ledgers");
    report.row(
        format!("synthetic organisation, {} months", flags.months),
        format!(
            "{:.1} commands and {:.1} records per client",
            per.commands, per.records
        ),
    );

    if run(Section::Map) {
        let main = main_ledger(&cache, &base, &per, flags.records, &mut report)?;
        map(&main, flags.repeat, &mut report)?;
    }
    if run(Section::Verify) || run(Section::Rebuild) || run(Section::Queries) {
        let main = main_ledger(&cache, &base, &per, flags.records, &mut report)?;
        if run(Section::Verify) {
            verify(&main, threads, flags.repeat, &mut report)?;
        }
        if run(Section::Rebuild) || run(Section::Queries) {
            let projection = rebuild(&main, flags.repeat, run(Section::Rebuild), &mut report)?;
            if run(Section::Queries) {
                queries(&main, &projection, flags.samples, &mut report)?;
            }
        }
    }
    if run(Section::Verify) {
        for &records in &flags.verify_also {
            let ledger = main_ledger(&cache, &base, &per, records, &mut report)?;
            verify(&ledger, threads, flags.repeat, &mut report)?;
        }
    }
    // `--postgres throwaway`: a server of our own for this run, as the tests start.
    let server = match flags.postgres.as_deref() {
        Some("throwaway") if run(Section::Reads) || run(Section::Copy) => {
            Some(planledger_store_postgres::testing::TestServer::start()?)
        }
        _ => None,
    };
    if run(Section::Copy) {
        let cli = flags.cli.clone().unwrap_or_else(|| beside_me("planledger"));
        let main = main_ledger(&cache, &base, &per, flags.records, &mut report)?;
        let postgres = match (&server, &flags.postgres) {
            (Some(server), _) => Some(server.create_database()?),
            (None, url) => url.clone(),
        };
        if let Some(url) = &postgres {
            planledger_store_postgres::migrate(url)?;
        }
        copy::copy(&cli, &main, postgres.as_deref(), flags.repeat, &mut report)?;
    }
    if run(Section::Reads) {
        let cli = flags.cli.clone().unwrap_or_else(|| beside_me("planledger"));
        let postgres = match (&server, &flags.postgres) {
            (Some(server), _) => {
                let url = server.create_database()?;
                planledger_store_postgres::migrate(&url)?;
                Some(url)
            }
            (None, url) => url.clone(),
        };
        for &records in std::iter::once(&flags.records).chain(&flags.reads_also) {
            let ledger = main_ledger(&cache, &base, &per, records, &mut report)?;
            reads::reads(&cli, &ledger, None, flags.read_samples, &mut report)?;
            if let Some(url) = &postgres {
                let at = reads::on_postgres(&cli, &ledger, url)?;
                reads::reads(&cli, &ledger, Some(at), flags.read_samples, &mut report)?;
            }
        }
    }
    if run(Section::Audit) {
        let org = audit(
            &cache,
            &base,
            flags.query_clients,
            flags.repeat,
            &mut report,
        )?;
        if run(Section::Verify) {
            // The organisation's whole ledger is a second, larger size to verify.
            verify(&org, threads, flags.repeat, &mut report)?;
        }
    }
    if run(Section::Import) {
        let cli = flags.cli.clone().unwrap_or_else(|| beside_me("planledger"));
        import(
            &cache,
            &base,
            &per,
            flags.import_commands,
            &cli,
            &mut report,
        )?;
    }

    report.note(format!("load average at the end: {}", report::load()));
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let table = report.markdown(&machine, &command);
    println!("{table}");
    if let Some(out) = &flags.out {
        std::fs::write(out, &table).with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}

/// Builds the ledgers the selected sections need, and reports where they are.
fn prepare(flags: &Flags, cache: &Path, run: impl Fn(Section) -> bool) -> anyhow::Result<()> {
    let base = Organisation {
        seed: flags.seed,
        months: flags.months,
        ..Organisation::default()
    };
    let per = build::per_client(&base)?;
    let mut report = Report::default();
    if [
        Section::Verify,
        Section::Rebuild,
        Section::Queries,
        Section::Reads,
        Section::Copy,
    ]
    .into_iter()
    .any(&run)
    {
        main_ledger(cache, &base, &per, flags.records, &mut report)?;
    }
    if run(Section::Reads) {
        for &records in &flags.reads_also {
            main_ledger(cache, &base, &per, records, &mut report)?;
        }
    }
    if run(Section::Verify) {
        for &records in &flags.verify_also {
            main_ledger(cache, &base, &per, records, &mut report)?;
        }
    }
    if run(Section::Audit) {
        let org = Organisation {
            clients: flags.query_clients,
            ..base.clone()
        };
        let name = format!(
            "org-{}-s{}-m{}",
            flags.query_clients, base.seed, base.months
        );
        describe(&build::ledger(cache, &name, &org, None)?, &mut report);
    }
    Ok(())
}

fn default_cache() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("bench-scale")
}

fn beside_me(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

/// The last day of the organisation's period, and a day in its middle.
fn period_days(org: &Organisation) -> (NaiveDate, NaiveDate) {
    let end = org
        .start
        .checked_add_months(Months::new(org.months))
        .and_then(|d| d.checked_sub_days(Days::new(1)))
        .expect("a validated period");
    let mid = org
        .start
        .checked_add_months(Months::new(org.months / 2))
        .expect("a validated period");
    (end, mid)
}

/// The cached ledger of about `records` records: the first `records` records of an
/// organisation just large enough to have them.
fn main_ledger(
    cache: &Path,
    base: &Organisation,
    per: &build::PerClient,
    records: u64,
    report: &mut Report,
) -> anyhow::Result<Ledger> {
    // 10 % more clients than the average needs, so the ledger is cut near the end of the
    // period rather than running short.
    let clients = ((records as f64 / per.records) * 1.1).ceil() as usize + 10;
    let org = Organisation {
        clients,
        ..base.clone()
    };
    let name = format!("ledger-{records}-s{}-m{}", base.seed, base.months);
    eprintln!("ledger of {records} records ({clients} clients) …");
    let ledger = build::ledger(cache, &name, &org, Some(records))?;
    describe(&ledger, report);
    Ok(ledger)
}

fn describe(ledger: &Ledger, report: &mut Report) {
    let size = std::fs::metadata(&ledger.path).map_or(0, |m| m.len());
    report.section(&format!(
        "Ledger of {} records",
        thousands(ledger.records as f64)
    ));
    report.row(
        "ledger",
        format!(
            "{} records of {} clients, redb file {:.0} MB",
            thousands(ledger.records as f64),
            thousands(ledger.org.clients as f64),
            size as f64 / 1e6
        ),
    );
    if let Some(t) = ledger.built_in {
        report.row(
            "bulk build (generate, decide, seal, append_sealed in 16k-record commits)",
            format!(
                "{} records/s ({:.0} s)",
                thousands(per_sec(ledger.records, t)),
                t.as_secs_f64()
            ),
        );
    }
}

/// `verify_store` on redb next to blake3 over the same bytes, both with 1 thread and
/// with `threads`, interleaved so that both see the same noise.
fn verify(
    ledger: &Ledger,
    threads: usize,
    repeat: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let store = RedbStore::open(&ledger.path)?;
    let mut counts: Vec<usize> = vec![1, threads];
    counts.dedup();
    let repeat = repeat.max(1);
    // [threads][rep]
    let mut t_verify = vec![Vec::new(); counts.len()];
    let mut t_big = vec![Vec::new(); counts.len()];
    let mut t_per = vec![Vec::new(); counts.len()];
    let mut bytes = 0u64;
    let mut verified_bytes = 0u64;
    for rep in 0..repeat {
        eprintln!("verify {}: repetition {}/{repeat}", ledger.records, rep + 1);
        // The baselines: copy a chunk of stored bytes (not timed), hash it (timed).
        let mut chunk = Records::new();
        let mut sums = vec![(Duration::ZERO, Duration::ZERO); counts.len()];
        let mut from = 0u64;
        bytes = 0;
        loop {
            let records = store.read_all(from, COPY_CHUNK)?;
            if records.is_empty() {
                break;
            }
            from += records.len() as u64;
            chunk.clear();
            for r in &records {
                chunk.push(r.bytes());
            }
            bytes += chunk.buf.len() as u64;
            for (i, &t) in counts.iter().enumerate() {
                sums[i].0 += chunk.hash_big_buffers(t);
                sums[i].1 += chunk.hash_per_record(t);
            }
        }
        for (i, &t) in counts.iter().enumerate() {
            t_big[i].push(sums[i].0);
            t_per[i].push(sums[i].1);
            let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build()?;
            let started = Instant::now();
            let verified = pool.install(|| verify_store(&store, &[], &mut |_, _| {}))?;
            t_verify[i].push(started.elapsed());
            if !verified.is_ok() {
                bail!(
                    "the generated ledger does not verify: {}",
                    verified.message()
                );
            }
            if verified.records != ledger.records {
                bail!(
                    "verified {} records of {}",
                    verified.records,
                    ledger.records
                );
            }
            verified_bytes = verified.bytes;
        }
    }
    if verified_bytes != bytes {
        report.note(format!(
            "verify hashed {verified_bytes} bytes, the baseline {bytes}: the ratios compare different byte counts"
        ));
    }
    report.row(
        "stored record bytes",
        format!(
            "{:.0} MB, {:.0} bytes per record on average",
            bytes as f64 / 1e6,
            bytes as f64 / ledger.records as f64
        ),
    );
    for (i, &t) in counts.iter().enumerate() {
        let v = median(t_verify[i].clone());
        let big = median(t_big[i].clone());
        let per = median(t_per[i].clone());
        let n = ledger.records;
        report.against(
            format!(
                "verify (verify_store, redb, {t} thread{})",
                if t == 1 { "" } else { "s" }
            ),
            format!(
                "{} rec/s, {:.0} MB/s",
                thousands(per_sec(n, v)),
                mb_per_sec(bytes, v)
            ),
            format!(
                "blake3 b3sum-style, {t} thr: {:.0} MB/s",
                mb_per_sec(bytes, big)
            ),
            big.as_secs_f64() / v.as_secs_f64(),
        );
        report.against(
            format!(
                "verify, {t} thread{}, vs one blake3 call per record",
                if t == 1 { "" } else { "s" }
            ),
            format!("{:.0} MB/s", mb_per_sec(bytes, v)),
            format!(
                "blake3 per record, {t} thr: {} rec/s, {:.0} MB/s",
                thousands(per_sec(n, per)),
                mb_per_sec(bytes, per)
            ),
            per.as_secs_f64() / v.as_secs_f64(),
        );
    }
    Ok(())
}

/// The authenticated map (FORMAT.md §12): what it adds to a checkpoint, to an export and
/// to a whole verify, each next to the same operation without it, in the same run
/// (medians of `repeat`). Appends do no map work (writers do not hold the map key): a
/// checkpoint resumes from the leaves kept at the last one and reads only the records
/// after them, so its cost per new record is the cold build's per record, and append
/// throughput is the import section's with or without the map.
fn map(ledger: &Ledger, repeat: usize, report: &mut Report) -> anyhow::Result<()> {
    use planledger_app::{evidence, map::MapKey, witness};
    let store = RedbStore::open(&ledger.path)?;
    let n = ledger.records;
    let key = MapKey::from_bytes([3; 32]);
    let signer = planledger_ledger::CheckpointSigner::from_seed("bench.example/log", [7; 32])?;
    let now = chrono::Utc::now();
    let client = store
        .tag_values(planledger_projection::TAG_CLIENT)?
        .into_iter()
        .next()
        .context("the ledger has no client")?
        .0;
    let client = planledger_plan::Personnummer::parse(&client)?;
    let repeat = repeat.max(1);
    let (mut cp_plain, mut cp_map, mut cp_resumed, mut ex_plain, mut ex_map) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut v_records, mut v_nodes, mut v_map) = (Vec::new(), Vec::new(), Vec::new());
    let (mut leaves, mut bundle_sizes) = ((0, 0), (0, 0));
    for rep in 0..repeat {
        eprintln!("map {n}: repetition {}/{repeat}", rep + 1);
        let started = Instant::now();
        let plain = witness::sign_head(&store, &signer, None, now, None, &[])?;
        cp_plain.push(started.elapsed());
        // Cold: no signed map to resume from, every record read.
        let started = Instant::now();
        let with_map = witness::sign_head(&store, &signer, None, now, Some(&key), &[])?;
        cp_map.push(started.elapsed());
        // The next checkpoint, with nothing appended since: resumed from the kept leaves.
        let started = Instant::now();
        let resumed = witness::sign_head(
            &store,
            &signer,
            None,
            now,
            Some(&key),
            std::slice::from_ref(&with_map),
        )?;
        cp_resumed.push(started.elapsed());
        if resumed.checkpoint.map_root != with_map.checkpoint.map_root {
            bail!("the resumed map differs from the one built from every record");
        }
        // An export in a process of its own: the checkpoint read from its file, the map
        // resumed from the kept leaves.
        let with_map = witness::Witnessed {
            map: None,
            ..with_map
        };
        let started = Instant::now();
        let (b, _) = evidence::bundle(&store, &client, &plain, None, None)?;
        ex_plain.push(started.elapsed());
        bundle_sizes.0 = serde_json::to_string(&b)?.len();
        let started = Instant::now();
        let (b, _) = evidence::bundle(&store, &client, &with_map, None, Some(&key))?;
        ex_map.push(started.elapsed());
        bundle_sizes.1 = serde_json::to_string(&b)?.len();
        let started = Instant::now();
        let verified = verify_store(&store, &[], &mut |_, _| {})?;
        v_records.push(started.elapsed());
        if !verified.is_ok() {
            bail!(
                "the generated ledger does not verify: {}",
                verified.message()
            );
        }
        let started = Instant::now();
        let nodes = planledger_store::check_derived(&store, n, &mut |_, _| {})?;
        v_nodes.push(started.elapsed());
        if nodes.differs.is_some() {
            bail!("the generated ledger's nodes differ");
        }
        let started = Instant::now();
        let (checked, differs) = planledger_app::map::check(&store, &[with_map.checkpoint], &key)?;
        v_map.push(started.elapsed());
        if checked != 1 || differs.is_some() {
            bail!("the map check did not agree with the map just signed");
        }
        leaves = planledger_app::map::build(&store, n, &key, &[])?.counts();
    }
    report.section(&format!(
        "The authenticated map at {} records ({} stream and {} client leaves)",
        thousands(n as f64),
        thousands(leaves.0 as f64),
        thousands(leaves.1 as f64)
    ));
    let (cp_plain, cp_map, cp_resumed) = (median(cp_plain), median(cp_map), median(cp_resumed));
    report.against(
        "the next checkpoint with the map, resumed from the kept leaves (nothing new)",
        latency(cp_resumed),
        format!("without the map: {}", latency(cp_plain)),
        cp_plain.as_secs_f64() / cp_resumed.as_secs_f64(),
    );
    report.against(
        "checkpoint (sign the head) with the map, built from every record",
        format!(
            "{} ({:.2} µs per record)",
            latency(cp_map),
            cp_map.saturating_sub(cp_plain).as_secs_f64() * 1e6 / n as f64
        ),
        format!("without: {}", latency(cp_plain)),
        cp_plain.as_secs_f64() / cp_map.as_secs_f64(),
    );
    let (ex_plain, ex_map) = (median(ex_plain), median(ex_map));
    report.against(
        "export one client's bundle with the map proofs",
        format!("{} ({} bytes)", latency(ex_map), bundle_sizes.1),
        format!("without: {} ({} bytes)", latency(ex_plain), bundle_sizes.0),
        ex_plain.as_secs_f64() / ex_map.as_secs_f64(),
    );
    let (v_records, v_nodes, v_map) = (median(v_records), median(v_nodes), median(v_map));
    report.against(
        "verify's check of the stored nodes and stream index (a second read)",
        format!(
            "{} rec/s ({})",
            thousands(per_sec(n, v_nodes)),
            latency(v_nodes)
        ),
        format!(
            "the records' check: {} rec/s ({})",
            thousands(per_sec(n, v_records)),
            latency(v_records)
        ),
        v_records.as_secs_f64() / v_nodes.as_secs_f64(),
    );
    report.against(
        "verify --map-key: one signed map rebuilt",
        format!(
            "{} rec/s ({})",
            thousands(per_sec(n, v_map)),
            latency(v_map)
        ),
        format!("the records' check: {}", latency(v_records)),
        v_records.as_secs_f64() / v_map.as_secs_f64(),
    );
    Ok(())
}

/// Rebuilds the projection `repeat` times (reported if `measure`), next to reading and
/// decoding the same records without folding; returns the last projection.
fn rebuild(
    ledger: &Ledger,
    repeat: usize,
    measure: bool,
    report: &mut Report,
) -> anyhow::Result<Projection> {
    let store = RedbStore::open(&ledger.path)?;
    let n = ledger.records;
    let repeat = if measure { repeat.max(1) } else { 1 };
    let mut t_rebuild = Vec::new();
    let mut t_read = Vec::new();
    let mut t_decode = Vec::new();
    let mut projection = None;
    for rep in 0..repeat {
        eprintln!("rebuild {n}: repetition {}/{repeat}", rep + 1);
        if measure {
            // The floor: the same reads, then the same reads with every event decoded.
            let started = Instant::now();
            let mut from = 0;
            while from < n {
                let records = store.read_all(from, planledger_projection::DEFAULT_CHUNK)?;
                if records.is_empty() {
                    break;
                }
                from += records.len() as u64;
                black_box(&records);
            }
            t_read.push(started.elapsed());
            let started = Instant::now();
            let mut from = 0;
            while from < n {
                let records = store.read_all(from, planledger_projection::DEFAULT_CHUNK)?;
                if records.is_empty() {
                    break;
                }
                from += records.len() as u64;
                for r in &records {
                    black_box(Event::from_entry(r.entry())?);
                }
            }
            t_decode.push(started.elapsed());
        }
        drop(projection.take());
        let before = rss();
        let started = Instant::now();
        let p = Projection::rebuild(&store)?;
        t_rebuild.push(started.elapsed());
        if p.position() != n {
            bail!("the projection folded {} records of {n}", p.position());
        }
        if rep == 0 && measure {
            report.row(
                "projection in memory (RSS growth during the rebuild)",
                format!(
                    "{:.0} MB for {} plans",
                    rss().saturating_sub(before) as f64 / 1e6,
                    thousands(p.plan_count() as f64)
                ),
            );
        }
        projection = Some(p);
    }
    if measure {
        let r = median(t_rebuild);
        let read = median(t_read);
        let dec = median(t_decode);
        report.against(
            "rebuild every projection from zero",
            format!(
                "{} events/s ({:.1} s)",
                thousands(per_sec(n, r)),
                r.as_secs_f64()
            ),
            format!(
                "read + decode only: {} events/s",
                thousands(per_sec(n, dec))
            ),
            dec.as_secs_f64() / r.as_secs_f64(),
        );
        report.row(
            "  of which reading records from redb alone",
            format!("{} records/s", thousands(per_sec(n, read))),
        );
    }
    Ok(projection.expect("at least one rebuild"))
}

/// History of one client and the plan in force on a date, over the rebuilt projection
/// (what `planledger audit` answers from) and, for the history, folded straight from
/// the store (one stream read).
fn queries(
    ledger: &Ledger,
    projection: &Projection,
    samples: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let store = RedbStore::open(&ledger.path)?;
    let (end, mid) = period_days(&ledger.org);
    let clients: Vec<_> = projection.clients().copied().collect();
    if clients.is_empty() {
        bail!("the ledger has no clients");
    }
    let step = (clients.len() / samples.max(1)).max(1);
    let picked: Vec<_> = clients.iter().step_by(step).take(samples).collect();
    let at_end = Scope::new(end);
    let at_mid = Scope::new(mid);
    let (mut t_hist, mut t_force, mut t_fold) = (Vec::new(), Vec::new(), Vec::new());
    let (mut versions, mut events) = (0usize, 0usize);
    for pnr in &picked {
        let subject = Subject::Client(**pnr);
        let started = Instant::now();
        let h = history(projection, &at_end, &subject)?;
        t_hist.push(started.elapsed());
        versions += h.versions.len();
        events += h.events.len();
        let started = Instant::now();
        black_box(in_force(projection, &at_mid, Some(&subject))?);
        t_force.push(started.elapsed());
        let plans: Vec<_> = projection
            .plans_of_client(pnr)
            .map(|p| p.id().clone())
            .collect();
        let started = Instant::now();
        for plan in &plans {
            black_box(fold_stream(&store, plan)?);
        }
        t_fold.push(started.elapsed());
    }
    let k = picked.len();
    report.section(&format!(
        "Queries at {} records ({k} clients sampled)",
        thousands(ledger.records as f64)
    ));
    let (m, p) = median_p99(&mut t_hist);
    report.row(
        format!(
            "history of one client, over the projection ({:.1} versions, {:.1} events on average)",
            versions as f64 / k as f64,
            events as f64 / k as f64
        ),
        format!("median {}, p99 {}", latency(m), latency(p)),
    );
    let (m, p) = median_p99(&mut t_force);
    report.row(
        format!("plan in force on {mid} for one client, over the projection"),
        format!("median {}, p99 {}", latency(m), latency(p)),
    );
    let (m, p) = median_p99(&mut t_fold);
    report.row(
        "one client's plans folded from the store (read_stream + fold, no projection)",
        format!("median {}, p99 {}", latency(m), latency(p)),
    );
    Ok(())
}

/// A unit's overview and the overdue audit over an organisation of `clients` clients;
/// returns the organisation's ledger.
fn audit(
    cache: &Path,
    base: &Organisation,
    clients: usize,
    repeat: usize,
    report: &mut Report,
) -> anyhow::Result<Ledger> {
    let org = Organisation {
        clients,
        ..base.clone()
    };
    let name = format!("org-{clients}-s{}-m{}", base.seed, base.months);
    eprintln!("organisation of {clients} clients …");
    let ledger = build::ledger(cache, &name, &org, None)?;
    describe(&ledger, report);
    let store = RedbStore::open(&ledger.path)?;
    let before = rss();
    let started = Instant::now();
    let projection = Projection::rebuild(&store)?;
    let t = started.elapsed();
    report.row(
        "rebuild the projection",
        format!(
            "{} events/s ({:.1} s), {:.0} MB in memory",
            thousands(per_sec(ledger.records, t)),
            t.as_secs_f64(),
            rss().saturating_sub(before) as f64 / 1e6
        ),
    );
    let policy = DeadlinePolicy::default();
    let (end, _) = period_days(&org);
    let units: Vec<_> = projection.units().cloned().collect();
    let (mut t_over, mut t_due, mut t_over_all, mut t_due_all) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut over_rows, mut due_rows, mut due_all_rows) = (0usize, 0usize, 0usize);
    let reps = repeat.max(5);
    for _ in 0..reps {
        for u in &units {
            let scope = Scope::new(end).unit(u.clone());
            let started = Instant::now();
            over_rows += black_box(overview(&projection, &policy, &scope)?).len();
            t_over.push(started.elapsed());
            let started = Instant::now();
            due_rows += black_box(overdue(&projection, &policy, &scope)?).len();
            t_due.push(started.elapsed());
        }
        let scope = Scope::new(end);
        let started = Instant::now();
        black_box(overview(&projection, &policy, &scope)?);
        t_over_all.push(started.elapsed());
        let started = Instant::now();
        due_all_rows += black_box(overdue(&projection, &policy, &scope)?).len();
        t_due_all.push(started.elapsed());
    }
    report.section(&format!(
        "Audit queries at {} clients ({} units, as of {end})",
        thousands(clients as f64),
        units.len()
    ));
    let per_unit = (reps * units.len()) as f64;
    let (m, p) = median_p99(&mut t_over);
    report.row(
        format!(
            "overview of one unit ({:.0} plans)",
            over_rows as f64 / per_unit
        ),
        format!("median {}, p99 {}", latency(m), latency(p)),
    );
    let (m, p) = median_p99(&mut t_due);
    report.row(
        format!(
            "overdue audit of one unit ({:.0} rows)",
            due_rows as f64 / per_unit
        ),
        format!("median {}, p99 {}", latency(m), latency(p)),
    );
    let (m, _) = median_p99(&mut t_over_all);
    report.row(
        format!(
            "overview of every unit ({} plans)",
            thousands(projection.plan_count() as f64)
        ),
        format!("median {} ({reps} runs)", latency(m)),
    );
    let (m, _) = median_p99(&mut t_due_all);
    report.row(
        format!(
            "overdue audit of the organisation ({:.0} rows)",
            due_all_rows as f64 / reps as f64
        ),
        format!("median {} ({reps} runs)", latency(m)),
    );
    Ok(ledger)
}

/// Import of `commands` commands through the CLI, next to the same appends made
/// directly, the same records bulk-appended, and the disk's durable-write rate.
fn import(
    cache: &Path,
    base: &Organisation,
    per: &build::PerClient,
    commands: u64,
    cli: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    // A whole period of a smaller organisation: every kind of command, not only the
    // orders and drafts of the first weeks.
    let clients = ((commands as f64 / per.commands) * 1.1).ceil() as usize + 10;
    let org = Organisation {
        clients,
        ..base.clone()
    };
    let set = build::import_set(&org, commands)?;
    let dir = cache.join("import");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("commands.jsonl");
    let mut text = set.lines.join("\n");
    text.push('\n');
    std::fs::write(&file, &text)?;
    report.section(&format!(
        "Import of {} commands ({} records, {:.1} MB of JSON Lines)",
        thousands(commands as f64),
        thousands(set.records as f64),
        text.len() as f64 / 1e6
    ));

    let fsyncs = limits::fsync_rate(&dir, 200)?;

    // Direct: one `append` per command, as the CLI does, without parsing or deciding.
    let direct_path = dir.join("direct.redb");
    let store = RedbStore::create(&direct_path)?;
    eprintln!("import: direct appends …");
    let started = Instant::now();
    for b in &set.batches {
        store.append(b.clone())?;
    }
    let t_direct = started.elapsed();
    let records = store.read_all(0, usize::MAX)?;
    let direct_head = store.head()?;
    drop(store);

    // Bulk: the same sealed records in 16k-record commits.
    let bulk_path = dir.join("bulk.redb");
    let store = RedbStore::create(&bulk_path)?;
    let started = Instant::now();
    for c in records.chunks(16_384) {
        store.append_sealed(c)?;
    }
    let t_bulk = started.elapsed();
    drop(store);

    // The CLI.
    let t_cli = if cli.exists() {
        let ledger_dir = dir.join("cli");
        let status = Process::new(cli)
            .arg("--ledger")
            .arg(&ledger_dir)
            .arg("init")
            .output()?;
        if !status.status.success() {
            bail!(
                "planledger init failed: {}",
                String::from_utf8_lossy(&status.stderr)
            );
        }
        eprintln!("import: planledger import …");
        let started = Instant::now();
        let out = Process::new(cli)
            .arg("--ledger")
            .arg(&ledger_dir)
            .arg("import")
            .arg(&file)
            .output()?;
        let t = started.elapsed();
        if !out.status.success() {
            bail!(
                "planledger import failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // The same events in the same order: the heads differ (each store seals with
        // its own clock, and the CLI gives every line a command id).
        let cli_store = RedbStore::open(ledger_dir.join("ledger.redb"))?;
        let direct_store = RedbStore::open_read_only(&direct_path)?;
        let event = |r: &planledger_ledger::Record| {
            (
                r.stream_id().to_owned(),
                r.stream_version(),
                r.event_type().to_owned(),
                r.payload().to_vec(),
            )
        };
        let (cli_records, direct_records) = (
            cli_store.read_all(0, usize::MAX)?,
            direct_store.read_all(0, usize::MAX)?,
        );
        if cli_records.len() as u64 != direct_head.size
            || !cli_records
                .iter()
                .map(event)
                .eq(direct_records.iter().map(event))
        {
            bail!(
                "the CLI's ledger ({} records) differs from the directly appended one ({})",
                cli_records.len(),
                direct_head.size
            );
        }
        Some(t)
    } else {
        report.note(format!(
            "import through the CLI not measured: no binary at {} (build it with `cargo build --release -p planledger`)",
            cli.display()
        ));
        None
    };

    let fsync_limit = format!("disk: {} fdatasync/s", thousands(fsyncs));
    if let Some(t) = t_cli {
        report.against(
            "planledger import (CLI: parse, decide, lines committed in groups)",
            format!("{} commands/s", thousands(per_sec(commands, t))),
            format!(
                "direct append: {} commands/s",
                thousands(per_sec(commands, t_direct))
            ),
            t_direct.as_secs_f64() / t.as_secs_f64(),
        );
        report.against(
            "planledger import vs the disk",
            format!("{} commands/s", thousands(per_sec(commands, t))),
            fsync_limit.clone(),
            per_sec(commands, t) / fsyncs,
        );
    }
    report.against(
        "Store::append of the same batches (one per command, redb, durable)",
        format!("{} commands/s", thousands(per_sec(commands, t_direct))),
        fsync_limit,
        per_sec(commands, t_direct) / fsyncs,
    );
    report.row(
        "append_sealed of the same records (16k-record commits)",
        format!("{} records/s", thousands(per_sec(set.records, t_bulk))),
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
