//! `verify`: the whole ledger, against the checkpoints a witness holds, or only what came
//! after the latest one; a JSON report for a nightly job, on every path: a failure to run
//! at all (no ledger, a bad key, a damaged file, a bad witness directory) is one JSON
//! object too, `ok: false` with `error: {kind, message, exit_code}`.

use planledger_app::{Error, Kind, Result, keys, witness};
use serde_json::{Value, json};

use crate::Context;
use crate::exit;
use crate::flags::VerifyArgs;

pub fn verify(ctx: &Context, a: VerifyArgs) -> Result<()> {
    let as_json = a.json;
    let mut report = None;
    let started = std::time::Instant::now();
    let mut result = check(ctx, &a, &mut report);
    if let Some(file) = &a.prom {
        let records = report.as_ref().and_then(|r| r["records"].as_u64());
        let written = write_prom(file, ctx, &result, records, started.elapsed());
        // The check's own failure comes first; a textfile that cannot be written fails
        // an otherwise good run (the monitoring would go stale unnoticed).
        if result.is_ok() {
            result = written;
        }
    }
    if as_json {
        let mut value = report.unwrap_or_else(|| json!({ "ok": false }));
        if let Err(e) = &result {
            value["ok"] = false.into();
            value["error"] = error_json(e.kind(), &exit::mask(e));
        }
        println!("{value}");
    }
    result
}

/// The `error` member of a failed run's JSON report.
pub fn error_json(kind: Kind, message: &str) -> Value {
    json!({
        "kind": exit::kind_name(kind),
        "message": message,
        "exit_code": exit::number(kind),
    })
}

/// Runs the check; `report` receives the verifier's JSON report once there is one.
fn check(ctx: &Context, a: &VerifyArgs, report: &mut Option<Value>) -> Result<()> {
    let heads = match (&a.witness, &a.pubkey) {
        (Some(dir), Some(pubkey)) => {
            witness::checkpoints(dir, &keys::load_verifier(pubkey, &ctx.limits)?, &ctx.limits)?
                .iter()
                .map(|w| w.checkpoint.tree_head())
                .collect()
        }
        _ => Vec::new(),
    };
    let bar = crate::progress(
        "verifying {wide_bar} {pos}/{len} records ({per_sec}, {eta})",
        0,
    );
    let outcome = planledger_app::verify(
        ctx.open(),
        &heads,
        a.since_checkpoint,
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    );
    bar.finish_and_clear();
    let outcome = outcome?;
    *report = Some(outcome.to_json());
    if let (Some(r), true, false) = (&outcome.report, outcome.ok(), a.json) {
        println!(
            "OK: {} (from position {}; {} checkpoints matched)",
            r.message(),
            outcome.from,
            outcome.checkpoints
        );
    }
    if let Some(differs) = &outcome.index {
        return Err(Error::new(
            Kind::Verification,
            format!(
                "the records verify, but the plan index beside them differs from them at {differs}: \
                 readers would be shown a wrong list; rebuild it with `planledger reindex`"
            ),
        ));
    }
    match outcome.violation {
        None => Ok(()),
        Some(v) => Err(Error::new(
            Kind::Verification,
            format!(
                "verification FAILED at position {}: {}; the ledger was altered or damaged from there \
                 on — keep the files as they are and restore from a copy that verifies",
                v.position, v.kind
            ),
        )),
    }
}

/// Writes the Prometheus textfile: to a temporary file in the same directory, then
/// renamed over `file`, so the collector never reads half a file.
fn write_prom(
    file: &std::path::Path,
    ctx: &Context,
    result: &Result<()>,
    records: Option<u64>,
    took: std::time::Duration,
) -> Result<()> {
    use std::fmt::Write as _;
    let code = match result {
        Ok(()) => 0,
        Err(e) => exit::number(e.kind()),
    };
    let mut text = String::new();
    let mut metric = |name: &str, help: &str, value: String| {
        let _ = write!(
            text,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        );
    };
    metric(
        "planledger_verify_last_run_timestamp_seconds",
        "When planledger verify last ran (Unix time).",
        ctx.now.timestamp().to_string(),
    );
    metric(
        "planledger_verify_ok",
        "1 if the last verify found the ledger intact, 0 if it did not or could not run.",
        u8::from(result.is_ok()).to_string(),
    );
    metric(
        "planledger_verify_exit_code",
        "The exit code of the last verify (0 intact, 1 verification failure, 2-5 could not run).",
        code.to_string(),
    );
    metric(
        "planledger_verify_duration_seconds",
        "How long the last verify took.",
        format!("{:.3}", took.as_secs_f64()),
    );
    if let Some(records) = records {
        metric(
            "planledger_verify_records",
            "Records the last verify read (absent when it could not read the ledger).",
            records.to_string(),
        );
    }
    let name = file
        .file_name()
        .ok_or_else(|| Error::new(Kind::BadInput, "--prom needs a file name"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = file.with_file_name(temp_name);
    let what = || format!("cannot write the Prometheus textfile {}", file.display());
    std::fs::write(&temp, text).map_err(|e| Error::io(what(), e))?;
    std::fs::rename(&temp, file).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        Error::io(what(), e)
    })
}
