//! `planledger copy` as users run it, a whole process over a cached ledger, into a new
//! embedded ledger and into a new PostgreSQL ledger, each next to its limit in the same
//! run: for PostgreSQL, binary `COPY` of the same rows (position, stream, version,
//! record bytes) into a table of the records' shape and keys, on the same server; for
//! redb, reading the source's records (what no copy can avoid).

use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use planledger_store::Store;
use planledger_store_redb::RedbStore;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::{Client, NoTls};

use crate::build::Ledger;
use crate::report::{Report, latency, median, per_sec, thousands};

/// Records per read of the source for the limits.
const CHUNK: usize = 65_536;

/// Copies `ledger` with the CLI `repeat` times into a new redb ledger and, given a
/// database, into a new PostgreSQL ledger of it; reports records/s of each (the copy
/// and the index it derives after it, as `copy` does both) and their limits.
pub fn copy(
    cli: &Path,
    ledger: &Ledger,
    postgres: Option<&str>,
    repeat: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let records = ledger.records;
    report.section(&format!(
        "`planledger copy` of {} records, whole processes (goal: ≥ 100,000 records/s)",
        thousands(records as f64)
    ));
    let source = crate::reads::ledger_dir(ledger)?;
    let scratch = ledger.path.with_extension("copies");
    let source_store = RedbStore::open_read_only(&ledger.path)?;
    let limit_read = median(
        (0..repeat)
            .map(|_| read_all(&source_store).map(|(t, _)| t))
            .collect::<anyhow::Result<_>>()?,
    );
    drop(source_store);

    let mut redb = Vec::new();
    for i in 0..repeat {
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch)?;
        let to = scratch.join(format!("redb-{i}"));
        eprintln!("copy: into redb ({}/{repeat}) …", i + 1);
        redb.push(run(
            cli,
            &[],
            &source,
            to.to_str().context("a UTF-8 path")?,
        )?);
    }
    let (_, record_bytes) = read_all(&RedbStore::open_read_only(&ledger.path)?)?;
    disk(
        &scratch
            .join(format!("redb-{}", repeat - 1))
            .join("ledger.redb"),
        record_bytes,
        report,
    )?;
    let _ = std::fs::remove_dir_all(&scratch);
    let t = median(redb);
    report.against(
        "into a new embedded (redb) ledger",
        format!(
            "{} records/s ({})",
            thousands(per_sec(records, t)),
            latency(t)
        ),
        format!(
            "reading the source's records: {} records/s",
            thousands(per_sec(records, limit_read))
        ),
        per_sec(records, t) / per_sec(records, limit_read),
    );

    let Some(url) = postgres else {
        report.note("copy into PostgreSQL not measured: no --postgres");
        return Ok(());
    };
    let mut into_pg = Vec::new();
    let mut plain = Vec::new();
    for i in 0..repeat {
        let name = format!("copy-{}-{i}-{}", records, std::process::id());
        eprintln!("copy: into PostgreSQL ({}/{repeat}) …", i + 1);
        into_pg.push(run(cli, &["--ledger-name", &name], &source, url)?);
        eprintln!(
            "copy: plain binary COPY of the same rows ({}/{repeat}) …",
            i + 1
        );
        plain.push(plain_copy(&ledger.path, url, &format!("plain_{i}"))?);
    }
    let t = median(into_pg);
    let limit = median(plain);
    report.against(
        "into a new PostgreSQL ledger",
        format!(
            "{} records/s ({})",
            thousands(per_sec(records, t)),
            latency(t)
        ),
        format!(
            "binary COPY of the same rows into a table of their shape: {} records/s",
            thousands(per_sec(records, limit))
        ),
        per_sec(records, t) / per_sec(records, limit),
    );
    Ok(())
}

