//! The plan index and read model: the tags the store keeps beside the records (a plan's
//! unit, act and client), so that readers find a plan without reading the ledger, and
//! each plan's summary (its state without contents), so that a report over many plans
//! reads no records. Appends keep both in step in their own transaction; [`reindex`]
//! derives them from the records again (after a copy, an upgrade, or a change of what
//! they hold), online; [`check`] compares them with the records.

use std::collections::BTreeSet;

use planledger_plan::DeadlinePolicy;
use planledger_projection::{
    MARKER_STREAM, TAG_ACT, TAG_CLIENT, TAG_UNIT, check_summaries, index_marker, index_tags,
    rebuild_summaries,
};
use planledger_store::{Store, StreamTag};

use crate::error::{Error, Kind, Result};

/// Rebuilds the index and the read model of `store` from position 0 and returns how
/// many plans it holds. Online: appends go on meanwhile, each setting its own tags and
/// summary; the records appended while the rebuild read are indexed by a second, short
/// pass, and a summary never replaces a later one. Readers are refused (with a message
/// saying a rebuild is needed) until it is done: the index's marker is written last.
/// `progress(done, total)` hears first of records read, then of plans summarised.
pub fn reindex(
    store: &dyn Store,
    policy: &DeadlinePolicy,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<usize> {
    let (tags, read_to) = index_tags(store, 0, None, progress)?;
    store.replace_tags(&tags)?;
    // Appends that committed between the read and the replacement lost their tags to
    // it: derive those again. Later appends set their own.
    let (late, _) = index_tags(store, read_to, None, &mut |_, _| {})?;
    store.put_tags(&late)?;
    let plans = plans_of(store)?;
    rebuild_summaries(store, &plans, policy, progress)?;
    store.put_tags(&[index_marker()])?;
    Ok(plans.len())
}

/// Every plan of the index, by id.
fn plans_of(store: &dyn Store) -> Result<Vec<String>> {
    let mut plans: Vec<String> = (store.tag_values(TAG_UNIT)?.into_iter())
        .map(|(_, plan)| plan)
        .collect();
    plans.sort();
    Ok(plans)
}

/// Compares the index and the read model of `store` with what its records give.
/// `Ok(None)`: they agree; otherwise what differs first (naming a plan id or the marker,
/// never a value). `progress(done, total)` hears of plans checked.
pub fn check(
    store: &dyn Store,
    policy: &DeadlinePolicy,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Option<String>> {
    // Writers go on meanwhile: compare what the records up to `size` give with the tags
    // read after it, leaving out plans opened at or after `size`.
    let size = store.head()?.size;
    let (mut derived, _) = index_tags(store, 0, Some(size), &mut |_, _| {})?;
    derived.push(index_marker());
    let derived: BTreeSet<StreamTag> = derived.into_iter().collect();
    let mut stored = BTreeSet::new();
    for key in [TAG_UNIT, TAG_ACT, TAG_CLIENT] {
        for (value, stream_id) in store.tag_values(key)? {
            let key = key.to_owned();
            stored.insert(StreamTag {
                stream_id,
                key,
                value,
            });
        }
    }
    for (key, value) in store.stream_tags(MARKER_STREAM)? {
        stored.insert(StreamTag {
            stream_id: MARKER_STREAM.to_owned(),
            key,
            value,
        });
    }
    if let Some(t) = derived.symmetric_difference(&stored).next() {
        return Ok(Some(match t.stream_id.as_str() {
            MARKER_STREAM => "the index marker".to_owned(),
            plan => format!("the index of plan {plan}"),
        }));
    }
    // The summaries, each against a fold of its plan's records. A plan a writer appended
    // to between the two reads differs for that reason alone: those are checked again.
    let differing = check_summaries(store, &plans_of(store)?, policy, progress)?;
    let differing = check_summaries(store, &differing, policy, &mut |_, _| {})?;
    Ok(differing
        .first()
        .map(|plan| format!("the read model's summary of plan {plan}")))
}

/// Marks a new, empty store's tags as an index of this build.
pub(crate) fn mark_new(store: &dyn Store) -> Result<()> {
    if store.head()?.size != 0 {
        return Err(Error::new(
            Kind::BadInput,
            "only an empty ledger is marked as indexed",
        ));
    }
    Ok(store.put_tags(&[index_marker()])?)
}
