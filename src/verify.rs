//! `verify`: the whole ledger, against the checkpoints a witness holds, or only what came
//! after the latest one; a JSON report for a nightly job, on every path: a failure to run
//! at all (no ledger, a bad key, a damaged file, a bad witness directory) is one JSON
//! object too, `ok: false` with `error: {kind, message, exit_code}`.

use planledger_app::cosign::PolicyCheck;
use planledger_app::{Result, cosign, keys, witness};
use serde_json::json;

use crate::Context;
use crate::exit;
use crate::flags::VerifyArgs;

pub fn verify(ctx: &Context, a: VerifyArgs) -> Result<()> {
    let as_json = a.json;
    let started = std::time::Instant::now();
    let (outcome, witnesses, mut result) = match check(ctx, &a) {
        Ok((o, w)) => {
            // The ledger's own finding comes first; then the witness policy.
            let result = o
                .result()
                .and_then(|()| w.as_ref().map_or(Ok(()), PolicyCheck::result));
            (Some(o), w, result)
        }
        Err(e) => (None, None, Err(e)),
    };
    if let Some(file) = &a.prom {
        let metrics = planledger_app::verify::Metrics {
            at: chrono::Utc::now(),
            exit_code: result
                .as_ref()
                .map_or_else(|e| e.kind().exit_code(), |()| 0),
            took: started.elapsed(),
            records: (outcome.as_ref())
                .and_then(|o| o.report.as_ref())
                .map(|r| r.records),
        };
        let written = metrics.write(file);
        // The check's own failure comes first; a textfile that cannot be written fails
        // an otherwise good run (the monitoring would go stale unnoticed).
        if result.is_ok() {
            result = written;
        }
    }
    if as_json {
        let mut value = (outcome.as_ref()).map_or_else(|| json!({ "ok": false }), |o| o.to_json());
        if let Some(w) = &witnesses {
            value["witnesses"] = w.to_json();
        }
        if let Err(e) = &result {
            value["ok"] = false.into();
            value["error"] = e.kind().json(&exit::mask(e));
        }
        println!("{value}");
    }
    result
}

/// Runs the check: its outcome (what verified and what did not) and, with a witness
/// policy, how the latest checkpoint meets it; or why it could not run.
fn check(
    ctx: &Context,
    a: &VerifyArgs,
) -> Result<(planledger_app::verify::Outcome, Option<PolicyCheck>)> {
    let policy = match a.witnesses.witness_keys.is_empty() {
        true => None,
        false => Some(cosign::load_policy(
            &a.witnesses.witness_keys,
            a.witnesses.witness_threshold,
            &ctx.limits,
        )?),
    };
    let witnessed = match (&a.witness, &a.pubkey) {
        (Some(dir), Some(pubkey)) => {
            witness::checkpoints(dir, &keys::load_verifier(pubkey, &ctx.limits)?, &ctx.limits)?
        }
        _ => Vec::new(),
    };
    let witnesses = policy.map(|p| cosign::check_latest(&witnessed, &p));
    let checkpoints: Vec<_> = witnessed.into_iter().map(|w| w.checkpoint).collect();
    let map_key = ctx.map_key(a.map_key.as_deref())?;
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
    let witnessed_ok = witnesses.as_ref().is_none_or(|w| w.failure.is_none());
    if let (Some(r), true, true, false) = (&outcome.report, outcome.ok(), witnessed_ok, a.json) {
        println!(
            "OK: {} (from position {}; {} checkpoints matched{}{}{})",
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
            },
            match &witnesses {
                Some(w) => format!(
                    "; the latest, of {} records, cosigned by {} of the {} witnesses given ({}; at least {} needed)",
                    w.size.unwrap_or(0),
                    w.cosigned_by.len(),
                    w.keys,
                    exit::mask(
                        w.cosigned_by
                            .iter()
                            .map(|c| c.key_name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    w.threshold
                ),
                None => String::new(),
            }
        );
    }
    Ok((outcome, witnesses))
}
