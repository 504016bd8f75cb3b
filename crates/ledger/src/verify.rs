//! Verification of a range of stored records: the first position where anything is
//! wrong, and what.
//!
//! [`Verifier`] is fed the stored bytes in chunks, so a ledger of any length needs no
//! more memory than one chunk. Within a chunk every record is parsed and hashed in
//! parallel, 16 records at a time in SIMD lanes (`lanes`) and on every core (rayon): a
//! record's hash and Merkle leaf do not depend on any other record, only its *check*
//! does, because each record stores its predecessor's hash. A cheap sequential pass then
//! checks positions and links, and the Merkle frontier grows by runs of records, each
//! level of their subtrees hashed in lanes too.
//!
//! ## Where a broken link is reported
//!
//! When record `j` stores a `prev_hash` that is not the hash of record `j - 1`, either
//! record `j - 1` was altered or record `j`'s `prev_hash` was. The verifier decides with
//! a witness for record `j`'s own hash: the `prev_hash` stored in record `j + 1`, the
//! last hash of a claimed head, or a checkpoint root at size `j + 1`. If the witness
//! confirms record `j`, record `j - 1` is reported; if it contradicts record `j`, record
//! `j` is reported (the single alteration that explains both broken links). Without a
//! witness, the earlier of the two, `j - 1`, is reported as possibly altered. A record
//! whose predecessor hash was given by the caller (the first one verified) is trusted to
//! follow it, so a mismatch there is reported at that record.

use std::collections::BTreeMap;
use std::fmt;

use rayon::prelude::*;

use crate::merkle::{LANE_TASK, leaf_hashes_of};
use crate::record::{View, hash_records};
use crate::{FormatError, Frontier, Hash, TreeHead};

/// The first thing wrong in a range of records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("position {position}: {kind}")]
pub struct Violation {
    /// The position of the first record found wrong (see [`ViolationKind`] for what
    /// position each kind names).
    pub position: u64,
    pub kind: ViolationKind,
}

/// What confirmed a record's hash against which a broken link was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Witness {
    /// The next record's `prev_hash`, and that record is itself confirmed intact.
    NextRecordConfirmed,
    /// The next record's `prev_hash`, with nothing to confirm the next record: either
    /// this record or the next one's `prev_hash` was altered.
    NextRecordUnconfirmed,
    /// The last hash of the head the store claims.
    Head,
}

impl fmt::Display for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Witness::NextRecordConfirmed => "the next record, which is intact, stores",
            Witness::NextRecordUnconfirmed => {
                "the next record stores (either this record or that prev_hash was altered)"
            }
            Witness::Head => "the ledger head records",
        })
    }
}

/// Kinds of violation. The position reported is the record at fault unless said otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ViolationKind {
    #[error("the stored bytes are not a record: {0}")]
    Undecodable(FormatError),
    #[error("the record could not be read: {reason}")]
    Unreadable { reason: String },
    /// Reported at the position that was expected.
    #[error("expected the record at this position, found the record of position {found} ({})",
        if .found > .expected { "records are missing" } else { "a record is repeated or out of order" })]
    WrongPosition { expected: u64, found: u64 },
    #[error("the record's prev_hash is {stored}, but the previous record hashes to {expected}")]
    PrevHashMismatch { stored: Hash, expected: Hash },
    #[error("the record hashes to {computed}, but {witness} {attested}")]
    HashMismatch {
        computed: Hash,
        attested: Hash,
        witness: Witness,
    },
    /// Reported at position `size - 1`: the earliest altered record may be anywhere
    /// before it that the range covers.
    #[error(
        "the tree of the first {size} records has root {computed}, but the {by} says {expected}"
    )]
    RootMismatch {
        size: u64,
        expected: Hash,
        computed: Hash,
        by: RootSource,
    },
    /// Reported at the end of the records: a tree head covers more than there are.
    #[error("the records end here, but the {by} covers {size} records")]
    MissingRecords { size: u64, by: RootSource },
    /// Reported at the claimed size: records follow the end the head claims.
    #[error("the ledger head claims {claimed} records, but more follow")]
    ExtraRecords { claimed: u64 },
    /// The store's clock seals records in chain order, so a record sealed earlier than
    /// its predecessor was not sealed by it (or its time was rewritten).
    #[error(
        "the record was sealed at {sealed} µs, before its predecessor ({predecessor} µs); sealing times never go backwards"
    )]
    SealedBeforePredecessor { sealed: i64, predecessor: i64 },
    /// Writers only ever move to a later layout.
    #[error("the record is of layout {layout}, after a record of layout {predecessor}")]
    LayoutGoesBack { layout: u16, predecessor: u16 },
}

