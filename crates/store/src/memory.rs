//! A store held in memory: the reference the conformance suite is first checked against,
//! and a fast store for tests of the crates above. Nothing survives the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use planledger_ledger::{Hash, NodeId, Record};

use crate::{AppendBatch, Appended, Chain, Head, Store, StoreError, StreamSummary, StreamTag};

/// A [`Store`] in memory. "Durable" here means "in this process's memory", so it is for
/// tests only; one mutex serialises every operation.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    chain: Chain,
    /// Record at position `i` is `records[i]`.
    records: Vec<Record>,
    /// Positions of each stream's records; version `v` is at index `v - 1`.
    streams: HashMap<String, Vec<u64>>,
    nodes: HashMap<NodeId, Hash>,
    /// `(stream, key) -> value`.
    tags: BTreeMap<(String, String), String>,
    summaries: BTreeMap<String, StreamSummary>,
    /// Command id -> the position of its first record.
    commands: HashMap<String, u64>,
    derived: HashMap<String, Vec<u8>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every mutation below is applied only after all its checks passed, so a
        // panicking thread cannot leave a half-applied batch behind: the data is sound.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn append(&mut self, batch: AppendBatch) -> Result<Appended, StoreError> {
        if batch.events.is_empty() {
            return Err(StoreError::EmptyBatch);
        }
        let inner = self;
        if let Some(&position) = (batch.command_id.as_ref()).and_then(|id| inner.commands.get(id)) {
            return Err(StoreError::AlreadyRecorded { position });
        }
        let current = inner.stream_version(&batch.stream_id);
        if !batch.expected.admits(current) {
            return Err(StoreError::Conflict {
                stream_id: batch.stream_id,
                expected: batch.expected,
                actual: current,
            });
        }
        let first_position = inner.chain.frontier.size();
        let (records, nodes) = inner
            .chain
            .seal_batch(&batch, current, crate::clock_micros())?;
        let stream_version = current + records.len() as u64;
        inner.push(records, nodes);
        for (key, value) in batch.tags {
            inner.tags.insert((batch.stream_id.clone(), key), value);
        }
        if let Some(bytes) = batch.summary {
            inner.put_summary(
                &batch.stream_id,
                StreamSummary {
                    stream_version,
                    bytes,
                },
            );
        }
        Ok(Appended {
            first_position,
            stream_version,
            head: inner.chain.head(),
            sealed_at_micros: inner.chain.last_sealed_micros.unwrap_or_default(),
        })
    }

    fn put_summary(&mut self, stream_id: &str, summary: StreamSummary) {
        match self.summaries.get(stream_id) {
            Some(old) if old.stream_version > summary.stream_version => {}
            _ => {
                self.summaries.insert(stream_id.to_owned(), summary);
            }
        }
    }

    fn stream_version(&self, stream_id: &str) -> u64 {
        self.streams.get(stream_id).map_or(0, |p| p.len() as u64)
    }

    fn push(&mut self, records: Vec<Record>, nodes: Vec<(NodeId, Hash)>) {
        for record in records {
            self.streams
                .entry(record.stream_id().to_owned())
                .or_default()
                .push(record.position());
            let id = &record.entry().command_id;
            if !id.is_empty() {
                self.commands.entry(id.clone()).or_insert(record.position());
            }
            self.records.push(record);
        }
        self.nodes.extend(nodes);
    }
}

impl Store for MemoryStore {
    fn append(&self, batch: AppendBatch) -> Result<Appended, StoreError> {
        self.lock().append(batch)
    }

    fn append_many(
        &self,
        batches: Vec<AppendBatch>,
    ) -> Result<Vec<crate::BatchOutcome>, StoreError> {
        // One lock for the whole group: no other append lands between its batches.
        let mut inner = self.lock();
        Ok(batches.into_iter().map(|b| inner.append(b)).collect())
    }

    fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let inner = self.lock();
        let Some(positions) = inner.streams.get(stream_id) else {
            return Ok(Vec::new());
        };
        let skip = usize::try_from(from_version.saturating_sub(1)).unwrap_or(usize::MAX);
        Ok(positions
            .iter()
            .skip(skip)
            .take(limit)
            .map(|&p| inner.records[p as usize].clone())
            .collect())
    }

    fn read_all(&self, from_position: u64, limit: usize) -> Result<Vec<Record>, StoreError> {
        let inner = self.lock();
        let skip = usize::try_from(from_position).unwrap_or(usize::MAX);
        Ok(inner
            .records
            .iter()
            .skip(skip)
            .take(limit)
            .cloned()
            .collect())
    }

    fn head(&self) -> Result<Head, StoreError> {
        Ok(self.lock().chain.head())
    }

    fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
        self.lock()
            .nodes
            .get(&id)
            .copied()
            .ok_or_else(|| StoreError::NotFound {
                what: format!("Merkle node (level {}, index {})", id.level, id.index),
            })
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        Ok(self.lock().stream_version(stream_id))
    }

    fn command_position(&self, command_id: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.lock().commands.get(command_id).copied())
    }

    fn derived(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().derived.get(name).cloned())
    }

    fn put_derived(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.lock().derived.insert(name.to_owned(), bytes.to_vec());
        Ok(())
    }

    fn append_sealed(&self, records: &[Record]) -> Result<Head, StoreError> {
        let mut inner = self.lock();
        let mut chain = inner.chain.clone();
        let nodes = chain.accept_sealed(records, |s| Ok(inner.stream_version(s)))?;
        inner.chain = chain;
        inner.push(records.to_vec(), nodes);
        Ok(inner.chain.head())
    }

    fn streams_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<String> = (inner.tags.iter())
            .filter(|((_, k), v)| k == key && *v == value)
            .map(|((s, _), _)| s.clone())
            .collect();
        out.sort();
        Ok(out)
    }

    fn streams_tagged_between(
        &self,
        key: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = self.tag_values(key)?;
        out.retain(|(v, _)| from <= v.as_str() && v.as_str() < to);
        Ok(out)
    }

    fn tag_values(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<(String, String)> = (inner.tags.iter())
            .filter(|((_, k), _)| k == key)
            .map(|((s, _), v)| (v.clone(), s.clone()))
            .collect();
        out.sort();
        Ok(out)
    }

    fn stream_tags(&self, stream_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let inner = self.lock();
        Ok((inner.tags.iter())
            .filter(|((s, _), _)| s == stream_id)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    fn put_tags(&self, tags: &[StreamTag]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for t in tags {
            inner
                .tags
                .insert((t.stream_id.clone(), t.key.clone()), t.value.clone());
        }
        Ok(())
    }

    fn replace_tags(&self, tags: &[StreamTag]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.tags = (tags.iter())
            .map(|t| ((t.stream_id.clone(), t.key.clone()), t.value.clone()))
            .collect();
        Ok(())
    }

    fn summaries(&self, stream_ids: &[String]) -> Result<Vec<Option<StreamSummary>>, StoreError> {
        let inner = self.lock();
        Ok(stream_ids
            .iter()
            .map(|s| inner.summaries.get(s).cloned())
            .collect())
    }

    fn summaries_after(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, StreamSummary)>, StoreError> {
        use std::ops::Bound;
        let inner = self.lock();
        Ok((inner.summaries)
            .range::<str, _>((Bound::Excluded(after), Bound::Unbounded))
            .take(limit)
            .map(|(s, v)| (s.clone(), v.clone()))
            .collect())
    }

    fn put_summaries(&self, summaries: &[(String, StreamSummary)]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for (stream, summary) in summaries {
            inner.put_summary(stream, summary.clone());
        }
        Ok(())
    }

    fn forget_streams(&self, stream_ids: &[String]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for s in stream_ids {
            inner.tags.retain(|(stream, _), _| stream != s);
            inner.summaries.remove(s);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryStore;
    use crate::conformance as c;

    crate::conformance_tests!(MemoryStore::new);

    /// `run_all` covers every check listed in `CHECKS` plus the copy.
    #[test]
    fn run_all_passes() {
        c::run_all(MemoryStore::new);
    }
}
