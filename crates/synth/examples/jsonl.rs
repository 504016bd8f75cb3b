//! Writes a synthetic organisation's commands as JSON Lines to stdout, with the
//! defaults of `Organisation` otherwise:
//!
//! ```sh
//! cargo run --release -p planledger-synth --example jsonl -- CLIENTS MONTHS SEED > org.jsonl
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(|s| s.parse::<u64>());
    let mut org = planledger_synth::Organisation::default();
    match (arg(0), arg(1), arg(2)) {
        (Some(Err(_)), ..) | (_, Some(Err(_)), _) | (.., Some(Err(_))) => {
            eprintln!("usage: jsonl [CLIENTS [MONTHS [SEED]]] (whole numbers)");
            return ExitCode::from(2);
        }
        (clients, months, seed) => {
            if let Some(Ok(c)) = clients {
                org.clients = c as usize;
            }
            if let Some(Ok(m)) = months {
                org.months = m.min(u64::from(u32::MAX)) as u32;
            }
            if let Some(Ok(s)) = seed {
                org.seed = s;
            }
        }
    }
    match planledger_synth::write_json_lines(&org, std::io::stdout().lock()) {
        Ok(lines) => {
            eprintln!("{lines} commands");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
