//! Whole-store verification (`planledger verify`) and Merkle proofs from a store.
//!
//! [`verify_store`] streams every record through the ledger's [`Verifier`] in chunks, so
//! memory stays flat however long the ledger is, checks the tree roots of the given
//! checkpoints on the way, and at the end checks the store's own head (size, last hash,
//! root) against what it recomputed. A damaged record is not an error of this function
//! but its finding: the report names the first position that is wrong and why.
//!
//! [`verify_store_since`] starts at a signed checkpoint instead of position 0: it checks
//! the stored Merkle nodes and the last record of the checkpoint's tree against the
//! signed root, then verifies only the records after it.

use planledger_ledger::{
    ClaimedEnd, Frontier, Hash, InvalidProof, NodeId, NodeSource, ProofError, RootSource, Seal,
    TreeHead, Verifier, Violation, ViolationKind, inclusion_proof, peak_ids,
};

use crate::{Head, RecordBytes, Store, StoreError};

/// Records read per chunk: about 2.5 MB of ~300-byte records, enough for the parallel
/// hashing to keep every core busy, small enough to keep memory flat (verification holds
/// four chunks: two being hashed, two read ahead).
const CHUNK: usize = 8192;

/// The outcome of [`verify_store`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The position the check started at: 0, or the size of the checkpoint
    /// [`verify_store_since`] started from (the records before it were not read).
    pub from: u64,
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
            None if self.from == 0 => format!(
                "verified {} records ({} bytes); last hash {}, root {}",
                self.records, self.bytes, self.last_hash, self.root
            ),
            None => format!(
                "verified {} records ({} bytes) after the checkpoint of {} records; last hash {}, root {}",
                self.records, self.bytes, self.from, self.last_hash, self.root
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
        &|from, limit, out| store.read_all_bytes_into(from, limit, out),
        progress,
    )
}

/// Verifies the records after the checkpoint tree head `checkpoint` (from a checkpoint
/// whose signature the caller has verified), up to the store's head, which it checks at
/// the end. The records inside the checkpoint's tree are not re-read; instead the
/// stored Merkle nodes of that tree must fold to the signed root, and the last record
/// of the tree must be included in it, so the verification resumes from a frontier and
/// a last hash that the signature vouches for. `progress(done, total)` gets positions
/// in the whole ledger, as with [`verify_store_from`].
///
/// What does not match is a [`VerifyReport::violation`], with `from` the checkpoint's
/// size:
///
/// - a ledger shorter than the checkpoint: [`ViolationKind::MissingRecords`] at the
///   ledger's size (the first position missing);
/// - stored nodes that do not fold to the signed root, or a last record whose hash is
///   not the leaf the signed tree holds: [`ViolationKind::RootMismatch`] at the
///   checkpoint's last position (the alteration may be anywhere up to it);
/// - a Merkle node of the checkpoint's tree that is missing or unreadable, or a last
///   record that is: [`ViolationKind::Unreadable`], or the gap as
///   [`ViolationKind::WrongPosition`] / [`ViolationKind::MissingRecords`].
///
/// When one of these stops the check before any record after the checkpoint is read,
/// `records` and `bytes` are 0 and `last_hash` and `root` are the store's head as
/// claimed, unchecked. Returns `Err` only when the store cannot be read.
pub fn verify_store_since(
    store: &dyn Store,
    checkpoint: TreeHead,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    let head = store.head()?;
    let fail = |position: u64, kind: ViolationKind| VerifyReport {
        from: checkpoint.size,
        records: 0,
        bytes: 0,
        last_hash: head.last_hash,
        root: head.root,
        violation: Some(Violation { position, kind }),
    };
    if checkpoint.size > head.size {
        // Truncated: the signed tree is longer than the ledger.
        return Ok(fail(
            head.size,
            ViolationKind::MissingRecords {
                size: checkpoint.size,
                by: RootSource::Checkpoint,
            },
        ));
    }
    let last = checkpoint.size.saturating_sub(1);
    let mut peaks = Vec::new();
    for id in peak_ids(checkpoint.size) {
        match store.node(id) {
            Ok(hash) => peaks.push(hash),
            Err(e) => {
                let v = as_violation(
                    e,
                    last,
                    &format!("Merkle node (level {}, index {})", id.level, id.index),
                )?;
                return Ok(fail(v.position, v.kind));
            }
        }
    }
    let frontier = Frontier::from_peaks(checkpoint.size, peaks).expect("one peak per set bit");
    if frontier.root() != checkpoint.root {
        return Ok(fail(
            last,
            ViolationKind::RootMismatch {
                size: checkpoint.size,
                expected: checkpoint.root,
                computed: frontier.root(),
                by: RootSource::Checkpoint,
            },
        ));
    }
    let (prev, seal) = if checkpoint.size == 0 {
        (Hash::ZERO, None)
    } else {
        // The peaks match the signature, but the records after the checkpoint chain onto
        // the last record's hash: that hash must be the leaf the signed tree holds.
        let record = match store.read_all(last, 1) {
            Err(e) => {
                let v = as_violation(e, last, "the last record")?;
                return Ok(fail(v.position, v.kind));
            }
            Ok(mut records) => match records.pop() {
                Some(r) if r.position() == last => r,
                Some(r) => {
                    return Ok(fail(
                        last,
                        ViolationKind::WrongPosition {
                            expected: last,
                            found: r.position(),
                        },
                    ));
                }
                None => {
                    return Ok(fail(
                        last,
                        ViolationKind::MissingRecords {
                            size: checkpoint.size,
                            by: RootSource::Checkpoint,
                        },
                    ));
                }
            },
        };
        let proof = match inclusion_proof(&StoreNodes(store), last, checkpoint.size) {
            Ok(p) => p,
            Err(ProofError::Source { node, source }) => {
                let v = as_violation(
                    source,
                    last,
                    &format!("Merkle node (level {}, index {})", node.level, node.index),
                )?;
                return Ok(fail(v.position, v.kind));
            }
            Err(e) => unreachable!("leaf {last} is inside the tree of {last} + 1 leaves: {e}"),
        };
        match proof.verify(&record.hash(), &checkpoint.root) {
            Ok(()) => {}
            Err(InvalidProof::RootMismatch { expected, computed }) => {
                return Ok(fail(
                    last,
                    ViolationKind::RootMismatch {
                        size: checkpoint.size,
                        expected,
                        computed,
                        by: RootSource::Checkpoint,
                    },
                ));
            }
            Err(e) => unreachable!("a proof built for this tree has its shape: {e}"),
        }
        // The first record after the checkpoint must not be sealed before this one.
        (record.hash(), Seal::of(record.bytes()))
    };
    let verifier = Verifier::with_frontier(frontier, prev);
    let verifier = match seal {
        Some(seal) => verifier.after_seal(seal),
        None => verifier,
    };
    verify_store_from(store, verifier, progress)
}