/// Where an expected root or size came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootSource {
    Checkpoint,
    Head,
}

impl fmt::Display for RootSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RootSource::Checkpoint => "checkpoint",
            RootSource::Head => "ledger head",
        })
    }
}

/// A tree head that cannot be checked by this verifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UncheckableHead {
    #[error("a root check at size {size} needs the Merkle frontier at the start of the range")]
    NoFrontier { size: u64 },
    #[error("size {size} lies before the verified range, which starts at {start}")]
    BeforeRange { size: u64, start: u64 },
}

/// What the store claims as its end, checked by [`Verifier::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimedEnd {
    pub size: u64,
    pub last_hash: Hash,
    pub root: Hash,
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// First position verified.
    pub start: u64,
    /// One past the last position verified (the tree size at the end).
    pub end: u64,
    /// Stored bytes hashed.
    pub bytes: u64,
    /// Hash of the last record (or the given `prev_hash` if no records were fed).
    pub last_hash: Hash,
    /// Merkle root over records `0 .. end`, if the verifier had the frontier.
    pub root: Option<Hash>,
}

/// What the sequential pass checks of a record's header: its position, the predecessor
/// hash it stores, and its seal.
#[derive(Debug, Clone, Copy)]
struct Link {
    position: u64,
    prev_hash: Hash,
    seal: Seal,
}

impl Link {
    fn parse(bytes: &[u8]) -> Result<Link, FormatError> {
        View::parse(bytes).map(|v| Link {
            position: v.position,
            prev_hash: v.prev_hash,
            seal: Seal {
                layout: v.format_version,
                sealed_at_micros: v.sealed_at_micros,
            },
        })
    }
}

/// A record's layout version and sealing time (none in layout 1): what orders it after
/// its predecessor in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seal {
    pub layout: u16,
    pub sealed_at_micros: Option<i64>,
}

impl Seal {
    /// The seal of stored record bytes; `None` when they are not a record.
    pub fn of(bytes: &[u8]) -> Option<Seal> {
        View::parse(bytes).ok().map(|v| Seal {
            layout: v.format_version,
            sealed_at_micros: v.sealed_at_micros,
        })
    }

    /// Why `self` cannot follow `before` in a chain, if it cannot.
    fn check_after(self, before: Seal) -> Option<ViolationKind> {
        if self.layout < before.layout {
            return Some(ViolationKind::LayoutGoesBack {
                layout: self.layout,
                predecessor: before.layout,
            });
        }
        match (before.sealed_at_micros, self.sealed_at_micros) {
            (Some(predecessor), Some(sealed)) if sealed < predecessor => {
                Some(ViolationKind::SealedBeforePredecessor {
                    sealed,
                    predecessor,
                })
            }
            _ => None,
        }
    }
}

/// A broken link into record `at`, waiting for a witness of record `at`'s own hash.
#[derive(Debug, Clone, Copy)]
struct Pending {
    at: u64,
    /// Record `at`'s stored `prev_hash`.
    stored_prev: Hash,
    /// The computed hash of record `at - 1`.
    computed_prev: Hash,
}

impl Pending {
    /// `confirmed`: whether a witness confirms record `at`'s hash (None: no witness).
    fn resolve(self, confirmed: Option<bool>) -> Violation {
        match confirmed {
            Some(false) => Violation {
                position: self.at,
                kind: ViolationKind::PrevHashMismatch {
                    stored: self.stored_prev,
                    expected: self.computed_prev,
                },
            },
            Some(true) | None => Violation {
                position: self.at - 1,
                kind: ViolationKind::HashMismatch {
                    computed: self.computed_prev,
                    attested: self.stored_prev,
                    witness: if confirmed.is_some() {
                        Witness::NextRecordConfirmed
                    } else {
                        Witness::NextRecordUnconfirmed
                    },
                },
            },
        }
    }
}

