//! Generates a synthetic organisation without writing it, and reports how many commands
//! of each kind it holds and how long generating them took (CPU time includes building
//! every plan's content):
//!
//! ```sh
//! cargo run --release -p planledger-synth --example count -- CLIENTS MONTHS SEED
//! ```

use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("whole numbers: CLIENTS MONTHS SEED"))
        .collect();
    let org = planledger_synth::Organisation {
        clients: args.first().map_or(1000, |c| *c as usize),
        months: args.get(1).map_or(12, |m| *m as u32),
        seed: args.get(2).copied().unwrap_or(1),
        ..Default::default()
    };
    let started = Instant::now();
    let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
    let mut total = 0u64;
    for (_, _, command) in org.commands().expect("a valid organisation") {
        *kinds.entry(command.name()).or_default() += 1;
        total += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    for (kind, n) in &kinds {
        println!("{kind:>20} {n:>12}");
    }
    println!(
        "{total} commands for {} clients over {} months in {secs:.1} s ({:.0} commands/s)",
        org.clients,
        org.months,
        total as f64 / secs
    );
}
