//! The sealing step every backend shares: turning a checked batch into chained records
//! and Merkle nodes, given the ledger's current end.

use std::collections::HashMap;

use planledger_ledger::{Entry, Frontier, Hash, NodeId, Record, seal};

use crate::{AppendBatch, Head, StoreError};

/// Merkle nodes completed by appended records, as [`Frontier::push`] reports them.
pub type NodeHashes = Vec<(NodeId, Hash)>;

/// The end of a ledger as a writer needs it: the last record hash and the Merkle
/// frontier. Backends keep one under their write lock and persist its parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chain {
    pub last_hash: Hash,
    pub frontier: Frontier,
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
    /// `current_version + 1`. Returns the records and the Merkle nodes they complete,
    /// and advances `self`. The caller has already checked the expected version; on
    /// error `self` is unchanged.
    pub fn seal_batch(
        &mut self,
        batch: &AppendBatch,
        current_version: u64,
    ) -> Result<(Vec<Record>, NodeHashes), StoreError> {
        if batch.events.is_empty() {
            return Err(StoreError::EmptyBatch);
        }
        let mut next = self.clone();
        let mut records = Vec::with_capacity(batch.events.len());
        let mut nodes = Vec::with_capacity(batch.events.len() * 2);
        for (i, ev) in batch.events.iter().enumerate() {
            let entry = Entry {
                stream_id: batch.stream_id.clone(),
                stream_version: current_version + 1 + i as u64,
                recorded_at_micros: batch.recorded_at_micros,
                actor: batch.actor.clone(),
                event_type: ev.event_type.clone(),
                schema_version: ev.schema_version,
                envelope: ev.envelope.clone(),
                payload: ev.payload.clone(),
            };
            let record = seal(next.frontier.size(), next.last_hash, &entry)?;
            next.last_hash = record.hash();
            next.frontier
                .push(next.last_hash, |id, h| nodes.push((id, h)));
            records.push(record);
        }
        *self = next;
        Ok((records, nodes))
    }

    /// Accepts `records` sealed elsewhere as the next records of the ledger: each must
    /// sit at the next position, name the last hash as its predecessor, and carry its
    /// stream's next version. `stream_version` gives a stream's version before this
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
            versions.insert(record.stream_id(), record.stream_version());
            next.last_hash = record.hash();
            next.frontier
                .push(next.last_hash, |id, h| nodes.push((id, h)));
        }
        *self = next;
        Ok(nodes)
    }
}