/// A streaming verifier of consecutive records. See the module documentation.
#[derive(Debug, Clone)]
pub struct Verifier {
    start: u64,
    next: u64,
    prev: Hash,
    frontier: Option<Frontier>,
    /// Expected roots at sizes not reached yet.
    roots: BTreeMap<u64, Vec<Hash>>,
    pending: Option<Pending>,
    /// The seal of the last record checked (or given), which the next must not precede.
    last_seal: Option<Seal>,
    bytes: u64,
    failed: Option<Violation>,
    /// The record hashes and Merkle leaves of the chunk being fed, kept from chunk to
    /// chunk so that feeding allocates nothing for them.
    hashes: Vec<Hash>,
    leaves: Vec<Hash>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

impl Verifier {
    /// Verifies a ledger from its first record (position 0, prev hash zero), keeping
    /// the Merkle frontier so roots can be checked.
    pub fn new() -> Verifier {
        Verifier::with_frontier(Frontier::new(), Hash::ZERO)
    }

    /// Verifies from `position`, where the record before it hashes to `prev_hash`. No
    /// root checks are possible without the frontier.
    pub fn resume(position: u64, prev_hash: Hash) -> Verifier {
        Verifier {
            start: position,
            next: position,
            prev: prev_hash,
            frontier: None,
            roots: BTreeMap::new(),
            pending: None,
            last_seal: None,
            bytes: 0,
            failed: None,
            hashes: Vec::new(),
            leaves: Vec::new(),
        }
    }

    /// Verifies from `frontier.size()`, with the tree so far and the hash of the last
    /// record in it (trusted, e.g. from a checked earlier run).
    pub fn with_frontier(frontier: Frontier, prev_hash: Hash) -> Verifier {
        let mut v = Verifier::resume(frontier.size(), prev_hash);
        v.frontier = Some(frontier);
        v
    }

    /// The seal of the record before the range (its layout and sealing time), which the
    /// first record verified must not precede; without it, the first is not checked
    /// against its predecessor in time.
    pub fn after_seal(mut self, seal: Seal) -> Verifier {
        self.last_seal = Some(seal);
        self
    }

    /// Adds a tree head (from a verified checkpoint) to check the recomputed root against
    /// when the tree reaches its size. A head at the current size is checked at once.
    pub fn expect_root(&mut self, head: TreeHead) -> Result<(), UncheckableHead> {
        let Some(frontier) = &self.frontier else {
            return Err(UncheckableHead::NoFrontier { size: head.size });
        };
        if head.size < self.next {
            return Err(UncheckableHead::BeforeRange {
                size: head.size,
                start: self.next,
            });
        }
        if head.size == self.next {
            let computed = frontier.root();
            if computed != head.root && self.failed.is_none() {
                self.failed = Some(Violation {
                    position: head.size.saturating_sub(1),
                    kind: ViolationKind::RootMismatch {
                        size: head.size,
                        expected: head.root,
                        computed,
                        by: RootSource::Checkpoint,
                    },
                });
            }
            return Ok(());
        }
        self.roots.entry(head.size).or_default().push(head.root);
        Ok(())
    }

    /// The next position expected.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// What has been checked so far (up to a violation, if one was found). The last
    /// record's link may still await its witness: only [`finish`](Self::finish) settles.
    pub fn snapshot(&self) -> Verified {
        Verified {
            start: self.start,
            end: self.next,
            bytes: self.bytes,
            last_hash: self.prev,
            root: self.frontier.as_ref().map(Frontier::root),
        }
    }

