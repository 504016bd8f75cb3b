//! Durable append throughput of the embedded store, next to its physical limit measured
//! in the same run: plain redb inserts of the same record bytes, one write transaction
//! per batch, with the same durability (`Durability::Immediate`, an fsync per commit).
//!
//! Batch sizes 1, 10, 100 and 1000 events, with 1 and 8 concurrent writers (each writer
//! its own stream). Throughput is in events per second; batches per second is that
//! divided by the batch size. With 8 writers the store's group commit lets one fsync
//! cover the batches that queued meanwhile; plain redb serialises its transactions and
//! pays one fsync each.
//!
//! ```sh
//! cargo bench --bench store -- --warm-up-time 1 --measurement-time 3
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use planledger_ledger::{Actor, Envelope};
use planledger_store::{AppendBatch, Chain, ExpectedVersion, NewEvent, Store};
use planledger_store_redb::RedbStore;
use redb::{Database, Durability, TableDefinition};

/// Stored size of each record, in bytes (approximately: the header varies slightly).
const RECORD_BYTES: usize = 500;
const BATCH_SIZES: [usize; 4] = [1, 10, 100, 1000];
const WRITERS: [usize; 2] = [1, 8];

const PLAIN: TableDefinition<u64, &[u8]> = TableDefinition::new("plain");

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

/// The bytes the store would write for `batch`: the plain-redb side inserts these.
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

fn durable_appends(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = RedbStore::create(dir.path().join("store.redb")).expect("create store");
    let plain = Database::create(dir.path().join("plain.redb")).expect("create redb");
    {
        let txn = plain.begin_write().unwrap();
        txn.open_table(PLAIN).unwrap();
        txn.commit().unwrap();
    }
    let next_key = AtomicU64::new(0);

    let mut group = c.benchmark_group("durable_appends");
    group.sample_size(10);
    for n in BATCH_SIZES {
        let batches: Vec<AppendBatch> = (0..8).map(|w| batch(w, n)).collect();
        let bytes: Vec<Vec<Vec<u8>>> = batches.iter().map(sealed_bytes).collect();
        group.throughput(Throughput::Elements(n as u64));
        for writers in WRITERS {
            let param = format!(
                "batch {n:>4}, {writers} writer{}",
                if writers > 1 { "s" } else { "" }
            );
            group.bench_function(BenchmarkId::new("planledger-redb", &param), |b| {
                b.iter_custom(|iters| {
                    spread(iters, writers, |w| {
                        store.append(batches[w].clone()).expect("append");
                    })
                })
            });
            group.bench_function(BenchmarkId::new("plain-redb", &param), |b| {
                b.iter_custom(|iters| {
                    spread(iters, writers, |w| {
                        let mut txn = plain.begin_write().unwrap();
                        txn.set_durability(Durability::Immediate).unwrap();
                        {
                            let mut t = txn.open_table(PLAIN).unwrap();
                            for r in &bytes[w] {
                                let k = next_key.fetch_add(1, Ordering::Relaxed);
                                t.insert(k, r.as_slice()).unwrap();
                            }
                        }
                        txn.commit().unwrap();
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, durable_appends);
criterion_main!(benches);
