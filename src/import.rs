//! `import FILE`: JSON Lines through `planledger_app::import`, with a progress bar on a
//! terminal (a line on standard error every 10,000 lines otherwise, so that whoever
//! reads a log knows how far a killed run got), each rejection on standard error with
//! its line number, each line whose command was recorded already (skipped) with where,
//! and the summary always, also when a storage failure stops the run.

use std::io::{IsTerminal, Read};

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
