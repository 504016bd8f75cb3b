//! `verify_store` on a redb ledger, alone, as a whole process (BENCHMARKS.md, "In SIMD
//! lanes"): what `planledger verify` spends on the records' check, without the derived
//! data's check that follows it there.
//!
//! ```sh
//! cargo run --release -p planledger-store-redb --example verify_records -- LEDGER.redb [THREADS] [REPEAT]
//! ```

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("the ledger's redb file");
    let threads: usize = args.next().map_or(1, |s| s.parse().expect("threads"));
    let repeat: usize = args.next().map_or(1, |s| s.parse().expect("repetitions"));
    let store = planledger_store_redb::RedbStore::open_read_only(&path).expect("a redb ledger");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    for _ in 0..repeat {
        let started = Instant::now();
        let report = pool
            .install(|| planledger_store::verify_store(&store, &[], &mut |_, _| {}))
            .expect("the store reads");
        let took = started.elapsed();
        println!(
            "{threads} thread(s): {}; {:.3} s, {:.0} records/s",
            report.message(),
            took.as_secs_f64(),
            report.records as f64 / took.as_secs_f64()
        );
    }
}
