//! Whole-store verification (`planledger verify`) and Merkle proofs from a store.
//!
//! [`verify_store`] streams every record through the ledger's [`Verifier`] in chunks, so
//! memory stays flat however long the ledger is, checks the tree roots of the given
//! checkpoints on the way, and at the end checks the store's own head (size, last hash,
//! root) against what it recomputed. A damaged record is not an error of this function
//! but its finding: the report names the first position that is wrong and why.

use planledger_ledger::{
    ClaimedEnd, Hash, NodeId, NodeSource, TreeHead, Verifier, Violation, ViolationKind,
};

use crate::{Head, Store, StoreError};

/// Records read per chunk: about 4 MB of ~500-byte records, enough for the parallel
/// hashing to keep every core busy, small enough to keep memory flat.
const CHUNK: usize = 8192;

/// The outcome of [`verify_store`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records read and checked (up to the violation, if there is one).
    pub records: u64,
    /// Stored bytes hashed.
    pub bytes: u64,
    /// Hash of the last record checked.
    pub last_hash: Hash,
    /// Merkle root recomputed over the records checked.
    pub root: Hash,
    /// The first thing found wrong; `None` means the store verified.
    pub violation: Option<Violation>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.violation.is_none()
    }

    /// A one-line account for people (no record content, so no personal data).
    pub fn message(&self) -> String {
        match &self.violation {
            None => format!(
                "verified {} records ({} bytes); last hash {}, root {}",
                self.records, self.bytes, self.last_hash, self.root
            ),
            Some(v) => format!("verification failed at {v}"),
        }
    }
}

/// Verifies every record of `store` from position 0 up to the head read at the start,
/// checking the roots of `checkpoints` (tree heads from checkpoints whose signatures the
/// caller has verified) and finally the head itself. `progress(done, total)` is called
/// after each chunk.
///
/// Returns `Err` only when the store cannot be read; what is wrong with the ledger is in
/// [`VerifyReport::violation`]. A record a backend reports as corrupt
/// ([`StoreError::Corrupt`]) is a violation at its position.
pub fn verify_store(
    store: &dyn Store,
    checkpoints: &[TreeHead],
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    let mut verifier = Verifier::new();
    for cp in checkpoints {
        verifier
            .expect_root(*cp)
            .expect("a verifier from position 0 with a frontier checks any size");
    }
    verify_store_from(store, verifier, progress)
}

/// [`verify_store`] from where `verifier` stands (e.g. [`Verifier::with_frontier`] at
/// a checkpoint whose tree the caller has checked) to the store's head, which it checks
/// at the end. `progress(done, total)` gets positions in the whole ledger.
pub fn verify_store_from(
    store: &dyn Store,
    verifier: Verifier,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    let head = store.head()?;
    verify_records(
        head,
        verifier,
        &mut |from, limit| store.read_all_bytes(from, limit),
        progress,
    )
}

/// [`verify_store`] over a head and a `read_all_bytes`, so tests can damage what is read
/// without implementing the whole [`Store`] trait.
fn verify_records(
    head: Head,
    mut verifier: Verifier,
    read_all: &mut dyn FnMut(u64, usize) -> Result<Vec<Vec<u8>>, StoreError>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    let report = |v: &Verifier, violation: Option<Violation>| {
        let s = v.snapshot();
        VerifyReport {
            records: s.end - s.start,
            bytes: s.bytes,
            last_hash: s.last_hash,
            root: s.root.unwrap_or(head.root),
            violation,
        }
    };
    progress(0, head.size);
    while verifier.position() < head.size {
        let from = verifier.position();
        let want = usize::try_from(head.size - from)
            .unwrap_or(usize::MAX)
            .min(CHUNK);
        let records = match read_all(from, want) {
            Ok(r) => r,
            Err(StoreError::Corrupt { position, reason }) => {
                let v = Violation {
                    position,
                    kind: ViolationKind::Unreadable { reason },
                };
                return Ok(report(&verifier, Some(v)));
            }
            Err(e) => return Err(e),
        };
        if records.is_empty() {
            // Fewer records than the head claims: `finish` reports where they stop.
            break;
        }
        if let Err(v) = verifier.feed(&records) {
            return Ok(report(&verifier, Some(v)));
        }
        progress(verifier.position(), head.size);
    }
    let end = ClaimedEnd {
        size: head.size,
        last_hash: head.last_hash,
        root: head.root,
    };
    let snapshot = report(&verifier, None);
    Ok(match verifier.finish(Some(end)) {
        Ok(_) => snapshot,
        Err(v) => VerifyReport {
            violation: Some(v),
            ..snapshot
        },
    })
}

