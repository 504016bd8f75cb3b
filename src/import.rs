//! `import FILE`: JSON Lines through `planledger_app::import`, with a progress bar on a
//! terminal (a line on standard error every 10,000 lines otherwise, so that whoever
//! reads a log knows how far a killed run got), each rejection on standard error with
//! its line number, each line whose command was recorded already (skipped) with where,
//! and the summary always, also when a storage failure stops the run.

use std::io::{BufRead, IsTerminal, Read};

use planledger_app::import::LineOutcome;
use planledger_app::{Error, Kind, Recorder, Result};

use crate::Context;

/// Lines between two progress lines when standard error is not a terminal.
const PROGRESS_EVERY: u64 = 10_000;

pub fn run(ctx: &Context, file: &str) -> Result<()> {
    let (input, size): (Box<dyn Read>, u64) = if file == "-" {
        (Box::new(std::io::stdin()), 0)
    } else {
        let f =
            std::fs::File::open(file).map_err(|e| Error::io(format!("cannot open {file}"), e))?;
        let size = f.metadata().map_or(0, |m| m.len());
        (Box::new(f), size)
    };
    // A large buffer makes large groups: lines are committed together while it holds
    // more of them, and before the import waits for input.
    let mut reader = std::io::BufReader::with_capacity(1 << 20, input);
    if let Some(server) = ctx.server()? {
        return import_on(&server, &mut reader);
    }
    let store = ctx.open()?;
    let mut recorder = Recorder::new(store.as_ref(), ctx.policy()?);
    let bar = crate::progress("importing {wide_bar} {bytes}/{total_bytes} ({eta})", size);
    let terminal = std::io::stderr().is_terminal();
    let (mut done, mut recorded, mut records) = (0u64, 0u64, 0u64);
    let (summary, stopped) = planledger_app::import(
        &mut recorder,
        &mut reader,
        ctx.claimed_now,
        &ctx.limits,
        &mut |number, bytes, outcome| {
            bar.set_position(bytes);
            done += 1;
            match outcome {
                LineOutcome::Rejected(why) => {
                    bar.suspend(|| eprintln!("line {number}: {}", crate::exit::mask(why)))
                }
                LineOutcome::Recorded(n) => {
                    records += n;
                    recorded += 1;
                }
                LineOutcome::AlreadyRecorded(position) => {
                    recorded += 1;
                    bar.suspend(|| {
                        eprintln!("line {number}: already recorded at position {position}; skipped")
                    })
                }
            }
            if !terminal && done % PROGRESS_EVERY == 0 {
                eprintln!(
                    "imported {done} lines so far (up to line {number}): {records} records, {} rejected",
                    done - recorded
                );
            }
        },
    );
    bar.finish_and_clear();
    println!(
        "imported {} of {} lines ({} records); {} already recorded (skipped); {} rejected",
        summary.lines - summary.rejected - summary.already_recorded,
        summary.lines,
        summary.records,
        summary.already_recorded,
        summary.rejected
    );
    stopped?;
    if summary.rejected > 0 {
        return Err(Error::new(
            Kind::BadInput,
            format!(
                "{} lines were rejected (see above); nothing of them was written",
                summary.rejected
            ),
        ));
    }
    Ok(())
}

/// Lines sent in one request to a server, and the most bytes (the server's default body
/// limit is 16 MiB).
const REMOTE_LINES: usize = 5_000;
const REMOTE_BYTES: usize = 8 << 20;

/// What the server answers an import request (`POST /v1/import`).
#[derive(serde::Deserialize)]
struct ImportAnswer {
    results: Vec<LineAnswer>,
}

#[derive(serde::Deserialize)]
struct LineAnswer {
    line: u64,
    #[serde(default)]
    recorded: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    already_recorded_at: Option<u64>,
    #[serde(default)]
    error: Option<LineError>,
}

#[derive(serde::Deserialize)]
struct LineError {
    message: String,
}

/// `import` over `--server`: the lines in requests of up to [`REMOTE_LINES`] lines, in
/// file order; each line's outcome reported as a local import reports it (line numbers
/// of the whole file), and the same summary, also when a request fails.
fn import_on(server: &planledger_serve::client::Server, reader: &mut dyn BufRead) -> Result<()> {
    let mut c = Counts::default();
    let mut first = 1u64; // the file's line number of the chunk's first line
    let mut number = 0u64;
    let mut chunk = String::new();
    let mut in_chunk = 0usize;
    let mut raw = Vec::new();
    let outcome = loop {
        raw.clear();
        let n = match reader.read_until(b'\n', &mut raw) {
            Ok(n) => n,
            Err(e) => break Err(Error::io("cannot read the import", e)),
        };
        if n > 0 {
            number += 1;
            match std::str::from_utf8(&raw) {
                Ok(text) => chunk.push_str(text.trim_end_matches(['\n', '\r'])),
                Err(_) => {
                    // Sent as an empty line, so the server's numbers stay the file's.
                    c.lines += 1;
                    c.rejected += 1;
                    eprintln!("line {number}: not UTF-8 text");
                }
            }
            chunk.push('\n');
            in_chunk += 1;
        }
        if in_chunk > 0 && (n == 0 || in_chunk >= REMOTE_LINES || chunk.len() >= REMOTE_BYTES) {
            if let Err(e) = send(server, &chunk, first, &mut c) {
                break Err(e);
            }
            chunk.clear();
            first = number + 1;
            in_chunk = 0;
        }
        if n == 0 {
            break Ok(());
        }
    };
    println!(
        "imported {} of {} lines ({} records); {} already recorded (skipped); {} rejected",
        c.lines - c.rejected - c.already,
        c.lines,
        c.records,
        c.already,
        c.rejected
    );
    outcome?;
    if c.rejected > 0 {
        return Err(Error::new(
            Kind::BadInput,
            format!(
                "{} lines were rejected (see above); nothing of them was written",
                c.rejected
            ),
        ));
    }
    Ok(())
}

#[derive(Default)]
struct Counts {
    lines: u64,
    records: u64,
    already: u64,
    rejected: u64,
}

/// Sends one chunk of lines, the first of them line `first` of the file; reports each
/// line's outcome.
fn send(
    server: &planledger_serve::client::Server,
    chunk: &str,
    first: u64,
    c: &mut Counts,
) -> Result<()> {
    let answer: ImportAnswer = server.post_json(
        "/v1/import",
        None,
        &[],
        "application/x-ndjson",
        chunk.as_bytes(),
    )?;
    for r in answer.results {
        let at = first + r.line - 1;
        c.lines += 1;
        if let Some(e) = r.error {
            c.rejected += 1;
            eprintln!("line {at}: {}", crate::exit::mask(e.message));
        } else if let Some(position) = r.already_recorded_at {
            c.already += 1;
            eprintln!("line {at}: already recorded at position {position}; skipped");
        } else if let Some(r) = r.recorded {
            c.records += r.len() as u64;
        }
    }
    Ok(())
}
