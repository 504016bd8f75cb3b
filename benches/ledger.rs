//! Ledger core throughput: sealing and verification of ~500-byte records, next to plain
//! blake3 over the same bytes in the same run (one call per record, and one call over
//! the concatenation), on one thread and on all threads.
//!
//! Each bench runs twice, once with `Throughput::Elements` (records/s) and once with
//! `Throughput::Bytes` (MB/s of stored record bytes).
//!
//! ```sh
//! cargo bench --bench ledger -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use planledger_ledger::{Actor, Entry, Envelope, Frontier, Hash, Verifier, seal};
use rayon::prelude::*;

/// Records per iteration: 10 MB of stored bytes, well beyond the CPU caches.
const RECORDS: usize = 20_000;
/// Stored size of each record.
const RECORD_BYTES: usize = 500;
/// Records fed to the verifier per chunk, as `verify_store` does.
const CHUNK: usize = 8192;

fn entry(i: usize, payload_len: usize) -> Entry {
    // Synthetic, varying payload bytes (no personal data).
    let payload = (0..payload_len)
        .map(|j| (i.wrapping_mul(31) ^ j.wrapping_mul(7)) as u8)
        .collect();
    Entry {
        stream_id: format!("plan-{:06}", i % 5000),
        stream_version: (i / 5000) as u64 + 1,
        claimed_at_micros: 1_767_225_600_000_000 + i as i64 * 1000,
        command_id: String::new(),
        actor: Actor {
            user_id: format!("u-{:04}", i % 97),
            role: "key_worker".into(),
        },
        event_type: "plan_revised".into(),
        schema_version: 1,
        envelope: Envelope::plaintext(),
        payload,
    }
}

/// Entries whose sealed records are exactly `RECORD_BYTES` long.
fn entries() -> Vec<Entry> {
    let overhead = seal(0, Hash::ZERO, 0, &entry(0, 0)).unwrap().bytes().len();
    (0..RECORDS)
        .map(|i| entry(i, RECORD_BYTES - overhead))
        .collect()
}

/// Seals `entries` as a chain from position 0, growing the Merkle frontier.
fn seal_all(entries: &[Entry]) -> (Vec<Vec<u8>>, Hash) {
    let mut prev = Hash::ZERO;
    let mut frontier = Frontier::new();
    let mut out = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let r = seal(i as u64, prev, e.claimed_at_micros, e).unwrap();
        prev = r.hash();
        frontier.push(prev, |_, _| {});
        out.push(r.into_bytes());
    }
    (out, frontier.root())
}

fn verify_all(records: &[Vec<u8>]) -> Hash {
    let mut v = Verifier::new();
    for c in records.chunks(CHUNK) {
        v.feed(c).unwrap();
    }
    v.finish(None).unwrap().root.unwrap()
}

fn benches(group: &mut BenchmarkGroup<'_, WallTime>, entries: &[Entry], records: &[Vec<u8>]) {
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let concat: Vec<u8> = records.concat();
    let threads = rayon::current_num_threads();

    group.bench_function("seal/1-thread", |b| b.iter(|| seal_all(black_box(entries))));
    group.bench_function("verify/1-thread", |b| {
        b.iter(|| one.install(|| verify_all(black_box(records))))
    });
    group.bench_function(format!("verify/{threads}-threads"), |b| {
        b.iter(|| verify_all(black_box(records)))
    });
    group.bench_function("blake3-per-record/1-thread", |b| {
        b.iter(|| {
            for r in records {
                black_box(blake3::hash(black_box(r)));
            }
        })
    });
    group.bench_function(format!("blake3-per-record/{threads}-threads"), |b| {
        b.iter(|| {
            records.par_iter().with_min_len(256).for_each(|r| {
                black_box(blake3::hash(black_box(r)));
            })
        })
    });
    group.bench_function("blake3-concatenated/1-thread", |b| {
        b.iter(|| blake3::hash(black_box(&concat)))
    });
    // One call per thread over its share of the concatenation: the physical limit.
    let share = concat.len().div_ceil(threads);
    group.bench_function(format!("blake3-concatenated/{threads}-threads"), |b| {
        b.iter(|| {
            concat.par_chunks(share).for_each(|c| {
                black_box(blake3::hash(black_box(c)));
            })
        })
    });
}

fn ledger(c: &mut Criterion) {
    let entries = entries();
    let (records, root) = seal_all(&entries);
    assert!(records.iter().all(|r| r.len() == RECORD_BYTES));
    assert_eq!(verify_all(&records), root);
    let total: usize = records.iter().map(Vec::len).sum();

    let mut g = c.benchmark_group("ledger-records");
    g.throughput(Throughput::Elements(RECORDS as u64));
    benches(&mut g, &entries, &records);
    g.finish();

    let mut g = c.benchmark_group("ledger-bytes");
    g.throughput(Throughput::Bytes(total as u64));
    benches(&mut g, &entries, &records);
    g.finish();
}

criterion_group!(ledger_benches, ledger);
criterion_main!(ledger_benches);
