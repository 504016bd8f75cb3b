//! The sealing step every backend shares: turning a checked batch into chained records
//! and Merkle nodes, given the ledger's current end.

use std::collections::HashMap;

use planledger_ledger::{Entry, Frontier, Hash, NodeId, Record, seal};

use crate::{AppendBatch, Head, StoreError};

/// Merkle nodes completed by appended records, as [`Frontier::push`] reports them.
pub type NodeHashes = Vec<(NodeId, Hash)>;

/// The end of a ledger as a writer needs it: the last record hash, the Merkle frontier
/// and the last sealing time. Backends keep one under their write lock and persist its
/// parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chain {
    pub last_hash: Hash,
    pub frontier: Frontier,
    /// The sealing time of the last record (UTC µs); `None` while the ledger holds no
    /// record of a layout with one (an empty ledger, or one of layout-1 records only).
    pub last_sealed_micros: Option<i64>,
}

/// The store's clock now, in UTC µs: what an embedded store seals with.
pub fn clock_micros() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    // A clock before 1970 seals at 0: the chain then carries on from its last time.
    since.map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

impl Chain {
    pub fn head(&self) -> Head {
        Head {
            size: self.frontier.size(),
            last_hash: self.last_hash,
            root: self.frontier.root(),
        }
    }

    /// Seals `batch` as the next records of the ledger, the first at stream version
    /// `current_version + 1`, at `clock_micros` by the store's clock, or at the last
    /// record's sealing time if the clock reads earlier (sealing times never go back).
    /// Returns the records and the Merkle nodes they complete, and advances `self`. The
    /// caller has already checked the expected version; on error `self` is unchanged.
    pub fn seal_batch(
        &mut self,
        batch: &AppendBatch,
        current_version: u64,
        clock_micros: i64,
    ) -> Result<(Vec<Record>, NodeHashes), StoreError> {
        if batch.events.is_empty() {
            return Err(StoreError::EmptyBatch);
        }
        let sealed_at = self
            .last_sealed_micros
            .map_or(clock_micros, |t| t.max(clock_micros));
        let mut next = self.clone();
        next.last_sealed_micros = Some(sealed_at);
        let mut records = Vec::with_capacity(batch.events.len());
        let mut nodes = Vec::with_capacity(batch.events.len() * 2);
        for (i, ev) in batch.events.iter().enumerate() {
            let entry = Entry {
                stream_id: batch.stream_id.clone(),
                stream_version: current_version + 1 + i as u64,
                claimed_at_micros: batch.claimed_at_micros,
                command_id: batch.command_id.clone().unwrap_or_default(),
                actor: batch.actor.clone(),
                event_type: ev.event_type.clone(),
                schema_version: ev.schema_version,
                envelope: ev.envelope.clone(),
                payload: ev.payload.clone(),
            };
            let record = seal(next.frontier.size(), next.last_hash, sealed_at, &entry)?;
            next.last_hash = record.hash();
            next.frontier
                .push(next.last_hash, |id, h| nodes.push((id, h)));
            records.push(record);
        }
        *self = next;
        Ok((records, nodes))
    }

    /// Accepts `records` sealed elsewhere as the next records of the ledger: each must
    /// sit at the next position, name the last hash as its predecessor, carry its
    /// stream's next version, and be of no earlier layout nor sealed earlier than its
    /// predecessor. `stream_version` gives a stream's version before this
    /// call (the chain does not know streams); versions within `records` are tracked
    /// here. Returns the Merkle nodes the records complete and advances `self`; on
    /// error `self` is unchanged and the error names the first record that does not fit.
    pub fn accept_sealed(
        &mut self,
        records: &[Record],
        mut stream_version: impl FnMut(&str) -> Result<u64, StoreError>,
    ) -> Result<NodeHashes, StoreError> {
        let mut next = self.clone();
        let mut versions: HashMap<&str, u64> = HashMap::new();
        let mut nodes = Vec::with_capacity(records.len() * 2);
        for record in records {
            let position = record.position();
            let unfit = |reason: String| StoreError::NotContinuing { position, reason };
            if position != next.frontier.size() {
                return Err(unfit(format!(
                    "the next position is {}",
                    next.frontier.size()
                )));
            }
            if record.prev_hash() != next.last_hash {
                return Err(unfit(format!(
                    "its predecessor hash is {}, but the last record's hash is {}",
                    record.prev_hash(),
                    next.last_hash
                )));
            }
            let current = match versions.get(record.stream_id()) {
                Some(v) => *v,
                None => stream_version(record.stream_id())?,
            };
            if record.stream_version() != current + 1 {
                return Err(unfit(format!(
                    "its stream version is {}, but the stream's next version is {}",
                    record.stream_version(),
                    current + 1
                )));
            }
            match (next.last_sealed_micros, record.sealed_at_micros()) {
                (Some(_), None) => {
                    return Err(unfit(
                        "it is of layout 1, after a record of a later layout".into(),
                    ));
                }
                (Some(before), Some(sealed)) if sealed < before => {
                    return Err(unfit(format!(
                        "it was sealed at {sealed} µs, before the last record ({before} µs)"
                    )));
                }
                (_, sealed) => next.last_sealed_micros = sealed.or(next.last_sealed_micros),
            }
            versions.insert(record.stream_id(), record.stream_version());
            next.last_hash = record.hash();
            next.frontier
                .push(next.last_hash, |id, h| nodes.push((id, h)));
        }
        *self = next;
        Ok(nodes)
    }
}