    /// Feeds the stored bytes of the next records, in position order. After the first
    /// violation every call returns it again.
    ///
    /// The records are parsed and hashed first, all of them, in SIMD lanes and on every
    /// core (rayon): a record's hash and leaf depend on no other record. Then one pass in
    /// order checks each record's position, link and seal; the leaves of the records it
    /// accepts join the Merkle tree a run at a time (their nodes hashed in lanes too),
    /// the runs cut where a checkpoint's root is to be checked.
    pub fn feed<B: AsRef<[u8]> + Sync>(&mut self, records: &[B]) -> Result<(), Violation> {
        if let Some(v) = &self.failed {
            return Err(v.clone());
        }
        let with_tree = self.frontier.is_some();
        let n = records.len();
        let mut hashes = std::mem::take(&mut self.hashes);
        let mut leaves = std::mem::take(&mut self.leaves);
        hashes.clear();
        hashes.resize(n, Hash::ZERO);
        leaves.clear();
        // Left at zero without a tree, but as long as the records for the zip below.
        leaves.resize(n, Hash::ZERO);
        let links: Vec<Vec<Result<Link, FormatError>>> = records
            .par_chunks(LANE_TASK)
            .zip(hashes.par_chunks_mut(LANE_TASK))
            .zip(leaves.par_chunks_mut(LANE_TASK))
            .map(|((records, hashes), leaves)| {
                hash_records(records, hashes);
                if with_tree {
                    leaf_hashes_of(hashes, leaves);
                }
                records.iter().map(|b| Link::parse(b.as_ref())).collect()
            })
            .collect();
        let base = self.next;
        // The runs end at each size inside this chunk whose root a checkpoint gives, and
        // at the chunk's end.
        let mut ends: Vec<usize> = (self.roots.range(base + 1..=base + n as u64))
            .map(|(&size, _)| (size - base) as usize)
            .collect();
        if ends.last() != Some(&n) {
            ends.push(n);
        }
        let mut links = links.into_iter().flatten();
        let (mut i, mut joined) = (0, 0);
        let mut result = Ok(());
        'runs: for end in ends {
            while i < end {
                let link = links.next().expect("one link per record");
                if let Err(v) = self.step(link, hashes[i], records[i].as_ref().len()) {
                    result = Err(v);
                    break 'runs;
                }
                i += 1;
            }
            if let Some(f) = &mut self.frontier {
                f.extend_leaves(&leaves[joined..end], |_, _| {});
            }
            joined = end;
            if let Err(v) = self.check_roots() {
                result = Err(v);
                break;
            }
        }
        if result.is_err() {
            // The tree holds every record accepted before the violation (the snapshot's
            // root is theirs), as when records joined it one at a time.
            let accepted = (self.next - base) as usize;
            if let Some(f) = &mut self.frontier {
                f.extend_leaves(&leaves[joined..accepted.max(joined)], |_, _| {});
            }
        }
        self.hashes = hashes;
        self.leaves = leaves;
        if let Err(v) = &result {
            self.failed = Some(v.clone());
        }
        result
    }

    /// The sequential check of one record, hashed already: its position, its link to
    /// the record before, its seal. The leaf joins the tree in [`feed`](Self::feed).
    fn step(
        &mut self,
        header: Result<Link, FormatError>,
        hash: Hash,
        len: usize,
    ) -> Result<(), Violation> {
        let Link {
            position,
            prev_hash: stored_prev,
            seal,
        } = match header {
            Ok(h) => h,
            Err(e) => {
                return Err(match self.pending.take() {
                    Some(p) => p.resolve(None),
                    None => Violation {
                        position: self.next,
                        kind: ViolationKind::Undecodable(e),
                    },
                });
            }
        };
        if let Some(p) = self.pending.take() {
            return Err(p.resolve(Some(stored_prev == self.prev)));
        }
        if position != self.next {
            return Err(Violation {
                position: self.next,
                kind: ViolationKind::WrongPosition {
                    expected: self.next,
                    found: position,
                },
            });
        }
        if stored_prev != self.prev {
            let pending = Pending {
                at: self.next,
                stored_prev,
                computed_prev: self.prev,
            };
            if self.next == self.start {
                // The caller vouches for the predecessor's hash.
                return Err(pending.resolve(Some(false)));
            }
            self.pending = Some(pending);
        } else if let Some(kind) = self.last_seal.and_then(|before| seal.check_after(before)) {
            // Only along an intact link: a broken one is reported as such, at the record
            // its witness points to.
            return Err(Violation { position, kind });
        }
        self.last_seal = Some(seal);
        self.prev = hash;
        self.next += 1;
        self.bytes += len as u64;
        Ok(())
    }

