//! Record hashing alone, in memory, next to its limits (BENCHMARKS.md, "In SIMD lanes"):
//! the record hashes of N records of 200 to 420 bytes (default 8,192, one verify chunk,
//! which stays in the CPU's caches) by `lanes::hash_many`, by one `blake3` call per
//! record, and blake3 over the records' concatenation (b3sum-style), one thread each,
//! best of 200 rounds.
//!
//! ```sh
//! cargo run --release -p planledger-ledger --example lanes [N]
//! ```

use std::time::{Duration, Instant};

use planledger_ledger::{Hash, hash_record_bytes, lanes};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(8192);
    let records: Vec<Vec<u8>> = (0..n)
        .map(|i| vec![(i % 251) as u8; 200 + (i * 37) % 220])
        .collect();
    let bytes: usize = records.iter().map(Vec::len).sum();
    let concatenated = records.concat();
    let mut out = vec![Hash::ZERO; n];
    let (mut in_lanes, mut per_record, mut big) = (Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..200 {
        let t = Instant::now();
        lanes::hash_many(b"planledger/record/v1\0", &records, &mut out);
        in_lanes = in_lanes.min(t.elapsed());
        let t = Instant::now();
        for (r, o) in records.iter().zip(out.iter_mut()) {
            *o = hash_record_bytes(r);
        }
        per_record = per_record.min(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(blake3::hash(&concatenated));
        big = big.min(t.elapsed());
    }
    let mb_s = |d: Duration| bytes as f64 / d.as_secs_f64() / 1e6;
    println!(
        "{n} records, {bytes} bytes: lanes {:.0} MB/s, blake3 per record {:.0} MB/s, \
         blake3 b3sum-style {:.0} MB/s; lanes / b3sum-style {:.0} %",
        mb_s(in_lanes),
        mb_s(per_record),
        mb_s(big),
        100.0 * big.as_secs_f64() / in_lanes.as_secs_f64()
    );
}
