//! Reads as users run them: whole `planledger` processes over a cached ledger, each
//! timed from start to exit with its peak memory (GNU time's maximum resident set), next
//! to `planledger head`, the cost of starting a process and opening the store.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::Days;
use planledger_projection::{TAG_CLIENT, TAG_UNIT};
use planledger_store::Store;
use planledger_store_redb::RedbStore;

use crate::build::Ledger;
use crate::report::{Report, latency, median, per_sec, thousands};

/// One run of a command: wall time and peak resident memory in KiB (0 when GNU time is
/// missing).
struct Run {
    wall: Duration,
    peak_kib: u64,
}

/// Runs `planledger <at…> args…` under `/usr/bin/time -f %M` when it exists; `at` names
/// the ledger (`--ledger DIR`, or a PostgreSQL URL and `--ledger-name`).
fn run(cli: &Path, at: &[String], args: &[&str]) -> anyhow::Result<Run> {
    let timed = Path::new("/usr/bin/time").exists();
    let mut cmd = if timed {
        let mut c = Process::new("/usr/bin/time");
        c.args(["-f", "%M"]).arg(cli);
        c
    } else {
        Process::new(cli)
    };
    cmd.args(at).args(args);
    let started = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {}", cli.display()))?;
    let wall = started.elapsed();
    // Exit 4 is an answer too ("no version was in force on that day").
    if !matches!(out.status.code(), Some(0 | 4)) {
        bail!(
            "planledger {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let peak_kib = match timed {
        true => (String::from_utf8_lossy(&out.stderr).lines().last())
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0),
        false => 0,
    };
    Ok(Run { wall, peak_kib })
}

/// A directory holding the cached ledger as `ledger.redb`, the shape `--ledger` takes.
pub fn ledger_dir(ledger: &Ledger) -> anyhow::Result<PathBuf> {
    let dir = ledger.path.with_extension("dir");
    std::fs::create_dir_all(&dir)?;
    let link = dir.join("ledger.redb");
    if !link.exists() {
        std::os::unix::fs::symlink(&ledger.path, &link)?;
    }
    Ok(dir)
}

/// Median wall time and the largest peak of `runs`.
fn summary(runs: &[Run]) -> String {
    let wall = median(runs.iter().map(|r| r.wall).collect());
    let peak = runs.iter().map(|r| r.peak_kib).max().unwrap_or(0);
    format!("{} (peak {:.0} MB)", latency(wall), peak as f64 / 1024.0)
}