    /// Checks the roots checkpoints give for the tree's current size, once the tree
    /// holds every record up to it. A root that matches is also the witness a broken
    /// link into the last record waits for.
    fn check_roots(&mut self) -> Result<(), Violation> {
        let Some(f) = &self.frontier else {
            return Ok(());
        };
        let Some(roots) = self.roots.remove(&self.next) else {
            return Ok(());
        };
        let computed = f.root();
        let all_match = roots.iter().all(|r| *r == computed);
        if let Some(p) = self.pending.take() {
            return Err(p.resolve(all_match.then_some(true)));
        }
        if let Some(expected) = roots.into_iter().find(|r| *r != computed) {
            return Err(Violation {
                position: self.next - 1,
                kind: ViolationKind::RootMismatch {
                    size: self.next,
                    expected,
                    computed,
                    by: RootSource::Checkpoint,
                },
            });
        }
        Ok(())
    }

    /// Ends verification. `claimed`, if given, is the end the store claims (its head):
    /// its size, last hash and root are checked against what was recomputed (the root
    /// only if the verifier has the frontier). Tree heads beyond the last record are
    /// violations: records they cover are missing.
    pub fn finish(mut self, claimed: Option<ClaimedEnd>) -> Result<Verified, Violation> {
        if let Some(v) = self.failed {
            return Err(v);
        }
        if let Some(p) = self.pending.take() {
            let witness = claimed
                .filter(|c| c.size == self.next)
                .map(|c| c.last_hash == self.prev);
            return Err(p.resolve(witness));
        }
        if let Some(c) = claimed {
            if c.size > self.next {
                return Err(Violation {
                    position: self.next,
                    kind: ViolationKind::MissingRecords {
                        size: c.size,
                        by: RootSource::Head,
                    },
                });
            }
            if c.size < self.next {
                return Err(Violation {
                    position: c.size,
                    kind: ViolationKind::ExtraRecords { claimed: c.size },
                });
            }
            if c.last_hash != self.prev && self.next > self.start {
                return Err(Violation {
                    position: self.next - 1,
                    kind: ViolationKind::HashMismatch {
                        computed: self.prev,
                        attested: c.last_hash,
                        witness: Witness::Head,
                    },
                });
            }
            if let Some(f) = &self.frontier {
                if f.root() != c.root {
                    return Err(Violation {
                        position: self.next.saturating_sub(1),
                        kind: ViolationKind::RootMismatch {
                            size: c.size,
                            expected: c.root,
                            computed: f.root(),
                            by: RootSource::Head,
                        },
                    });
                }
            }
        }
        if let Some((&size, _)) = self.roots.iter().next() {
            return Err(Violation {
                position: self.next,
                kind: ViolationKind::MissingRecords {
                    size,
                    by: RootSource::Checkpoint,
                },
            });
        }
        Ok(self.snapshot())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, Entry, Envelope, Record, seal};
    use proptest::prelude::*;

    fn entry(i: u64) -> Entry {
        Entry {
            stream_id: format!("plan-{}", i % 3),
            stream_version: i / 3 + 1,
            claimed_at_micros: 1_767_225_600_000_000 + i as i64,
            command_id: String::new(),
            actor: Actor {
                user_id: "u-1".into(),
                role: "key_worker".into(),
            },
            event_type: "note_added".into(),
            schema_version: 1,
            envelope: Envelope::plaintext(),
            payload: vec![i as u8; (i % 7) as usize + 3],
        }
    }

    /// When the store sealed record `i`: a day after it claims, two records per second.
    fn sealed_at(i: u64) -> i64 {
        1_767_312_000_000_000 + (i as i64 / 2) * 1_000_000
    }

    /// Seals `entries` as a chain from position 0, each at the sealing time given
    /// (`None`: layout 1); returns the stored bytes.
    fn chain_of(seals: &[Option<i64>]) -> Vec<Vec<u8>> {
        let mut prev = Hash::ZERO;
        let mut out = Vec::new();
        for (i, sealed) in seals.iter().enumerate() {
            let i = i as u64;
            let r = match sealed {
                Some(t) => seal(i, prev, *t, &entry(i)).unwrap(),
                None => crate::seal_layout1(i, prev, &entry(i)).unwrap(),
            };
            prev = r.hash();
            out.push(r.into_bytes());
        }
        out
    }

