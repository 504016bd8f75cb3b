//! The read model: for each plan, its state without contents or free text
//! ([`PlanState::without_contents`]), kept by the store beside the records as the
//! stream's summary ([`planledger_store::StreamSummary`], JSON). Written in the
//! transaction of every append (the application's `batch_of`), so it is never behind
//! the records; rebuilt from them by [`rebuild_summaries`]; compared with a fold of the
//! records by `verify`. Reports over many plans read it instead of the records.

use planledger_plan::{PlanId, PlanState};
use planledger_store::{Store, StreamSummary};
use rayon::prelude::*;

use crate::error::ProjectionError;
use crate::projection::fold_stream;

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

/// The summary of `plan` folded from its records as stored now.
fn folded(store: &dyn Store, plan: &str) -> Result<(String, StreamSummary), ProjectionError> {
    let id = PlanId::new(plan).map_err(|source| ProjectionError::StreamId {
        position: 0,
        source,
    })?;
    let view = fold_stream(store, &id)?;
    Ok((
        plan.to_owned(),
        StreamSummary {
            stream_version: view.events().len() as u64,
            bytes: summary_bytes(view.state()),
        },
    ))
}

/// Folds each of `plans` from its records and stores its summary, a block at a time
/// (a summary a writer stored meanwhile, of a later version, stays). For a rebuild
/// after a change of what summaries hold. `progress(done, total)` hears of each block.
pub fn rebuild_summaries(
    store: &dyn Store,
    plans: &[String],
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), ProjectionError> {
    let mut done = 0;
    for block in plans.chunks(BLOCK) {
        let summaries = block
            .par_iter()
            .map(|p| folded(store, p))
            .collect::<Result<Vec<_>, _>>()?;
        store.put_summaries(&summaries)?;
        done += block.len() as u64;
        progress(done, plans.len() as u64);
    }
    Ok(())
}

/// The plans among `plans` whose stored summary differs from a fold of their records
/// (missing, of another stream version, or other bytes), by plan id. `progress(done,
/// total)` hears of each block.
pub fn check_summaries(
    store: &dyn Store,
    plans: &[String],
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Vec<String>, ProjectionError> {
    let mut differing = Vec::new();
    let mut done = 0;
    for block in plans.chunks(BLOCK * 4) {
        let stored = store.summaries(block)?;
        let results = block
            .par_iter()
            .zip(stored)
            .map(|(p, stored)| {
                let (_, fresh) = folded(store, p)?;
                Ok((stored.as_ref() != Some(&fresh)).then(|| p.clone()))
            })
            .collect::<Result<Vec<_>, ProjectionError>>()?;
        differing.extend(results.into_iter().flatten());
        done += block.len() as u64;
        progress(done, plans.len() as u64);
    }
    Ok(differing)
}