/// A store as a source of Merkle nodes, for inclusion and consistency proofs:
/// `inclusion_proof(&StoreNodes(store), index, size)`.
#[derive(Clone, Copy)]
pub struct StoreNodes<'a>(pub &'a dyn Store);

impl NodeSource for StoreNodes<'_> {
    type Error = StoreError;
    fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
        self.0.node(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::batch;
    use crate::{ExpectedVersion, MemoryStore};
    use planledger_ledger::{Record, consistency_proof, inclusion_proof};

    fn filled(n: usize) -> MemoryStore {
        let s = MemoryStore::new();
        for i in 0..n {
            s.append(batch(&format!("plan-{i}"), ExpectedVersion::NoStream, 3))
                .unwrap();
        }
        s
    }

    /// Verifies `store` as `verify_store` does, but with the record at `position`
    /// damaged on the way: one bit of byte `byte` flipped and decoded again as a backend
    /// would (reported corrupt if it no longer decodes), or, with `byte` `None`, left out.
    fn verify_tampered(store: &MemoryStore, position: u64, byte: Option<usize>) -> VerifyReport {
        let mut read = |from: u64, limit: usize| -> Result<Vec<Vec<u8>>, StoreError> {
            store
                .read_all(from, limit)?
                .into_iter()
                .filter(|r| byte.is_some() || r.position() != position)
                .map(|r| {
                    let Some(byte) = byte.filter(|_| r.position() == position) else {
                        return Ok(r);
                    };
                    let mut b = r.into_bytes();
                    b[byte] ^= 0x04;
                    Record::decode(b).map_err(|e| StoreError::Corrupt {
                        position,
                        reason: e.to_string(),
                    })
                })
                .map(|r| r.map(Record::into_bytes))
                .collect()
        };
        let head = store.head().unwrap();
        verify_records(head, Verifier::new(), &mut read, &mut |_, _| {}).unwrap()
    }

    #[test]
    fn intact_store_verifies_against_its_head_and_checkpoints() {
        let s = filled(10);
        let head = s.head().unwrap();
        let mut calls = Vec::new();
        let cps = [
            TreeHead {
                size: 0,
                root: planledger_ledger::empty_root(),
            },
            TreeHead {
                size: head.size,
                root: head.root,
            },
        ];
        let r = verify_store(&s, &cps, &mut |d, t| calls.push((d, t))).unwrap();
        assert!(r.is_ok(), "{}", r.message());
        assert_eq!(r.records, 30);
        assert_eq!((r.last_hash, r.root), (head.last_hash, head.root));
        assert_eq!(calls.first(), Some(&(0, 30)));
        assert_eq!(calls.last(), Some(&(30, 30)));
    }

    #[test]
    fn flipped_payload_byte_is_reported_at_its_record() {
        let store = filled(5);
        let len = store.read_all(7, 1).unwrap()[0].bytes().len();
        let r = verify_tampered(&store, 7, Some(len - 1));
        let v = r.violation.expect("tampering is found");
        assert_eq!(v.position, 7, "{v}");
    }

    #[test]
    fn undecodable_record_is_a_violation_not_an_error() {
        let r = verify_tampered(&filled(5), 4, Some(0));
        let v = r.violation.expect("tampering is found");
        assert_eq!(v.position, 4);
        assert!(matches!(v.kind, ViolationKind::Unreadable { .. }));
    }

    #[test]
    fn missing_record_is_reported_at_its_position() {
        let r = verify_tampered(&filled(5), 9, None);
        let v = r.violation.expect("the gap is found");
        assert_eq!(v.position, 9, "{v}");
        assert!(matches!(
            v.kind,
            ViolationKind::WrongPosition {
                expected: 9,
                found: 10
            }
        ));
        assert_eq!(r.records, 9);
    }

    #[test]
    fn checkpoint_of_another_tree_fails_verification() {
        let s = filled(4);
        let cp = TreeHead {
            size: 5,
            root: Hash([1; 32]),
        };
        let r = verify_store(&s, &[cp], &mut |_, _| {}).unwrap();
        let v = r.violation.unwrap();
        assert_eq!(v.position, 4);
        assert!(matches!(
            v.kind,
            ViolationKind::RootMismatch { size: 5, .. }
        ));
    }

    #[test]
    fn proofs_from_store_nodes_verify_against_the_head() {
        let s = filled(7);
        let head = s.head().unwrap();
        let nodes = StoreNodes(&s);
        let records = s.read_all(0, 100).unwrap();
        for r in &records {
            let p = inclusion_proof(&nodes, r.position(), head.size).unwrap();
            p.verify(&r.hash(), &head.root).unwrap();
        }
        let old = planledger_ledger::tree_root(&nodes, 9).unwrap();
        consistency_proof(&nodes, 9, head.size)
            .unwrap()
            .verify(&old, &head.root)
            .unwrap();
    }
}