    #[test]
    fn a_record_sealed_before_its_predecessor_fails_at_its_position() {
        let t = 1_767_312_000_000_000;
        let records = chain_of(&[Some(t), Some(t), Some(t + 5), Some(t + 4), Some(t + 9)]);
        let err = check(&records, 2, None).unwrap_err();
        assert_eq!(err.position, 3);
        assert_eq!(
            err.kind,
            ViolationKind::SealedBeforePredecessor {
                sealed: t + 4,
                predecessor: t + 5
            }
        );
        // From position 3 on, the record before is known only if the caller says so.
        let mut v = Verifier::resume(3, Record::decode(records[2].clone()).unwrap().hash());
        v.feed(&records[3..]).unwrap();
        let seal2 = Seal::of(&records[2]).unwrap();
        let mut v = Verifier::resume(3, Record::decode(records[2].clone()).unwrap().hash())
            .after_seal(seal2);
        assert_eq!(v.feed(&records[3..]).unwrap_err().position, 3);
    }

    #[test]
    fn layout_1_records_may_precede_layout_2_but_never_follow() {
        let t = 1_767_312_000_000_000;
        let upgraded = chain_of(&[None, None, Some(t), Some(t + 1)]);
        assert_eq!(check(&upgraded, 3, None).unwrap().end, 4);
        let back = chain_of(&[None, Some(t), None]);
        let err = check(&back, 3, None).unwrap_err();
        assert_eq!(
            (err.position, err.kind),
            (
                2,
                ViolationKind::LayoutGoesBack {
                    layout: 1,
                    predecessor: 2
                }
            )
        );
    }

    /// A sealed ledger: the stored bytes of each record, and its tree heads.
    fn ledger(n: u64) -> (Vec<Vec<u8>>, Vec<TreeHead>, ClaimedEnd) {
        let mut prev = Hash::ZERO;
        let mut f = Frontier::new();
        let mut out = Vec::new();
        let mut heads = vec![TreeHead {
            size: 0,
            root: f.root(),
        }];
        for i in 0..n {
            let r = seal(i, prev, sealed_at(i), &entry(i)).unwrap();
            prev = r.hash();
            f.push(prev, |_, _| {});
            heads.push(TreeHead {
                size: i + 1,
                root: f.root(),
            });
            out.push(r.into_bytes());
        }
        let end = ClaimedEnd {
            size: n,
            last_hash: prev,
            root: f.root(),
        };
        (out, heads, end)
    }

    /// Verifies `records` in chunks of `chunk`, against the head and no checkpoints.
    fn check(
        records: &[Vec<u8>],
        chunk: usize,
        end: Option<ClaimedEnd>,
    ) -> Result<Verified, Violation> {
        let mut v = Verifier::new();
        for c in records.chunks(chunk.max(1)) {
            v.feed(c)?;
        }
        v.finish(end)
    }

    #[test]
    fn intact_ledger_verifies_with_its_root() {
        let (recs, heads, end) = ledger(50);
        let mut v = Verifier::new();
        for h in &heads {
            v.expect_root(*h).unwrap();
        }
        v.feed(&recs).unwrap();
        let done = v.finish(Some(end)).unwrap();
        assert_eq!(done.end, 50);
        assert_eq!(done.root, Some(end.root));
        assert_eq!(done.bytes, recs.iter().map(|r| r.len() as u64).sum::<u64>());
    }

    #[test]
    fn flip_in_a_large_chunk_is_found_when_hashed_in_parallel() {
        let (mut recs, _, end) = ledger(1500);
        assert!(check(&recs, 1500, Some(end)).is_ok());
        recs[1234][60] ^= 0x10;
        let err = check(&recs, 1500, Some(end)).unwrap_err();
        assert_eq!(err.position, 1234, "{err}");
    }

