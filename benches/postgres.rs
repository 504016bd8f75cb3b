//! Durable append throughput of the PostgreSQL store, next to its physical limit measured
//! on the same throwaway server in the same run: plain `INSERT` and binary `COPY` of the
//! same record bytes into a bare table (no chain, no checks, no index but the primary
//! key), one transaction per batch, with the same durability (fsync on,
//! `synchronous_commit = on`: every commit waits for its WAL flush).
//!
//! Batch sizes 1, 10 and 100 events, with 1 and 8 concurrent writers (each writer its
//! own stream and connection). `planledger-pg` appends to one ledger: its appends
//! serialise on the ledger's head row, the ledger's write lock, held until the commit
//! is flushed, and concurrent appends of the process share commits (group commit).
//! `planledger-pg-8-ledgers` gives each writer a ledger of its own (as
//! organisations sharing a cluster): those appends do not wait for each other.
//! Throughput is in events per second.
//!
//! ```sh
//! cargo bench --bench postgres -- --warm-up-time 1 --measurement-time 3
//! ```

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use planledger_ledger::{Actor, Envelope};
use planledger_store::{AppendBatch, Chain, ExpectedVersion, NewEvent, Store};
use planledger_store_postgres::postgres::binary_copy::BinaryCopyInWriter;
use planledger_store_postgres::postgres::types::Type;
use planledger_store_postgres::postgres::{Client, NoTls};
use planledger_store_postgres::testing::TestServer;
use planledger_store_postgres::{PostgresStore, migrate};

/// Stored size of each record, in bytes (approximately: the header varies slightly).
const RECORD_BYTES: usize = 500;
const BATCH_SIZES: [usize; 3] = [1, 10, 100];
const WRITERS: [usize; 2] = [1, 8];

fn batch(writer: usize, n: usize) -> AppendBatch {
    AppendBatch {
        stream_id: format!("plan-bench-{writer}"),
        expected: ExpectedVersion::Any,
        actor: Actor {
            user_id: format!("u-bench-{writer}"),
            role: "key_worker".into(),
        },
        claimed_at_micros: 1_767_225_600_000_000,
        command_id: None,
        tags: Vec::new(),
        summary: None,
        events: (0..n)
            .map(|i| NewEvent {
                event_type: "plan_revised".into(),
                schema_version: 1,
                envelope: Envelope::plaintext(),
                // Synthetic bytes, sized so that the sealed record is ~RECORD_BYTES.
                payload: (0..RECORD_BYTES - 100)
                    .map(|j| (i * 31 + j * 7) as u8)
                    .collect(),
            })
            .collect(),
    }
}

/// The bytes the store would write for `batch`: the plain side inserts these.
fn sealed_bytes(batch: &AppendBatch) -> Vec<Vec<u8>> {
    let mut chain = Chain::default();
    let (records, _) = chain
        .seal_batch(batch, 0, planledger_store::clock_micros())
        .expect("seal");
    records.into_iter().map(|r| r.into_bytes()).collect()
}

/// Runs `iters` operations spread over `writers` threads; returns the wall time.
fn spread(iters: u64, writers: usize, op: impl Fn(usize) + Sync) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let op = &op;
            let mine = iters / writers as u64 + u64::from((w as u64) < iters % writers as u64);
            s.spawn(move || {
                for _ in 0..mine {
                    op(w);
                }
            });
        }
    });
    start.elapsed()
}

fn plural(writers: usize) -> &'static str {
    if writers > 1 { "s" } else { "" }
}

fn durable_appends(c: &mut Criterion) {
    // Default settings: fsync on, synchronous_commit on.
    let server = TestServer::start().expect("start a PostgreSQL server");
    let url = server.create_database().expect("create a database");
    migrate(&url).expect("migrate");
    let store = PostgresStore::create(&url, "bench").expect("create the ledger");
    let ledgers: Vec<PostgresStore> = (0..8)
        .map(|w| PostgresStore::create(&url, &format!("bench-{w}")).expect("create a ledger"))
        .collect();
    let mut setup = Client::connect(&url, NoTls).expect("connect");
    setup
        .batch_execute("CREATE TABLE plain (position bigint PRIMARY KEY, bytes bytea NOT NULL)")
        .expect("create the plain table");
    // One connection per writer for the plain side, as the store has in its pool.
    let clients: Vec<Mutex<Client>> = (0..8)
        .map(|_| Mutex::new(Client::connect(&url, NoTls).expect("connect")))
        .collect();
    let next = AtomicI64::new(0);

    let mut group = c.benchmark_group("durable_appends_postgres");
    group.sample_size(10);
    for n in BATCH_SIZES {
        let batches: Vec<AppendBatch> = (0..8).map(|w| batch(w, n)).collect();
        let bytes: Vec<Vec<Vec<u8>>> = batches.iter().map(sealed_bytes).collect();
        group.throughput(Throughput::Elements(n as u64));
        for writers in WRITERS {
            let param = format!("batch {n:>3}, {writers} writer{}", plural(writers));
            group.bench_function(BenchmarkId::new("planledger-pg", &param), |b| {
                b.iter_custom(|iters| {
                    spread(iters, writers, |w| {
                        store.append(batches[w].clone()).expect("append");
                    })
                })
            });
            if writers > 1 {
                group.bench_function(BenchmarkId::new("planledger-pg-8-ledgers", &param), |b| {
                    b.iter_custom(|iters| {
                        spread(iters, writers, |w| {
                            ledgers[w].append(batches[w].clone()).expect("append");
                        })
                    })
                });
            }
            group.bench_function(BenchmarkId::new("plain-insert", &param), |b| {
                b.iter_custom(|iters| {
                    spread(iters, writers, |w| {
                        let first = next.fetch_add(n as i64, Ordering::Relaxed);
                        let positions: Vec<i64> = (first..first + n as i64).collect();
                        let rows: Vec<&[u8]> = bytes[w].iter().map(Vec::as_slice).collect();
                        let mut client = clients[w].lock().unwrap();
                        let mut tx = client.transaction().unwrap();
                        tx.execute(
                            "INSERT INTO plain SELECT * FROM unnest($1::bigint[], $2::bytea[])",
                            &[&positions, &rows],
                        )
                        .unwrap();
                        tx.commit().unwrap();
                    })
                })
            });
            group.bench_function(BenchmarkId::new("plain-copy", &param), |b| {
                b.iter_custom(|iters| {
                    spread(iters, writers, |w| {
                        let first = next.fetch_add(n as i64, Ordering::Relaxed);
                        let mut client = clients[w].lock().unwrap();
                        let mut tx = client.transaction().unwrap();
                        let sink = tx.copy_in("COPY plain FROM STDIN BINARY").unwrap();
                        let mut writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::BYTEA]);
                        for (i, r) in bytes[w].iter().enumerate() {
                            writer.write(&[&(first + i as i64), &r.as_slice()]).unwrap();
                        }
                        writer.finish().unwrap();
                        tx.commit().unwrap();
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, durable_appends);
criterion_main!(benches);