/// A failed read of something the checkpoint's tree must have: what a store reports
/// missing ([`StoreError::NotFound`]) or corrupt is a violation (a missing one at
/// `position`, the checkpoint's last record), any other error is the caller's to return.
fn as_violation(e: StoreError, position: u64, what: &str) -> Result<Violation, StoreError> {
    match e {
        StoreError::Corrupt { position, reason } => Ok(Violation {
            position,
            kind: ViolationKind::Unreadable { reason },
        }),
        StoreError::NotFound { .. } => Ok(Violation {
            position,
            kind: ViolationKind::Unreadable {
                reason: format!("{what} of the checkpoint's tree is missing"),
            },
        }),
        e => Err(e),
    }
}

/// What [`verify_records`] reads records with: [`Store::read_all_bytes_into`]. Called
/// from the rayon pool's threads, two at a time.
type ReadAll<'a> = dyn Fn(u64, usize, &mut RecordBytes) -> Result<(), StoreError> + Sync + 'a;

/// [`verify_store`] over a head and a `read_all_bytes`, so tests can damage what is read
/// without implementing the whole [`Store`] trait.
fn verify_records(
    head: Head,
    verifier: Verifier,
    read_all: &ReadAll<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    verify_in_chunks(head, verifier, read_all, CHUNK, progress)
}

/// The reads of two chunks side by side: positions `from ..` into `bufs[0]`, and `from
/// + chunk ..` into `bufs[1]` (`None`: past the head). The second is the chunk after
/// the first only when the first is whole, which [`verify_in_chunks`] checks.
fn read_two(
    read_all: &ReadAll<'_>,
    size: u64,
    from: u64,
    chunk: usize,
    bufs: &mut [RecordBytes; 2],
) -> [Option<Result<(), StoreError>>; 2] {
    let want = |from: u64| {
        usize::try_from(size - from)
            .unwrap_or(usize::MAX)
            .min(chunk)
    };
    let second = from + chunk as u64;
    let [a, b] = bufs;
    let (first, second) = rayon::join(
        || (from < size).then(|| read_all(from, want(from), a)),
        || (second < size).then(|| read_all(second, want(second), b)),
    );
    [first, second]
}