    /// One chunk of many lane tasks, with checkpoint roots inside it: every root is
    /// checked at its size, a wrong one is reported at its last record, and after a
    /// violation the tree holds exactly the records accepted before it.
    #[test]
    fn checkpoints_inside_a_large_chunk_are_checked_at_their_size() {
        let (recs, heads, end) = ledger(2600);
        let mut v = Verifier::new();
        for size in [1, 2, 1023, 1024, 1025, 2048, 2599, 2600] {
            v.expect_root(heads[size]).unwrap();
        }
        v.feed(&recs).unwrap();
        assert_eq!(v.finish(Some(end)).unwrap().root, Some(end.root));

        let mut v = Verifier::new();
        v.expect_root(heads[500]).unwrap();
        v.expect_root(TreeHead {
            size: 1500,
            root: heads[1499].root,
        })
        .unwrap();
        let err = v.feed(&recs).unwrap_err();
        assert_eq!(err.position, 1499);
        assert!(matches!(
            err.kind,
            ViolationKind::RootMismatch { size: 1500, .. }
        ));
        assert_eq!(v.snapshot().end, 1500);
        assert_eq!(v.snapshot().root, Some(heads[1500].root));

        // A record altered mid-chunk: found by the next record's link, which the one
        // after confirms; the tree holds the records up to that link.
        let mut bad = recs.clone();
        *bad[1700].last_mut().unwrap() ^= 1;
        let mut v = Verifier::new();
        let err = v.feed(&bad).unwrap_err();
        assert_eq!(err.position, 1700, "{err}");
        assert_eq!(v.snapshot().end, 1702);
        assert_eq!(v.snapshot().end, v.frontier.as_ref().unwrap().size());
        // Its broken link resolved by a checkpoint at its size, which it contradicts.
        let mut v = Verifier::new();
        v.expect_root(heads[1701]).unwrap();
        let err = v.feed(&bad).unwrap_err();
        assert_eq!(err.position, 1700, "{err}");
    }

    #[test]
    fn resumed_verifier_checks_against_the_given_prev_hash() {
        let (recs, _, end) = ledger(10);
        let prev = crate::hash_record_bytes(&recs[3]);
        let mut v = Verifier::resume(4, prev);
        v.feed(&recs[4..]).unwrap();
        assert_eq!(v.finish(Some(end)).unwrap().last_hash, end.last_hash);
        let mut v = Verifier::resume(4, Hash([1; 32]));
        let err = v.feed(&recs[4..]).unwrap_err();
        assert_eq!(err.position, 4);
        assert!(matches!(err.kind, ViolationKind::PrevHashMismatch { .. }));
    }

    #[test]
    fn checkpoint_root_mismatch_is_reported_at_its_last_record() {
        let (recs, _, _) = ledger(20);
        let mut v = Verifier::new();
        v.expect_root(TreeHead {
            size: 8,
            root: Hash([3; 32]),
        })
        .unwrap();
        let err = v.feed(&recs).unwrap_err();
        assert_eq!(err.position, 7);
        assert!(matches!(
            err.kind,
            ViolationKind::RootMismatch { size: 8, .. }
        ));
    }

    #[test]
    fn checkpoint_beyond_the_records_means_records_are_missing() {
        let (recs, heads, _) = ledger(20);
        let mut v = Verifier::new();
        v.expect_root(heads[20]).unwrap();
        v.feed(&recs[..15]).unwrap();
        let err = v.finish(None).unwrap_err();
        assert_eq!(err.position, 15);
        assert!(matches!(
            err.kind,
            ViolationKind::MissingRecords { size: 20, .. }
        ));
    }

    #[test]
    fn head_claiming_more_or_fewer_records_is_a_violation() {
        let (recs, _, end) = ledger(12);
        let err = check(&recs[..10], 4, Some(end)).unwrap_err();
        assert_eq!(err.position, 10);
        let short = ClaimedEnd { size: 11, ..end };
        let err = check(&recs, 4, Some(short)).unwrap_err();
        assert_eq!(err.position, 11);
        assert!(matches!(
            err.kind,
            ViolationKind::ExtraRecords { claimed: 11 }
        ));
    }