/// Runs `planledger [args] copy --from FROM --to TO`, timed to its exit.
fn run(cli: &Path, args: &[&str], from: &Path, to: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let out = Process::new(cli)
        .args(args)
        .arg("copy")
        .arg("--from")
        .arg(from)
        .args(["--to", to])
        .output()
        .with_context(|| format!("cannot run {}", cli.display()))?;
    let t = started.elapsed();
    if !out.status.success() {
        bail!("the copy failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(t)
}

/// Reads every record of `store`: the time and the bytes.
fn read_all(store: &RedbStore) -> anyhow::Result<(Duration, u64)> {
    let started = Instant::now();
    let (mut at, mut bytes) = (0u64, 0u64);
    loop {
        let chunk = store.read_all_bytes(at, CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        at += chunk.len() as u64;
        bytes += chunk.iter().map(|b| b.len() as u64).sum::<u64>();
    }
    Ok((started.elapsed(), bytes))
}

/// Binary `COPY` of `ledger`'s records, as rows (ledger, position, stream id, stream
/// version, bytes), into a new table `table` with the records table's keys, in one
/// transaction; the time from the first read of the source to the commit.
fn plain_copy(ledger: &Path, url: &str, table: &str) -> anyhow::Result<Duration> {
    let store = RedbStore::open_read_only(ledger)?;
    let mut client = Client::connect(url, NoTls)?;
    client.batch_execute(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (
             ledger integer NOT NULL, position bigint NOT NULL, stream_id text NOT NULL,
             stream_version bigint NOT NULL, bytes bytea NOT NULL,
             PRIMARY KEY (ledger, position), UNIQUE (ledger, stream_id, stream_version))"
    ))?;
    let started = Instant::now();
    let mut tx = client.transaction()?;
    let sink = tx.copy_in(&format!(
        "COPY {table} (ledger, position, stream_id, stream_version, bytes) FROM STDIN BINARY"
    ))?;
    let mut writer = BinaryCopyInWriter::new(
        sink,
        &[Type::INT4, Type::INT8, Type::TEXT, Type::INT8, Type::BYTEA],
    );
    let mut at = 0u64;
    loop {
        let chunk = store.read_all(at, CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        at += chunk.len() as u64;
        for r in &chunk {
            writer.write(&[
                &1i32,
                &(r.position() as i64),
                &r.stream_id(),
                &(r.stream_version() as i64),
                &r.bytes(),
            ])?;
        }
    }
    writer.finish()?;
    tx.commit()?;
    let t = started.elapsed();
    client.batch_execute(&format!("DROP TABLE {table}"))?;
    Ok(t)
}

/// The tables of the ledger proper: what the chain and its proofs need.
const LEDGER_TABLES: [&str; 5] = ["records", "streams", "nodes", "commands", "meta"];

/// What the copied redb file takes on disk, next to its records' bytes (goal: the ledger
/// ≤ 1.3× them): the pages of the ledger's own tables, of the read model beside them,
/// and the whole file.
fn disk(path: &Path, record_bytes: u64, report: &mut Report) -> anyhow::Result<()> {
    use redb::{ReadableDatabase, ReadableTableMetadata, TableHandle};
    let db = redb::Database::open(path)?;
    let txn = db.begin_read()?;
    let (mut ledger, mut read_model) = (0u64, 0u64);
    for table in txn.list_tables()? {
        let name = table.name().to_owned();
        let stats = txn.open_untyped_table(table)?.stats()?;
        let bytes = (stats.leaf_pages() + stats.branch_pages()) * 4096;
        match LEDGER_TABLES.contains(&name.as_str()) {
            true => ledger += bytes,
            false => read_model += bytes,
        }
    }
    let file = std::fs::metadata(path)?.len();
    let mb = |b: u64| format!("{:.0} MB", b as f64 / 1e6);
    let limit = format!("1.3 × the records' {}", mb(record_bytes));
    let ratio = |b: u64| b as f64 / (1.3 * record_bytes as f64);
    report.against(
        "the copy on disk: ledger tables (records, stream index, Merkle nodes, command ids)",
        format!(
            "{} ({:.2}× the records)",
            mb(ledger),
            ledger as f64 / record_bytes as f64
        ),
        limit.clone(),
        ratio(ledger),
    );
    report.against(
        "the copy on disk: the whole file, with the read model's tables",
        format!(
            "{} ({:.2}× the records; read model {})",
            mb(file),
            file as f64 / record_bytes as f64,
            mb(read_model)
        ),
        limit,
        ratio(file),
    );
    Ok(())
}