/// [`verify_records`] in chunks of `chunk` records (tests use small ones).
///
/// Reading is serial within a read transaction and costs more than hashing, so two
/// chunks are read side by side, and the next two while these are hashed, all on the
/// rayon pool's threads (`rayon::join`): on a pool of several threads reading and
/// hashing share the cores; on a pool of one they run in turn. A chunk read ahead is
/// used only once the records before it have verified.
fn verify_in_chunks(
    head: Head,
    mut verifier: Verifier,
    read_all: &ReadAll<'_>,
    chunk: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    let report = |v: &Verifier, violation: Option<Violation>| {
        let s = v.snapshot();
        VerifyReport {
            from: s.start,
            records: s.end - s.start,
            bytes: s.bytes,
            last_hash: s.last_hash,
            root: s.root.unwrap_or(head.root),
            violation,
        }
    };
    let unreadable = |e: StoreError| match e {
        StoreError::Corrupt { position, reason } => Ok(Violation {
            position,
            kind: ViolationKind::Unreadable { reason },
        }),
        e => Err(e),
    };
    progress(verifier.position(), head.size);
    // Buffers reused from chunk to chunk: the two being hashed, the two read ahead.
    let mut bufs = [RecordBytes::new(), RecordBytes::new()];
    let mut ahead = [RecordBytes::new(), RecordBytes::new()];
    let mut reads = None;
    while verifier.position() < head.size {
        let from = verifier.position();
        let [first, second] = match reads.take() {
            Some(reads) => {
                std::mem::swap(&mut bufs, &mut ahead);
                reads
            }
            None => read_two(read_all, head.size, from, chunk, &mut bufs),
        };
        if let Some(Err(e)) = first {
            return Ok(report(&verifier, Some(unreadable(e)?)));
        }
        if bufs[0].is_empty() {
            // Fewer records than the head claims: `finish` reports where they stop.
            break;
        }
        let mut records: Vec<&[u8]> = bufs[0].iter().collect();
        // The second chunk follows the first only if the first is whole; its read's
        // failure counts after the first chunk's records.
        let whole = records.len() as u64 == (head.size - from).min(chunk as u64);
        let mut failed = None;
        match second {
            Some(Ok(())) if whole => records.extend(bufs[1].iter()),
            Some(Err(e)) if whole => failed = Some(e),
            _ => {}
        }
        let next = from + records.len() as u64;
        let (fed, read) = rayon::join(
            || verifier.feed(&records),
            || {
                (failed.is_none() && next < head.size)
                    .then(|| read_two(read_all, head.size, next, chunk, &mut ahead))
            },
        );
        if let Err(v) = fed {
            return Ok(report(&verifier, Some(v)));
        }
        if let Some(e) = failed {
            return Ok(report(&verifier, Some(unreadable(e)?)));
        }
        reads = read;
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

/// What [`check_derived`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedCheck {
    /// Stored Merkle nodes compared.
    pub nodes: u64,
    /// Streams whose index was compared.
    pub streams: u64,
    /// The first derived item that does not match the records.
    pub differs: Option<Derived>,
}

/// Data a store keeps beside the records, derived from them, that does not match them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derived {
    /// A stored Merkle node: proofs built from it (bundles, consistency proofs,
    /// `checkpoint`'s check of the witness) would fail or mislead.
    Node {
        node: NodeId,
        /// Not stored at all (rather than stored with another hash).
        missing: bool,
    },
    /// The stream index: reading the stream by its id ([`Store::read_stream`], what
    /// `history`, `show` and `export` do) does not give the stream's records, in order,
    /// or [`Store::stream_version`] is not their number.
    Stream { stream_id: String },
    /// The command index ([`Store::command_position`]) does not name the record at
    /// `position` as the first of its command: a replay of it would not be recognised.
    Command { position: u64 },
}

impl std::fmt::Display for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Derived::Node { node, missing } => {
                let first = node.index << node.level;
                let last = first + (1u64 << node.level) - 1;
                write!(
                    f,
                    "the stored Merkle node (level {}, index {}) over positions {first} to {last} {}",
                    node.level,
                    node.index,
                    match missing {
                        true => "is missing",
                        false => "differs from the tree recomputed from the records",
                    }
                )
            }
            Derived::Stream { stream_id } => write!(
                f,
                "the stream index of {stream_id} does not give that stream's records (their number, positions or bytes differ)"
            ),
            Derived::Command { position } => write!(
                f,
                "the command index does not name record {position} as the first of its command (a replay of the command would be recorded again)"
            ),
        }
    }
}

/// A stream's records as the ledger gives them, folded: their count and a chain over
/// their positions in version order, so that memory holds 40 bytes per stream, not a
/// list of its records. Positions suffice: the records at them are the ones the
/// records' check verified, and the stream reader checks that each names the stream
/// and version it was read as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct StreamFold {
    count: u64,
    acc: Hash,
}

impl StreamFold {
    fn push(&mut self, position: u64) {
        let mut p = [0u8; 32];
        p[..8].copy_from_slice(&position.to_le_bytes());
        self.acc = planledger_ledger::node_hash(&self.acc, &Hash(p));
        self.count += 1;
    }

    /// What a stream whose index cannot be read, or names other records, folds to.
    const BROKEN: StreamFold = StreamFold {
        count: u64::MAX,
        acc: Hash::ZERO,
    };
}