    #[test]
    fn resumed_with_frontier_checks_later_checkpoints() {
        let (recs, heads, end) = ledger(40);
        let mut f = Frontier::new();
        for r in &recs[..17] {
            f.push(crate::hash_record_bytes(r), |_, _| {});
        }
        let prev = crate::hash_record_bytes(&recs[16]);
        let mut v = Verifier::with_frontier(f.clone(), prev);
        assert!(v.expect_root(heads[10]).is_err(), "before the range");
        for size in [17, 20, 33, 40] {
            v.expect_root(heads[size]).unwrap();
        }
        v.feed(&recs[17..]).unwrap();
        assert_eq!(v.finish(Some(end)).unwrap().root, Some(end.root));

        let mut v = Verifier::with_frontier(f, prev);
        v.expect_root(TreeHead {
            size: 33,
            root: heads[32].root,
        })
        .unwrap();
        let err = v.feed(&recs[17..]).unwrap_err();
        assert_eq!(err.position, 32);
    }

    #[test]
    fn root_checks_need_the_frontier() {
        let mut v = Verifier::resume(3, Hash::ZERO);
        assert!(
            v.expect_root(TreeHead {
                size: 5,
                root: Hash::ZERO
            })
            .is_err()
        );
    }

    #[derive(Debug, Clone)]
    enum Damage {
        Flip { record: usize, bit: usize },
        Drop(usize),
        Duplicate(usize),
        Swap(usize),
    }

    fn damage() -> impl Strategy<Value = (u64, Damage, usize)> {
        (2u64..60).prop_flat_map(|n| {
            let n_us = n as usize;
            let d = prop_oneof![
                (0..n_us, 0..usize::MAX).prop_map(|(record, bit)| Damage::Flip { record, bit }),
                (0..n_us).prop_map(Damage::Drop),
                (0..n_us).prop_map(Damage::Duplicate),
                (0..n_us - 1).prop_map(Damage::Swap),
            ];
            (Just(n), d, 1usize..70)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any single-bit flip, dropped, duplicated or swapped record is found, and at the
        /// position of the damaged record (for a drop: the position that is missing; for a
        /// duplicate: the position of the copy), whatever the chunking.
        #[test]
        fn single_damage_is_found_at_its_position((n, d, chunk) in damage()) {
            let (mut recs, _, end) = ledger(n);
            let expected = match d {
                Damage::Flip { record, bit } => {
                    let bit = bit % (recs[record].len() * 8);
                    recs[record][bit / 8] ^= 1 << (bit % 8);
                    record as u64
                }
                Damage::Drop(i) => { recs.remove(i); i as u64 }
                Damage::Duplicate(i) => { let r = recs[i].clone(); recs.insert(i + 1, r); i as u64 + 1 }
                Damage::Swap(i) => { recs.swap(i, i + 1); i as u64 }
            };
            let err = check(&recs, chunk, Some(end)).unwrap_err();
            prop_assert_eq!(err.position, expected, "{}", err);
        }

        /// The same with checkpoints instead of a head: the tail is covered by the last
        /// checkpoint, and damage is still reported at the damaged record or earlier
        /// never later than the checkpoint that exposes it.
        #[test]
        fn damage_is_found_with_checkpoints_and_no_head((n, d, chunk) in damage()) {
            let (mut recs, heads, _) = ledger(n);
            let at = match d {
                Damage::Flip { record, bit } => {
                    let bit = bit % (recs[record].len() * 8);
                    recs[record][bit / 8] ^= 1 << (bit % 8);
                    record as u64
                }
                Damage::Drop(i) => { recs.remove(i); i as u64 }
                Damage::Duplicate(i) => { let r = recs[i].clone(); recs.insert(i + 1, r); i as u64 + 1 }
                Damage::Swap(i) => { recs.swap(i, i + 1); i as u64 }
            };
            let mut v = Verifier::new();
            v.expect_root(heads[n as usize]).unwrap();
            let mut result = Ok(());
            for c in recs.chunks(chunk) {
                result = v.feed(c);
                if result.is_err() { break; }
            }
            let err = match result { Err(e) => e, Ok(()) => v.finish(None).unwrap_err() };
            prop_assert!(err.position == at || err.position + 1 == at, "damage at {}, {}", at, err);
        }

        #[test]
        fn intact_ledger_verifies_in_any_chunking(n in 0u64..80, chunk in 1usize..90) {
            let (recs, _, end) = ledger(n);
            let done = check(&recs, chunk, Some(end)).unwrap();
            prop_assert_eq!(done.end, n);
            prop_assert_eq!(done.last_hash, end.last_hash);
        }
    }
}
