//! The read model: for each plan, its state without contents or free text
//! ([`PlanState::without_contents`]), kept by the store beside the records as the
//! stream's summary ([`planledger_store::StreamSummary`], JSON). Written in the
//! transaction of every append (the application's `batch_of`), so it is never behind
//! the records; rebuilt from them by [`rebuild_summaries`]; compared with a fold of the
//! records by `verify`. Reports over many plans read it instead of the records.

use std::collections::HashMap;

use planledger_plan::{DeadlinePolicy, PlanState};
use planledger_store::{Store, StreamSummary, StreamTag};
use rayon::prelude::*;

use crate::error::ProjectionError;
use crate::plans::{TAG_DUE, TAG_LATEST, policy_key, state_tags};
use crate::projection::fold_plan;

/// Plans folded side by side when rebuilding or checking summaries.
const BLOCK: usize = 256;

/// The summary of a plan in `state`, as stored.
pub fn summary_bytes(state: &PlanState) -> Vec<u8> {
    serde_json::to_vec(&state.without_contents()).expect("a plan state serialises")
}

/// A stored summary of `stream`, read back.
pub fn decode_summary(stream: &str, bytes: &[u8]) -> Result<PlanState, ProjectionError> {
    // Decoding summaries is most of a report over many plans: sonic-rs reads the same
    // JSON as serde_json, faster (SIMD).
    sonic_rs::from_slice(bytes).map_err(|_| ProjectionError::Summary {
        stream: stream.to_owned(),
    })
}

/// What the records of `plan` as stored now give for the read model: its summary and
/// its [`state_tags`] under `policy`.
struct Derived {
    summary: StreamSummary,
    tags: Vec<(String, String)>,
}

fn derive(
    store: &dyn Store,
    plan: &str,
    policy: &DeadlinePolicy,
) -> Result<Derived, ProjectionError> {
    let view = fold_plan(store, plan)?;
    Ok(Derived {
        summary: StreamSummary {
            stream_version: view.events().len() as u64,
            bytes: summary_bytes(view.state()),
        },
        tags: state_tags(view.state(), policy),
    })
}

/// Folds each of `plans` from its records and stores its summary and state tags (under
/// `policy`), a block at a time (a summary a writer stored meanwhile, of a later
/// version, stays). For a rebuild after a change of what they hold. `progress(done,
/// total)` hears of each block.
pub fn rebuild_summaries(
    store: &dyn Store,
    plans: &[String],
    policy: &DeadlinePolicy,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), ProjectionError> {
    let mut done = 0;
    for block in plans.chunks(BLOCK) {
        let mut pending = block.to_vec();
        // A writer that appended to a plan between its fold and the put wrote a later
        // summary (which stays) and later tags (which the put replaced): such plans are
        // derived and put again, until none moved meanwhile.
        while !pending.is_empty() {
            let derived = pending
                .par_iter()
                .map(|p| derive(store, p, policy))
                .collect::<Result<Vec<_>, _>>()?;
            let mut summaries = Vec::with_capacity(pending.len());
            let mut tags = Vec::with_capacity(pending.len() * 2);
            for (plan, d) in pending.iter().zip(derived) {
                summaries.push((plan.clone(), d.summary));
                tags.extend(d.tags.into_iter().map(|(key, value)| StreamTag {
                    stream_id: plan.clone(),
                    key,
                    value,
                }));
            }
            store.put_summaries(&summaries)?;
            store.put_tags(&tags)?;
            let now = store.summaries(&pending)?;
            pending = (summaries.into_iter().zip(now))
                .filter(|((_, put), now)| now.as_ref() != Some(put))
                .map(|((plan, _), _)| plan)
                .collect();
        }
        done += block.len() as u64;
        progress(done, plans.len() as u64);
    }
    Ok(())
}

/// The plans among `plans` whose stored summary or state tags differ from what a fold
/// of their records gives (missing, of another stream version, other bytes), by plan
/// id. A due tag written under another policy than `policy` is not compared: readers
/// under `policy` do not trust it either. `progress(done, total)` hears of each block.
pub fn check_summaries(
    store: &dyn Store,
    plans: &[String],
    policy: &DeadlinePolicy,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Vec<String>, ProjectionError> {
    let stored_tags = |key: &str| -> Result<HashMap<String, String>, ProjectionError> {
        Ok((store.tag_values(key)?.into_iter())
            .map(|(value, plan)| (plan, value))
            .collect())
    };
    let stored_state_tags: HashMap<&str, HashMap<String, String>> = [
        (TAG_DUE, stored_tags(TAG_DUE)?),
        (TAG_LATEST, stored_tags(TAG_LATEST)?),
    ]
    .into();
    let ours = format!("{}:", policy_key(policy));
    let mut differing = Vec::new();
    let mut done = 0;
    for block in plans.chunks(BLOCK) {
        let stored = store.summaries(block)?;
        let results = block
            .par_iter()
            .zip(stored)
            .map(|(p, stored)| {
                let fresh = derive(store, p, policy)?;
                let tags_agree = fresh.tags.iter().all(|(key, value)| {
                    let stored = stored_state_tags.get(key.as_str()).and_then(|s| s.get(p));
                    match stored {
                        Some(s) if key == TAG_DUE && !s.starts_with(&ours) => true,
                        Some(s) => s == value,
                        None => false,
                    }
                });
                let agree = stored.as_ref() == Some(&fresh.summary) && tags_agree;
                Ok((!agree).then(|| p.clone()))
            })
            .collect::<Result<Vec<_>, ProjectionError>>()?;
        differing.extend(results.into_iter().flatten());
        done += block.len() as u64;
        progress(done, plans.len() as u64);
    }
    Ok(differing)
}
