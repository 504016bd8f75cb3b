//! `verify`: the whole ledger, against the checkpoints a witness holds, or only what came
//! after the latest one; a JSON report for a nightly job, on every path: a failure to run
//! at all (no ledger, a bad key, a damaged file, a bad witness directory) is one JSON
//! object too, `ok: false` with `error: {kind, message, exit_code}`.

use planledger_app::{Result, keys, map, witness};
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
        let metrics = planledger_app::verify::Metrics {
            at: ctx.now,
            exit_code: result
                .as_ref()
                .map_or_else(|e| e.kind().exit_code(), |()| 0),
            took: started.elapsed(),
            records: report.as_ref().and_then(|r| r["records"].as_u64()),
        };
        let written = metrics.write(file);
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
            value["error"] = e.kind().json(&exit::mask(e));
        }
        println!("{value}");
    }
    result
}

/// Runs the check; `report` receives the verifier's JSON report once there is one.
fn check(ctx: &Context, a: &VerifyArgs, report: &mut Option<Value>) -> Result<()> {
    let checkpoints: Vec<_> = match (&a.witness, &a.pubkey) {
        (Some(dir), Some(pubkey)) => {
            witness::checkpoints(dir, &keys::load_verifier(pubkey, &ctx.limits)?, &ctx.limits)?
                .into_iter()
                .map(|w| w.checkpoint)
                .collect()
        }
        _ => Vec::new(),
    };
    let map_key = match &a.map_key {
        Some(path) => Some(map::load_key(path, &ctx.limits)?),
        None => None,
    };
    let bar = crate::progress(
        "verifying {wide_bar} {pos}/{len} records ({per_sec}, {eta})",
        0,
    );
    let outcome = planledger_app::verify(
        ctx.open(),
        &checkpoints,
        a.since_checkpoint,
        &ctx.policy()?,
        map_key.as_ref(),
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
            "OK: {} (from position {}; {} checkpoints matched{}{})",
            r.message(),
            outcome.from,
            outcome.checkpoints,
            match outcome.nodes_checked {
                0 => String::new(),
                n => format!(
                    "; {n} stored Merkle nodes and the index of {} streams match the records",
                    outcome.streams_checked
                ),
            },
            match map_key {
                Some(_) => format!(
                    "; the maps of {} checkpoints rebuilt from the records",
                    outcome.maps
                ),
                None => String::new(),
            }
        );
    }
    outcome.into_result()
}