/// Compares what the store keeps beside its first `size` records, derived from them, with
/// what the records give: every perfect-subtree Merkle node ([`Store::nodes`], what proofs
/// are built from) with the tree recomputed from the records' stored bytes, every
/// command's first record with the command index ([`Store::command_position`]), and every
/// stream's index ([`Store::read_stream`], [`Store::stream_version`]) with the stream's
/// records in position order. For a store whose records have verified. One more read of
/// the records, and one of each stream; `progress(done, size)` hears of each chunk of
/// the first. Returns `Err` only when the store cannot be read.
pub fn check_derived(
    store: &dyn Store,
    size: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DerivedCheck, StoreError> {
    let streams = &|stream_id: &str, count: u64| -> Result<StreamRead, StoreError> {
        let mut fold = StreamFold::default();
        let mut from = 1;
        while fold.count < count {
            let want = usize::try_from(count - fold.count)
                .unwrap_or(usize::MAX)
                .min(1024);
            let chunk = match store.read_stream(stream_id, from, want) {
                Ok(chunk) => chunk,
                // What the index names cannot be read: it does not give the records.
                Err(StoreError::Corrupt { .. }) => return Ok(StreamRead::broken()),
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            for r in &chunk {
                if r.stream_id() != stream_id || r.stream_version() != from {
                    return Ok(StreamRead::broken());
                }
                fold.push(r.position());
                from += 1;
            }
        }
        // A reader goes on until the index gives nothing more (a damaged index can give
        // entries without end): whether it gives one more than the records.
        let beyond = match store.read_stream(stream_id, count + 1, 1) {
            Ok(more) => !more.is_empty(),
            Err(StoreError::Corrupt { .. }) => true,
            Err(e) => return Err(e),
        };
        Ok(StreamRead {
            fold,
            version: store.stream_version(stream_id)?,
            beyond,
        })
    };
    check_derived_with(
        size,
        &mut |from, limit, out| store.read_all_bytes_into(from, limit, out),
        (store.nodes_kept_from_level(), &|ids| store.nodes(ids)),
        &|id| store.command_position(id),
        streams,
        &mut || Ok(store.head()?.size),
        progress,
    )
}

/// What [`check_derived_with`] looks a command id up with: [`Store::command_position`].
type CommandOf<'a> = dyn Fn(&str) -> Result<Option<u64>, StoreError> + 'a;

/// What [`check_derived_with`] reads stored nodes with: [`Store::nodes`].
type NodesOf<'a> = dyn Fn(&[NodeId]) -> Result<Vec<Option<Hash>>, StoreError> + 'a;
/// What it reads a stream with: its first `count` records folded, and its stored version.
/// Called from several threads at once.
type StreamOf<'a> = dyn Fn(&str, u64) -> Result<StreamRead, StoreError> + Sync + 'a;

/// A stream as its index gives it: its first `count` records folded, its stored version,
/// and whether the index gives a record after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StreamRead {
    fold: StreamFold,
    version: u64,
    beyond: bool,
}

impl StreamRead {
    fn broken() -> StreamRead {
        StreamRead {
            fold: StreamFold::BROKEN,
            version: 0,
            beyond: true,
        }
    }
}

/// [`check_derived`] over a `read_all_bytes`, the lowest level of nodes kept with a
/// `nodes` reader, and a stream reader, so tests can damage nodes and streams without
/// implementing the whole [`Store`] trait.
fn check_derived_with(
    size: u64,
    read_all: &mut dyn FnMut(u64, usize, &mut RecordBytes) -> Result<(), StoreError>,
    (kept_from_level, nodes_of): (u8, &NodesOf<'_>),
    command_of: &CommandOf<'_>,
    stream_of: &StreamOf<'_>,
    head_size: &mut dyn FnMut() -> Result<u64, StoreError>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DerivedCheck, StoreError> {
    let mut frontier = Frontier::new();
    let mut computed: Vec<(NodeId, Hash)> = Vec::with_capacity(2 * CHUNK);
    let mut buffer = RecordBytes::new();
    let mut folds: std::collections::BTreeMap<String, StreamFold> = Default::default();
    let mut nodes = 0;
    // The command id of the record before: a command's records are consecutive, so a
    // record whose id differs from its predecessor's is its command's first.
    let mut last_command = String::new();
    let found = |nodes: u64, streams: u64, d: Derived| DerivedCheck {
        nodes,
        streams,
        differs: Some(d),
    };
    while frontier.size() < size {
        let from = frontier.size();
        let want = usize::try_from(size - from)
            .unwrap_or(usize::MAX)
            .min(CHUNK);
        read_all(from, want, &mut buffer)?;
        if buffer.is_empty() {
            return Err(StoreError::Corrupt {
                position: from,
                reason: "the ledger ends before its head".into(),
            });
        }
        let chunk: Vec<&[u8]> = buffer.iter().collect();
        computed.clear();
        // Hashing is most of this pass: in SIMD lanes on every core, as the records'
        // check does.
        let leaves = planledger_ledger::leaf_hashes(&chunk);
        for (k, bytes) in chunk.iter().enumerate() {
            let position = from + k as u64;
            let header =
                planledger_ledger::RecordHeader::parse(bytes).map_err(|e| StoreError::Corrupt {
                    position,
                    reason: format!("the record's bytes do not parse: {e}"),
                })?;
            match folds.get_mut(header.stream_id) {
                Some(f) => f.push(position),
                None => {
                    let mut f = StreamFold::default();
                    f.push(position);
                    folds.insert(header.stream_id.to_owned(), f);
                }
            }
            if header.command_id != last_command {
                last_command = header.command_id.to_owned();
                if !last_command.is_empty() && command_of(&last_command)? != Some(position) {
                    return Ok(found(nodes, 0, Derived::Command { position }));
                }
            }
        }
        // Nodes the store does not keep it computes from these same records: nothing to
        // compare.
        frontier.extend_leaves(&leaves, |id, h| {
            if id.level >= kept_from_level {
                computed.push((id, h));
            }
        });
        // In key order, so the store reads each level's nodes side by side.
        computed.sort_unstable_by_key(|c| (c.0.level, c.0.index));
        let ids: Vec<NodeId> = computed.iter().map(|c| c.0).collect();
        let stored = match nodes_of(&ids) {
            Ok(stored) => stored,
            // A node that cannot be read is one that does not match: name the first.
            Err(StoreError::Corrupt { .. }) => {
                let d = Derived::Node {
                    node: ids[0],
                    missing: false,
                };
                return Ok(found(nodes, 0, d));
            }
            Err(e) => return Err(e),
        };
        for (&(id, hash), stored) in computed.iter().zip(stored) {
            nodes += 1;
            if stored != Some(hash) {
                let d = Derived::Node {
                    node: id,
                    missing: stored.is_none(),
                };
                return Ok(found(nodes, 0, d));
            }
        }
        progress(frontier.size(), size);
    }
    // With no append since `size`, a stream's stored version is exactly its records'
    // number; with appends meanwhile (writers go on), it may be larger.
    let quiet = head_size()? == size;
    // Each stream is read on its own: spread them over the cores, and name the first
    // (in stream id order) that differs, whichever thread found it.
    let folds: Vec<(String, StreamFold)> = folds.into_iter().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = folds.len().div_ceil(threads).max(1);
    let first_bad = std::thread::scope(|scope| {
        let parts: Vec<_> = (folds.chunks(per).enumerate())
            .map(|(part, chunk)| {
                scope.spawn(move || -> Result<Option<usize>, StoreError> {
                    for (i, (stream_id, expected)) in chunk.iter().enumerate() {
                        let read = stream_of(stream_id, expected.count)?;
                        if read.fold != *expected
                            || read.version < expected.count
                            || (quiet && (read.version != expected.count || read.beyond))
                        {
                            return Ok(Some(part * per + i));
                        }
                    }
                    Ok(None)
                })
            })
            .collect();
        let mut first = None;
        for p in parts {
            let found = p.join().expect("a stream check does not panic")?;
            first = first.or(found);
        }
        Ok::<_, StoreError>(first)
    })?;
    let streams = folds.len() as u64;
    if let Some(i) = first_bad {
        let d = Derived::Stream {
            stream_id: folds[i].0.clone(),
        };
        return Ok(found(nodes, i as u64 + 1, d));
    }
    Ok(DerivedCheck {
        nodes,
        streams,
        differs: None,
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

    /// A stream's first `count` records folded as [`check_derived`] reads them, from
    /// the stream `read_as` (the index of `stream_id` pointing elsewhere when they differ).
    fn fold_stream(store: &MemoryStore, read_as: &str, count: u64) -> StreamFold {
        let mut fold = StreamFold::default();
        for r in store.read_stream(read_as, 1, count as usize).unwrap() {
            fold.push(r.position());
        }
        fold
    }

    #[test]
    fn every_commands_first_record_is_checked_against_the_command_index() {
        let store = MemoryStore::new();
        for (i, id) in ["cmd-a", "cmd-b", "cmd-c"].into_iter().enumerate() {
            store
                .append(crate::AppendBatch {
                    command_id: Some(id.into()),
                    ..batch(&format!("plan-{i}"), ExpectedVersion::NoStream, 2)
                })
                .unwrap();
        }
        let size = store.head().unwrap().size;
        assert_eq!(
            check_derived(&store, size, &mut |_, _| {}).unwrap().differs,
            None
        );
        let streams = |id: &str, count: u64| {
            let mut fold = StreamFold::default();
            for r in store.read_stream(id, 1, count as usize).unwrap() {
                fold.push(r.position());
            }
            Ok(StreamRead {
                fold,
                version: count,
                beyond: false,
            })
        };
        // An index that forgot cmd-b, or names another record for it.
        for damaged in [None, Some(3)] {
            let differs = check_derived_with(
                size,
                &mut |from, limit, out| store.read_all_bytes_into(from, limit, out),
                (0, &|ids| store.nodes(ids)),
                &|id| match id {
                    "cmd-b" => Ok(damaged),
                    id => store.command_position(id),
                },
                &streams,
                &mut || Ok(size),
                &mut |_, _| {},
            )
            .unwrap()
            .differs;
            assert_eq!(differs, Some(Derived::Command { position: 2 }));
        }
    }

    #[test]
    fn every_stored_node_and_stream_index_is_compared_and_a_damaged_one_is_named() {
        let store = filled(7); // 21 records, 3 in each of plan-0 .. plan-6
        let size = store.head().unwrap().size;
        let ok = check_derived(&store, size, &mut |_, _| {}).unwrap();
        // Every perfect subtree of 21 leaves: 21 + 10 + 5 + 2 + 1.
        assert_eq!(ok.nodes, 39);
        assert_eq!(ok.streams, 7);
        assert_eq!(ok.differs, None);
        let run = |nodes: &NodesOf<'_>, stream_of: &StreamOf<'_>, head: u64| -> Option<Derived> {
            check_derived_with(
                size,
                &mut |from, limit, out| store.read_all_bytes_into(from, limit, out),
                (0, nodes),
                &|id| store.command_position(id),
                stream_of,
                &mut || Ok(head),
                &mut |_, _| {},
            )
            .unwrap()
            .differs
        };
        let read = |fold, version| StreamRead {
            fold,
            version,
            beyond: false,
        };
        let honest = |id: &str, count: u64| Ok(read(fold_stream(&store, id, count), count));
        for (level, index) in [(0u8, 0u64), (0, 20), (2, 3), (4, 0)] {
            let target = NodeId { level, index };
            for missing in [false, true] {
                let node = |ids: &[NodeId]| {
                    let mut stored = store.nodes(ids)?;
                    for (id, s) in ids.iter().zip(&mut stored) {
                        if *id == target {
                            *s = (!missing).then_some(Hash([1; 32]));
                        }
                    }
                    Ok(stored)
                };
                let finding = run(&node, &honest, size).expect("the damaged node is found");
                assert_eq!(
                    finding,
                    Derived::Node {
                        node: target,
                        missing
                    }
                );
                let text = finding.to_string();
                let first = index << level;
                assert!(
                    text.contains(&format!("over positions {first} to")),
                    "{text}"
                );
            }
        }
        let nodes = |ids: &[NodeId]| store.nodes(ids);
        let damaged = Derived::Stream {
            stream_id: "plan-3".into(),
        };
        assert!(damaged.to_string().contains("stream index of plan-3"));
        let plan3 = Some(damaged);
        // The index of plan-3 gives plan-4's records.
        let elsewhere = |id: &str, count: u64| {
            let read_as = if id == "plan-3" { "plan-4" } else { id };
            Ok(read(fold_stream(&store, read_as, count), count))
        };
        assert_eq!(run(&nodes, &elsewhere, size), plan3);
        // It gives one record too few.
        let short = |id: &str, count: u64| {
            let n = if id == "plan-3" { count - 1 } else { count };
            Ok(read(fold_stream(&store, id, n), count))
        };
        assert_eq!(run(&nodes, &short, size), plan3);
        // Its stored version is one more than its records: found when no append came
        // meanwhile, allowed when one did.
        let ahead = |id: &str, count: u64| {
            let v = if id == "plan-3" { count + 1 } else { count };
            Ok(read(fold_stream(&store, id, count), v))
        };
        assert_eq!(run(&nodes, &ahead, size), plan3);
        assert_eq!(run(&nodes, &ahead, size + 1), None);
        // It gives records after the stream's last (as a damaged index may, without end).
        let endless = |id: &str, count: u64| {
            let mut r = read(fold_stream(&store, id, count), count);
            r.beyond = id == "plan-3";
            Ok(r)
        };
        assert_eq!(run(&nodes, &endless, size), plan3);
    }

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
        // As a store without the record would: `limit` records from `from` on, the
        // left-out one skipped.
        let read = |from: u64, limit: usize| -> Result<Vec<Vec<u8>>, StoreError> {
            store
                .read_all(from, limit + 1)?
                .into_iter()
                .filter(|r| byte.is_some() || r.position() != position)
                .take(limit)
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
        let read_into = |from: u64, limit: usize, out: &mut RecordBytes| {
            out.clear();
            for bytes in read(from, limit)? {
                out.push(&bytes);
            }
            Ok(())
        };
        let whole = verify_records(head, Verifier::new(), &read_into, &mut |_, _| {}).unwrap();
        // Read in small chunks, two side by side, the damage is found the same (how
        // many records verified before it depends on where the chunks end).
        for chunk in [1, 2, 3, 4, 7] {
            let report =
                verify_in_chunks(head, Verifier::new(), &read_into, chunk, &mut |_, _| {}).unwrap();
            assert_eq!(report.violation, whole.violation, "in chunks of {chunk}");
        }
        whole
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
    fn an_intact_store_verifies_alike_in_any_chunks() {
        let store = filled(6);
        let head = store.head().unwrap();
        let read = |from: u64, limit: usize, out: &mut RecordBytes| {
            store.read_all_bytes_into(from, limit, out)
        };
        let whole = verify_records(head, Verifier::new(), &read, &mut |_, _| {}).unwrap();
        assert!(whole.is_ok(), "{}", whole.message());
        assert_eq!((whole.records, whole.root), (18, head.root));
        for chunk in 1..=19 {
            let mut calls = Vec::new();
            let report = verify_in_chunks(head, Verifier::new(), &read, chunk, &mut |d, t| {
                calls.push((d, t))
            })
            .unwrap();
            assert_eq!(report, whole, "in chunks of {chunk}");
            assert_eq!(calls.last(), Some(&(18, 18)));
        }
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

    /// A store that answers from `inner` but with the record at `position` altered
    /// (one bit of its last byte flipped, inside the payload, so it still decodes), and
    /// without the Merkle node `hidden`: damage after a checkpoint was signed.
    struct Damaged {
        inner: MemoryStore,
        position: Option<u64>,
        hidden: Option<NodeId>,
    }

    impl Damaged {
        fn alter(&self, r: Record) -> Record {
            if Some(r.position()) != self.position {
                return r;
            }
            let mut b = r.into_bytes();
            *b.last_mut().expect("a record has bytes") ^= 0x04;
            Record::decode(b).expect("a payload byte flipped still decodes")
        }
    }

    impl Store for Damaged {
        fn append(&self, batch: crate::AppendBatch) -> Result<crate::Appended, StoreError> {
            self.inner.append(batch)
        }
        fn read_stream(
            &self,
            id: &str,
            from: u64,
            limit: usize,
        ) -> Result<Vec<Record>, StoreError> {
            let records = self.inner.read_stream(id, from, limit)?;
            Ok(records.into_iter().map(|r| self.alter(r)).collect())
        }
        fn read_all(&self, from: u64, limit: usize) -> Result<Vec<Record>, StoreError> {
            let records = self.inner.read_all(from, limit)?;
            Ok(records.into_iter().map(|r| self.alter(r)).collect())
        }
        fn head(&self) -> Result<Head, StoreError> {
            self.inner.head()
        }
        fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
            if Some(id) == self.hidden {
                return Err(StoreError::NotFound {
                    what: "the node".into(),
                });
            }
            self.inner.node(id)
        }
        fn stream_version(&self, id: &str) -> Result<u64, StoreError> {
            self.inner.stream_version(id)
        }
        fn command_position(&self, id: &str) -> Result<Option<u64>, StoreError> {
            self.inner.command_position(id)
        }
        fn derived(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.derived(name)
        }
        fn put_derived(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
            self.inner.put_derived(name, bytes)
        }
        fn append_sealed(&self, records: &[Record]) -> Result<Head, StoreError> {
            self.inner.append_sealed(records)
        }
        fn append_many(
            &self,
            batches: Vec<crate::AppendBatch>,
        ) -> Result<Vec<crate::BatchOutcome>, StoreError> {
            self.inner.append_many(batches)
        }
        fn streams_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, StoreError> {
            self.inner.streams_tagged(key, value)
        }
        fn tag_values(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
            self.inner.tag_values(key)
        }
        fn stream_tags(&self, stream: &str) -> Result<Vec<(String, String)>, StoreError> {
            self.inner.stream_tags(stream)
        }
        fn put_tags(&self, tags: &[crate::StreamTag]) -> Result<(), StoreError> {
            self.inner.put_tags(tags)
        }
        fn replace_tags(&self, tags: &[crate::StreamTag]) -> Result<(), StoreError> {
            self.inner.replace_tags(tags)
        }

        fn streams_tagged_between(
            &self,
            key: &str,
            from: &str,
            to: &str,
        ) -> Result<Vec<(String, String)>, StoreError> {
            self.inner.streams_tagged_between(key, from, to)
        }

        fn summaries(
            &self,
            ids: &[String],
        ) -> Result<Vec<Option<crate::StreamSummary>>, StoreError> {
            self.inner.summaries(ids)
        }

        fn summaries_after(
            &self,
            after: &str,
            limit: usize,
        ) -> Result<Vec<(String, crate::StreamSummary)>, StoreError> {
            self.inner.summaries_after(after, limit)
        }

        fn put_summaries(
            &self,
            summaries: &[(String, crate::StreamSummary)],
        ) -> Result<(), StoreError> {
            self.inner.put_summaries(summaries)
        }

        fn forget_streams(&self, stream_ids: &[String]) -> Result<(), StoreError> {
            self.inner.forget_streams(stream_ids)
        }
    }

    /// The tree head of the first `size` records of `store`, as a checkpoint signs it.
    fn checkpoint_of(store: &dyn Store, size: u64) -> TreeHead {
        let root = planledger_ledger::tree_root(&StoreNodes(store), size).unwrap();
        TreeHead { size, root }
    }

    fn damaged(position: Option<u64>, hidden: Option<NodeId>) -> Damaged {
        Damaged {
            inner: filled(10),
            position,
            hidden,
        }
    }

    #[test]
    fn intact_ledger_verifies_from_any_checkpoint() {
        let s = filled(10);
        let head = s.head().unwrap();
        for size in [0, 1, 13, 16, 29, 30] {
            let mut calls = Vec::new();
            let cp = checkpoint_of(&s, size);
            let r = verify_store_since(&s, cp, &mut |d, t| calls.push((d, t))).unwrap();
            assert!(r.is_ok(), "from {size}: {}", r.message());
            assert_eq!((r.from, r.records), (size, 30 - size));
            assert_eq!((r.last_hash, r.root), (head.last_hash, head.root));
            assert_eq!(
                calls.last(),
                Some(&(30, 30)),
                "progress in ledger positions"
            );
        }
    }

    #[test]
    fn ledger_shorter_than_the_checkpoint_misses_records() {
        let cp = checkpoint_of(&filled(10), 30);
        let r = verify_store_since(&filled(5), cp, &mut |_, _| {}).unwrap();
        let v = r.violation.expect("the truncation is found");
        assert_eq!(v.position, 15, "the first missing position");
        assert!(matches!(
            v.kind,
            ViolationKind::MissingRecords {
                size: 30,
                by: RootSource::Checkpoint
            }
        ));
        assert_eq!((r.from, r.records), (30, 0));
    }

    #[test]
    fn record_altered_after_the_checkpoint_is_found_at_its_position() {
        let s = damaged(Some(20), None);
        let cp = checkpoint_of(&s.inner, 13);
        let r = verify_store_since(&s, cp, &mut |_, _| {}).unwrap();
        let v = r.violation.expect("the alteration is found");
        assert_eq!(v.position, 20, "{v}");
        assert_eq!(r.from, 13);
        // Records before the checkpoint are not read: damage there is the signature's
        // business, found by a full verification.
        let s = damaged(Some(5), None);
        let r = verify_store_since(&s, checkpoint_of(&s.inner, 13), &mut |_, _| {}).unwrap();
        assert!(r.is_ok(), "{}", r.message());
    }

    #[test]
    fn checkpoint_root_that_does_not_match_the_stored_tree_fails() {
        let s = filled(10);
        let cp = TreeHead {
            size: 13,
            root: Hash([1; 32]),
        };
        let r = verify_store_since(&s, cp, &mut |_, _| {}).unwrap();
        let v = r.violation.expect("the mismatch is found");
        assert_eq!(v.position, 12);
        let ViolationKind::RootMismatch {
            size: 13,
            expected,
            computed,
            by: RootSource::Checkpoint,
        } = v.kind
        else {
            panic!("{v}");
        };
        assert_eq!(expected, cp.root);
        assert_eq!(computed, checkpoint_of(&s, 13).root);
    }

    #[test]
    fn altered_last_record_of_the_checkpoint_is_not_in_its_tree() {
        // The stored nodes still fold to the signed root; only the record is altered.
        // Without the inclusion check the verifier would trust its hash as the start
        // of the chain and blame record 13's link instead.
        let s = damaged(Some(12), None);
        let cp = checkpoint_of(&s.inner, 13);
        let r = verify_store_since(&s, cp, &mut |_, _| {}).unwrap();
        let v = r.violation.expect("the alteration is found");
        assert_eq!(v.position, 12, "{v}");
        assert!(matches!(
            v.kind,
            ViolationKind::RootMismatch { size: 13, .. }
        ));
        assert_eq!(r.records, 0, "found before reading on");
    }

    #[test]
    fn missing_node_of_the_checkpoint_tree_is_a_violation() {
        // Size 13 = 8 + 4 + 1: the peak (level 2, index 2) covers leaves 8..12.
        let s = damaged(None, Some(NodeId { level: 2, index: 2 }));
        let r = verify_store_since(&s, checkpoint_of(&s.inner, 13), &mut |_, _| {}).unwrap();
        let v = r.violation.expect("the missing node is found");
        assert_eq!(v.position, 12);
        assert!(matches!(v.kind, ViolationKind::Unreadable { .. }), "{v}");
        // Size 14 = 8 + 4 + 2: the leaf node 12 lies inside the last peak, so only the
        // inclusion proof of record 13 needs it (as its sibling).
        let s = damaged(
            None,
            Some(NodeId {
                level: 0,
                index: 12,
            }),
        );
        let r = verify_store_since(&s, checkpoint_of(&s.inner, 14), &mut |_, _| {}).unwrap();
        let v = r.violation.expect("the missing node is found");
        assert_eq!(v.position, 13);
        assert!(matches!(v.kind, ViolationKind::Unreadable { .. }), "{v}");
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
