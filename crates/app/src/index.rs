//! The plan index: the tags the store keeps beside the records (a plan's unit, act and
//! client), so that readers find a plan without reading the ledger. Appends keep it in
//! step in their own transaction; [`reindex`] derives it from the records again (after a
//! copy, an upgrade, or a change of what it holds), online; [`check`] compares it with
//! the records.

use std::collections::BTreeSet;

use planledger_projection::{
    MARKER_STREAM, TAG_ACT, TAG_CLIENT, TAG_UNIT, index_marker, index_tags,
};
use planledger_store::{Store, StreamTag};

use crate::error::{Error, Kind, Result};

/// Rebuilds the index of `store` from position 0 and returns how many plans it holds.
/// Online: appends go on meanwhile, each setting its own tags; the records appended
/// while the rebuild read are indexed by a second, short pass.
pub fn reindex(store: &dyn Store, progress: &mut dyn FnMut(u64, u64)) -> Result<usize> {
    let (mut tags, read_to) = index_tags(store, 0, None, progress)?;
    let plans = tags
        .iter()
        .map(|t| &t.stream_id)
        .collect::<BTreeSet<_>>()
        .len();
    tags.push(index_marker());
    store.replace_tags(&tags)?;
    // Appends that committed between the read and the replacement lost their tags to
    // it: derive those again. Later appends set their own.
    let (late, _) = index_tags(store, read_to, None, &mut |_, _| {})?;
    store.put_tags(&late)?;
    let late_plans = late
        .iter()
        .map(|t| &t.stream_id)
        .collect::<BTreeSet<_>>()
        .len();
    Ok(plans + late_plans)
}

/// Compares the index of `store` with what its records give. `Ok(None)`: they agree;
/// otherwise what differs first (a plan id or the marker, never a tag's value).
pub fn check(store: &dyn Store) -> Result<Option<String>> {
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
    Ok(derived
        .symmetric_difference(&stored)
        .next()
        .map(|t| match t.stream_id.as_str() {
            MARKER_STREAM => "the index marker".to_owned(),
            plan => format!("plan {plan}"),
        }))
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
