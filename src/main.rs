//! `planledger`: the command-line interface. Thin: it parses, calls the crates, prints.

use clap::Parser;

/// planledger — an append-only, hash-chained audit ledger for implementation plans
/// (genomförandeplaner) in Swedish social care.
#[derive(Parser)]
#[command(version)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
}
