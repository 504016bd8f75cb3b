//! `import FILE`: JSON Lines through `planledger_app::import`, with a progress bar on a
//! terminal and each rejection on standard error with its line number.

use std::io::BufRead;

use planledger_app::import::LineOutcome;
use planledger_app::{Error, Kind, Recorder, Result};

use crate::Context;

pub fn run(ctx: &Context, file: &str) -> Result<()> {
    let (reader, size): (Box<dyn BufRead>, u64) = if file == "-" {
        (Box::new(std::io::stdin().lock()), 0)
    } else {
        let f =
            std::fs::File::open(file).map_err(|e| Error::io(format!("cannot open {file}"), e))?;
        let size = f.metadata().map_or(0, |m| m.len());
        (Box::new(std::io::BufReader::new(f)), size)
    };
    let store = ctx.open()?;
    let mut recorder = Recorder::new(store.as_ref());
    let bar = crate::progress("importing {wide_bar} {bytes}/{total_bytes} ({eta})", size);
    let summary = planledger_app::import(
        &mut recorder,
        reader,
        ctx.now,
        &mut |number, bytes, outcome| {
            bar.set_position(bytes);
            if let LineOutcome::Rejected(why) = outcome {
                bar.suspend(|| eprintln!("line {number}: {why}"));
            }
        },
    );
    bar.finish_and_clear();
    let summary = summary?;
    println!(
        "imported {} of {} lines ({} records); {} rejected",
        summary.lines - summary.rejected,
        summary.lines,
        summary.records,
        summary.rejected
    );
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
