//! Moving a ledger between backends (`planledger copy`): embedded redb to PostgreSQL
//! when an organisation outgrows one machine, and back again.
//!
//! The records travel as sealed bytes ([`Store::append_sealed`]), never re-sealed: the
//! copy has the same record hashes, Merkle nodes and head as the original, so
//! checkpoints signed over the original still verify against the copy.

use crate::{Head, Store, StoreError};

/// Records per read and per `append_sealed` transaction (about 20 MB of records): few
/// commits, each touching every page of the indexes once rather than once per small
/// chunk (4,096 made redb's copy rewrite the same index pages 16 times as often).
const CHUNK: usize = 65_536;

/// Copies every record of `from` into the empty store `to`, in chunks, and checks at
/// the end that both heads are identical. `progress(copied, total)` is called after each
/// chunk.
///
/// The copy covers the source as it was when the copy began (its head then); records
/// appended to the source meanwhile are not copied. The target checks that each record
/// continues its chain (position, predecessor hash, stream version), so a source record
/// altered in place stops the copy with [`StoreError::NotContinuing`] at the record after
/// it; a source whose head disagrees with its records is [`StoreError::Corrupt`]. A
/// target that already holds records is refused before anything is written.
pub fn copy_ledger(
    from: &dyn Store,
    to: &dyn Store,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Head, StoreError> {
    let target = to.head()?;
    if target.size != 0 {
        return Err(StoreError::NotContinuing {
            position: 0,
            reason: format!(
                "the target already holds {} records; copy into an empty store",
                target.size
            ),
        });
    }
    let source = from.head()?;
    let mut copied = 0u64;
    progress(copied, source.size);
    while copied < source.size {
        let want = usize::try_from(source.size - copied)
            .unwrap_or(usize::MAX)
            .min(CHUNK);
        let records = from.read_all(copied, want)?;
        if records.is_empty() {
            return Err(StoreError::Corrupt {
                position: copied,
                reason: format!(
                    "the source's head claims {} records, but they end here",
                    source.size
                ),
            });
        }
        to.append_sealed(&records)?;
        copied += records.len() as u64;
        progress(copied, source.size);
    }
    let copy = to.head()?;
    if copy != source {
        return Err(StoreError::Corrupt {
            position: source.size.saturating_sub(1),
            reason: format!(
                "the copy's head (size {}, root {}) differs from the source's stored head \
                 (size {}, root {}); verify the source",
                copy.size, copy.root, source.size, source.root
            ),
        });
    }
    Ok(copy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{assert_chain_valid, batch};
    use crate::{AppendBatch, Appended, ExpectedVersion, MemoryStore};
    use planledger_ledger::{Hash, NodeId, Record};

    fn filled(appends: usize) -> MemoryStore {
        let store = MemoryStore::new();
        for i in 0..appends {
            store
                .append(batch(
                    &format!("plan-{}", i % 7),
                    ExpectedVersion::Any,
                    1 + i % 5,
                ))
                .unwrap();
        }
        store
    }

    #[test]
    fn a_copy_has_identical_records_and_head_and_reports_progress() {
        // More than one chunk, and not a multiple of it.
        let from = filled(22_000);
        let size = from.head().unwrap().size;
        assert!(size > CHUNK as u64 && size % CHUNK as u64 != 0);
        let to = MemoryStore::new();
        let mut seen = Vec::new();
        let head = copy_ledger(&from, &to, &mut |done, total| seen.push((done, total))).unwrap();
        assert_eq!(head, from.head().unwrap());
        assert_eq!(
            assert_chain_valid(&to)
                .iter()
                .map(Record::hash)
                .collect::<Vec<_>>(),
            assert_chain_valid(&from)
                .iter()
                .map(Record::hash)
                .collect::<Vec<_>>()
        );
        assert_eq!(seen.first(), Some(&(0, size)));
        assert_eq!(seen.last(), Some(&(size, size)));
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn an_empty_ledger_copies_to_an_empty_ledger() {
        let to = MemoryStore::new();
        let head = copy_ledger(&MemoryStore::new(), &to, &mut |_, _| {}).unwrap();
        assert_eq!(head, to.head().unwrap());
        assert_eq!(head.size, 0);
    }

    #[test]
    fn a_target_with_records_is_refused_untouched() {
        let from = filled(3);
        let to = filled(1);
        let before = to.head().unwrap();
        assert!(matches!(
            copy_ledger(&from, &to, &mut |_, _| {}),
            Err(StoreError::NotContinuing { position: 0, .. })
        ));
        assert_eq!(to.head().unwrap(), before);
    }

    /// A store whose head lies about its root (as a tampered head row would).
    struct LyingHead(MemoryStore);

    impl Store for LyingHead {
        fn append(&self, batch: AppendBatch) -> Result<Appended, StoreError> {
            self.0.append(batch)
        }
        fn read_stream(&self, s: &str, v: u64, n: usize) -> Result<Vec<Record>, StoreError> {
            self.0.read_stream(s, v, n)
        }
        fn read_all(&self, p: u64, n: usize) -> Result<Vec<Record>, StoreError> {
            self.0.read_all(p, n)
        }
        fn head(&self) -> Result<Head, StoreError> {
            let mut h = self.0.head()?;
            h.root = Hash([7; 32]);
            Ok(h)
        }
        fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
            self.0.node(id)
        }
        fn stream_version(&self, s: &str) -> Result<u64, StoreError> {
            self.0.stream_version(s)
        }
        fn command_position(&self, id: &str) -> Result<Option<u64>, StoreError> {
            self.0.command_position(id)
        }
        fn derived(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.derived(name)
        }
        fn put_derived(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
            self.0.put_derived(name, bytes)
        }
        fn append_sealed(&self, records: &[Record]) -> Result<Head, StoreError> {
            self.0.append_sealed(records)
        }
        fn append_many(
            &self,
            batches: Vec<crate::AppendBatch>,
        ) -> Result<Vec<crate::BatchOutcome>, StoreError> {
            self.0.append_many(batches)
        }
        fn streams_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, StoreError> {
            self.0.streams_tagged(key, value)
        }
        fn tag_values(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
            self.0.tag_values(key)
        }
        fn stream_tags(&self, stream: &str) -> Result<Vec<(String, String)>, StoreError> {
            self.0.stream_tags(stream)
        }
        fn put_tags(&self, tags: &[crate::StreamTag]) -> Result<(), StoreError> {
            self.0.put_tags(tags)
        }
        fn replace_tags(&self, tags: &[crate::StreamTag]) -> Result<(), StoreError> {
            self.0.replace_tags(tags)
        }

        fn streams_tagged_between(
            &self,
            key: &str,
            from: &str,
            to: &str,
        ) -> Result<Vec<(String, String)>, StoreError> {
            self.0.streams_tagged_between(key, from, to)
        }

        fn summaries(
            &self,
            ids: &[String],
        ) -> Result<Vec<Option<crate::StreamSummary>>, StoreError> {
            self.0.summaries(ids)
        }

        fn summaries_after(
            &self,
            after: &str,
            limit: usize,
        ) -> Result<Vec<(String, crate::StreamSummary)>, StoreError> {
            self.0.summaries_after(after, limit)
        }

        fn put_summaries(
            &self,
            summaries: &[(String, crate::StreamSummary)],
        ) -> Result<(), StoreError> {
            self.0.put_summaries(summaries)
        }

        fn forget_streams(&self, stream_ids: &[String]) -> Result<(), StoreError> {
            self.0.forget_streams(stream_ids)
        }
    }

    #[test]
    fn a_source_whose_head_disagrees_with_its_records_fails_the_copy() {
        let from = LyingHead(filled(10));
        let to = MemoryStore::new();
        assert!(matches!(
            copy_ledger(&from, &to, &mut |_, _| {}),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