/// Copies `ledger` into the PostgreSQL database at `url` as the ledger `bench-<records>`
/// (once: an existing copy of the same size is reused); returns the ledger's arguments.
pub fn on_postgres(cli: &Path, ledger: &Ledger, url: &str) -> anyhow::Result<Vec<String>> {
    let name = format!("bench-{}", ledger.records);
    let at = vec![
        "--ledger".into(),
        url.to_owned(),
        "--ledger-name".into(),
        name.clone(),
    ];
    let head = Process::new(cli)
        .args(&at)
        .args(["head", "--json"])
        .output()?;
    let size = serde_json::from_slice::<serde_json::Value>(&head.stdout)
        .ok()
        .and_then(|h| h["size"].as_u64());
    if size != Some(ledger.records) {
        if size.is_some() {
            bail!("the database holds a ledger {name} of another size; drop it first");
        }
        eprintln!(
            "copying {} records into PostgreSQL ledger {name} …",
            ledger.records
        );
        let dir = ledger_dir(ledger)?;
        let out = Process::new(cli)
            .args(["--ledger-name", &name, "copy", "--from"])
            .arg(&dir)
            .args(["--to", url])
            .output()?;
        if !out.status.success() {
            bail!("the copy failed: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    Ok(at)
}

/// The bytes of the records, of the summaries and of the tags (each tag's key, value
/// and stream id, as stored once; redb keeps the tags twice, by stream and by value).
fn read_model_size(store: &RedbStore) -> anyhow::Result<(u64, u64, u64)> {
    use planledger_store::Store;
    let mut records = 0u64;
    let mut at = 0u64;
    loop {
        let chunk = store.read_all_bytes(at, 65_536)?;
        if chunk.is_empty() {
            break;
        }
        at += chunk.len() as u64;
        records += chunk.iter().map(|b| b.len() as u64).sum::<u64>();
    }
    let mut summaries = 0u64;
    let mut after = String::new();
    loop {
        let page = store.summaries_after(&after, 4096)?;
        let Some((last, _)) = page.last() else { break };
        after = last.clone();
        summaries += page
            .iter()
            .map(|(id, s)| (id.len() + s.bytes.len() + 8) as u64)
            .sum::<u64>();
    }
    let mut tags = 0u64;
    for key in [TAG_UNIT, TAG_CLIENT, "act", "due", "latest"] {
        tags += (store.tag_values(key)?.iter())
            .map(|(value, stream)| (key.len() + value.len() + stream.len()) as u64)
            .sum::<u64>();
    }
    Ok((records, summaries, tags))
}

/// Measures the reads of `ledger` through the CLI, `samples` runs of each per-plan
/// question (each on another client, plan or unit); `at` names where the CLI finds it
/// (the cached embedded file without one).
pub fn reads(
    cli: &Path,
    ledger: &Ledger,
    at: Option<Vec<String>>,
    samples: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let backend = if at.is_some() { "PostgreSQL" } else { "redb" };
    let embedded = at.is_none();
    let dir = match at {
        Some(at) => at,
        None => vec!["--ledger".into(), ledger_dir(ledger)?.display().to_string()],
    };
    let (clients, units, sizes) = {
        let store = RedbStore::open(&ledger.path)?;
        let sizes = embedded.then(|| read_model_size(&store)).transpose()?;
        (
            store.tag_values(TAG_CLIENT)?,
            store.tag_values(TAG_UNIT)?,
            sizes,
        )
    };
    if let Some((records, summaries, tags)) = sizes {
        report.row(
            "read model on disk: summaries, and the index's tags (values and stream ids)",
            format!(
                "{:.0} MB summaries + {:.0} MB tags = {:.2}× the {:.0} MB of record bytes",
                summaries as f64 / 1e6,
                tags as f64 / 1e6,
                (summaries + tags) as f64 / records as f64,
                records as f64 / 1e6
            ),
        );
    }
    if clients.is_empty() || units.is_empty() {
        bail!("the ledger has no plan index; rebuild the cache");
    }
    let last = ledger.org.end_at().date_naive() - Days::new(1);
    let as_of = last.to_string();
    let step = (clients.len() / samples.max(1)).max(1);
    let sample: Vec<&(String, String)> = clients.iter().step_by(step).take(samples).collect();
    let mut unit_names: Vec<&str> = units.iter().map(|(u, _)| u.as_str()).collect();
    unit_names.dedup();
    let mut largest = (0, "");
    for u in &unit_names {
        let n = units.iter().filter(|(v, _)| v == u).count();
        largest = largest.max((n, u));
    }

    report.section(&format!(
        "Reads as whole CLI processes, {} records on {backend} (median of {} runs; peak = maximum resident set)",
        thousands(ledger.records as f64),
        samples
    ));
    let each = |args: &dyn Fn(&str, &str) -> Vec<String>| -> anyhow::Result<String> {
        let mut runs = Vec::new();
        for (pnr, plan) in &sample {
            let a = args(pnr, plan);
            runs.push(run(
                cli,
                &dir,
                &a.iter().map(String::as_str).collect::<Vec<_>>(),
            )?);
        }
        Ok(summary(&runs))
    };
    report.row(
        "`planledger head` (start a process, open the store)",
        each(&|_, _| vec!["head".into()])?,
    );
    report.row(
        "`history --client PNR`",
        each(&|pnr, _| {
            vec![
                "history".into(),
                "--client".into(),
                pnr.into(),
                "--as-of".into(),
                as_of.clone(),
            ]
        })?,
    );
    report.row(
        "`show PLAN --as-of DATE`",
        each(&|_, plan| vec!["show".into(), plan.into(), "--as-of".into(), as_of.clone()])?,
    );
    report.row(
        "`audit in-force --client PNR`",
        each(&|pnr, _| {
            vec![
                "audit".into(),
                "in-force".into(),
                "--client".into(),
                pnr.into(),
                "--as-of".into(),
                as_of.clone(),
            ]
        })?,
    );
    let unit_runs = (0..samples.clamp(1, 3))
        .map(|_| {
            run(
                cli,
                &dir,
                &["audit", "overview", "--unit", largest.1, "--as-of", &as_of],
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    report.row(
        format!(
            "`audit overview --unit` (the largest unit, {} plans)",
            largest.0
        ),
        summary(&unit_runs),
    );
    let org_runs = (0..samples.clamp(1, 3))
        .map(|_| run(cli, &dir, &["audit", "overdue", "--as-of", &as_of]))
        .collect::<anyhow::Result<Vec<_>>>()?;
    report.row(
        format!(
            "`audit overdue` (the whole organisation, {} plans)",
            units.len()
        ),
        summary(&org_runs),
    );
    let rebuild = run(cli, &dir, &["reindex"])?;
    report.row(
        "`reindex` (the plan index rebuilt from position 0)",
        format!(
            "{} records/s, {} (peak {:.0} MB)",
            thousands(per_sec(ledger.records, rebuild.wall)),
            latency(rebuild.wall),
            rebuild.peak_kib as f64 / 1024.0
        ),
    );
    Ok(())
}
