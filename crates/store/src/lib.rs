//! Storage for planledger: the [`Store`] trait every backend implements, the sealing
//! step ([`Chain`]) and the group commit ([`GroupCommit`]) they share, an in-memory
//! store for tests, the conformance suite that every backend must pass, and
//! verification of a whole store or of the records after a signed checkpoint. Beside
//! the records a store keeps stream tags ([`StreamTag`]): the index readers use to find
//! a plan by its unit or client without reading the ledger.
//!
//! A store holds one ledger: a gapless sequence of sealed records (positions 0, 1, …),
//! partitioned into streams (one per plan) whose versions start at 1. An append is a
//! batch of events for one stream, checked against the version the caller expects
//! (optimistic concurrency), sealed into records under the store's write lock, and
//! durable before `append` returns.

mod chain;
pub mod conformance;
mod copy;
pub mod group;
mod memory;
mod verify;

pub use chain::{Chain, NodeHashes, clock_micros};
pub use copy::copy_ledger;
pub use group::{BatchOutcome, GroupCommit, GroupCommitError};
pub use memory::MemoryStore;
pub use verify::{
    Derived, DerivedCheck, StoreNodes, VerifyReport, check_derived, verify_store,
    verify_store_from, verify_store_since,
};

use planledger_ledger::{Actor, Envelope, FormatError, Hash, NodeId, Record};

/// The stored bytes of consecutive records in one buffer, reused from read to read
/// ([`Store::read_all_bytes_into`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordBytes {
    bytes: Vec<u8>,
    /// Where each record's bytes end in `bytes`.
    ends: Vec<usize>,
}

impl RecordBytes {
    pub fn new() -> RecordBytes {
        RecordBytes::default()
    }

    /// Forgets the records, keeping the memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Appends one record's stored bytes.
    pub fn push(&mut self, record: &[u8]) {
        self.bytes.extend_from_slice(record);
        self.ends.push(self.bytes.len());
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each record's stored bytes, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.ends.len()).map(|i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.bytes[start..self.ends[i]]
        })
    }
}

/// What the caller expects the stream's current version to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last version must be exactly this.
    Exact(u64),
    /// No check (for streams with a single writer by construction).
    Any,
}

impl ExpectedVersion {
    /// Whether a stream whose last version is `current` (0: no stream) satisfies this.
    pub fn admits(self, current: u64) -> bool {
        match self {
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(v) => current == v,
            ExpectedVersion::Any => true,
        }
    }
}

/// One event of a batch, before sealing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: u16,
    pub envelope: Envelope,
    pub payload: Vec<u8>,
}

/// A batch of events for one stream: all of it is appended, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendBatch {
    pub stream_id: String,
    pub expected: ExpectedVersion,
    pub actor: Actor,
    /// When the events happened, as the caller claims (UTC µs). The store seals the
    /// records at its own time, whatever this says.
    pub claimed_at_micros: i64,
    /// The source system's id of the command the batch records, carried by each of its
    /// records: a store that holds the id already refuses the batch
    /// ([`StoreError::AlreadyRecorded`]), so a command is recorded once however often
    /// it is sent. At most 255 bytes; never personal data.
    pub command_id: Option<String>,
    pub events: Vec<NewEvent>,
    /// Tags set on the stream with the batch, `(key, value)`, each replacing the
    /// stream's value for its key, in the same transaction (see [`StreamTag`]).
    pub tags: Vec<(String, String)>,
    /// The stream's summary after the batch (see [`StreamSummary`]), stored in the same
    /// transaction as the stream version the batch ends at; `None` leaves it as it is.
    pub summary: Option<Vec<u8>>,
}

/// What a reader knows of a stream without reading its records: derived bytes (the read
/// model's state of a plan) and the stream version they were derived at. Kept by the
/// store beside the records, written in the transaction of the append they describe or
/// by a rebuild, never hashed, and checked against the records by whoever derives them.
/// A summary never replaces one of a later stream version, so a rebuild running beside
/// writers cannot put an older summary over a newer one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    pub stream_version: u64,
    pub bytes: Vec<u8>,
}

/// A tag of a stream: what the stream is about (a plan's unit, its client), kept by the
/// store beside the records so that a reader finds the streams it needs without reading
/// the ledger. A stream has at most one value per key. Tags are derived data: set in the
/// transaction of the append that carries them, rebuilt from the records when what they
/// are derived from changes ([`Store::replace_tags`]), never hashed, and checked against
/// the records by whoever derives them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamTag {
    pub stream_id: String,
    pub key: String,
    pub value: String,
}

/// The head of a ledger: how many records it holds, the last record's hash, and the
/// Merkle tree root over all record hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Number of records, which is also the next position and the tree size.
    pub size: u64,
    /// Hash of the record at `size - 1`, or [`Hash::ZERO`] for an empty ledger.
    pub last_hash: Hash,
    /// Merkle tree root over the `size` record hashes.
    pub root: Hash,
}

/// What an acknowledged append wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Position of the batch's first record.
    pub first_position: u64,
    /// The stream's version after the batch (the last record's stream version).
    pub stream_version: u64,
    /// The ledger head right after the batch.
    pub head: Head,
    /// When the store sealed the batch's records, by its clock (UTC µs).
    pub sealed_at_micros: i64,
}

/// A store of one ledger. Implementations are shared between threads.
pub trait Store: Send + Sync {
    /// Appends `batch` atomically, sealed and chained; returns only once it is durable.
    /// A stale `expected` version is [`StoreError::Conflict`] and writes nothing; so is
    /// an empty batch ([`StoreError::EmptyBatch`]).
    fn append(&self, batch: AppendBatch) -> Result<Appended, StoreError>;

    /// Appends `batches` in order in one commit, durable when it returns: each is
    /// checked and sealed on its own, on top of the ones before, so a stale or empty
    /// one fails alone (and a later batch of its stream, which expected it, conflicts).
    /// The outcomes are in the batches' order. `Err` only when the commit itself
    /// failed, and then nothing of them was written.
    fn append_many(&self, batches: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError>;

    /// Records of one stream with version `>= from_version`, in version order, at most
    /// `limit`. An unknown stream gives an empty list.
    fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError>;

    /// Records with position `>= from_position`, in position order, at most `limit`.
    fn read_all(&self, from_position: u64, limit: usize) -> Result<Vec<Record>, StoreError>;

    /// The stored bytes of the records [`Store::read_all`] would return, undecoded. For
    /// verification, which hashes the bytes as stored and parses them itself: a backend
    /// whose decoding costs more than copying (redb) overrides this.
    fn read_all_bytes(&self, from_position: u64, limit: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let records = self.read_all(from_position, limit)?;
        Ok(records.into_iter().map(Record::into_bytes).collect())
    }

    /// [`Store::read_all_bytes`] into `out` (cleared first): the stored bytes one after
    /// another in one buffer the caller keeps from chunk to chunk, so that reading
    /// allocates nothing per record. Verification reads this way; a backend that can
    /// copy its stored values straight into the buffer (redb) overrides this.
    fn read_all_bytes_into(
        &self,
        from_position: u64,
        limit: usize,
        out: &mut RecordBytes,
    ) -> Result<(), StoreError> {
        out.clear();
        for bytes in self.read_all_bytes(from_position, limit)? {
            out.push(&bytes);
        }
        Ok(())
    }

    /// The current head.
    fn head(&self) -> Result<Head, StoreError>;

    /// A perfect-subtree node of the Merkle tree (see [`NodeId`]), for proofs.
    /// `StoreError::NotFound` if the node is not complete yet.
    fn node(&self, id: NodeId) -> Result<Hash, StoreError>;

    /// The stored nodes `ids` (each `None` when not stored), in order: what `verify`
    /// compares with the tree recomputed from the records ([`check_derived`]). The default
    /// asks [`Store::node`] once per node; a backend that can read many in one
    /// transaction (redb) overrides it.
    fn nodes(&self, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, StoreError> {
        ids.iter()
            .map(|&id| match self.node(id) {
                Ok(h) => Ok(Some(h)),
                Err(StoreError::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            })
            .collect()
    }

    /// The lowest level of the Merkle tree whose nodes this store keeps: below it,
    /// [`Store::node`] and [`Store::nodes`] compute a node from the records it covers
    /// (a leaf from its record, a node of level `l` from `2^l` records), so `verify`
    /// compares only the nodes kept from this level up. 0: every node is kept.
    fn nodes_kept_from_level(&self) -> u8 {
        0
    }

    /// The current version of a stream; 0 if it does not exist.
    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError>;

    /// The position of the first record of the command with id `command_id`, if the
    /// ledger holds it (see [`AppendBatch::command_id`]).
    fn command_position(&self, command_id: &str) -> Result<Option<u64>, StoreError>;

    /// Appends records sealed elsewhere (copying a ledger between backends), keeping
    /// their bytes. Each must continue the chain: position = size, prev hash = last
    /// hash, stream version = the stream's version + 1; otherwise nothing is written
    /// and the error ([`StoreError::NotContinuing`]) names the first record that does
    /// not fit. An empty slice writes nothing and returns the head. Durable on return.
    /// Backends check with [`Chain::accept_sealed`].
    fn append_sealed(&self, records: &[Record]) -> Result<Head, StoreError>;

    /// The streams whose tag `key` has `value`, by stream id.
    fn streams_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, StoreError>;

    /// The streams whose tag `key` has a value in `from..to` (byte order), as `(value,
    /// stream id)`, by value then stream.
    fn streams_tagged_between(
        &self,
        key: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// Every stream's value of the tag `key`, as `(value, stream id)`, by value then
    /// stream.
    fn tag_values(&self, key: &str) -> Result<Vec<(String, String)>, StoreError>;

    /// A stream's tags, as `(key, value)`, by key.
    fn stream_tags(&self, stream_id: &str) -> Result<Vec<(String, String)>, StoreError>;

    /// Sets `tags`, each replacing its stream's value for its key; durable on return.
    fn put_tags(&self, tags: &[StreamTag]) -> Result<(), StoreError>;

    /// Replaces every tag of the store with `tags` in one transaction (a rebuild from
    /// the records); durable on return. Readers see the old set or the new, never a mix.
    fn replace_tags(&self, tags: &[StreamTag]) -> Result<(), StoreError>;

    /// The summaries of `stream_ids`, in the order asked; `None` for a stream without one.
    fn summaries(&self, stream_ids: &[String]) -> Result<Vec<Option<StreamSummary>>, StoreError>;

    /// The summaries of the streams whose id sorts after `after` (every stream for
    /// `""`), by stream id, at most `limit`: a reader pages through all of them.
    fn summaries_after(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, StreamSummary)>, StoreError>;

    /// Stores `summaries`, each unless its stream's stored summary is of a later stream
    /// version; durable on return.
    fn put_summaries(&self, summaries: &[(String, StreamSummary)]) -> Result<(), StoreError>;

    /// Removes every tag and the summary of each of `stream_ids` in one transaction,
    /// durable on return (weeding: the read model forgets a weeded client's plans; the
    /// records stay). Streams without any are ignored.
    fn forget_streams(&self, stream_ids: &[String]) -> Result<(), StoreError>;

    /// The data key (32 bytes) that `key_id` names in records' envelopes (FORMAT.md §9),
    /// for an evidence bundle of that key's client, which carries it so that its
    /// recipient can read the client's records (FORMAT.md §11, `data_keys`). `None` when
    /// this store encrypts nothing (every backend: encryption is a layer above them), and
    /// when the key is unknown or destroyed (a weeded client's).
    fn data_key_for_bundle(&self, key_id: &[u8]) -> Result<Option<[u8; 32]>, StoreError> {
        let _ = key_id;
        Ok(None)
    }

    /// Derived bytes the application keeps under `name` beside the records (what a
    /// prover resumes from, such as the map's leaves as of a checkpoint), if any. Never
    /// hashed: whoever reads them checks them against what was signed.
    fn derived(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Replaces the derived bytes under `name`; durable on return.
    fn put_derived(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError>;
}

/// Errors of every store operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error(
        "version conflict on stream {stream_id}: expected {expected:?}, but its version is {actual}; \
         re-read the stream and retry"
    )]
    Conflict {
        stream_id: String,
        expected: ExpectedVersion,
        actual: u64,
    },
    #[error("an append needs at least one event")]
    EmptyBatch,
    /// The batch's command id is the id of a command the ledger holds already, whose
    /// first record is at `position`; nothing of the batch was written.
    #[error("this command was recorded already, at position {position}; it is not recorded again")]
    AlreadyRecorded { position: u64 },
    /// A record given to [`Store::append_sealed`] does not continue the ledger (wrong
    /// position, predecessor hash or stream version); nothing of the call was written.
    #[error("record at position {position} does not continue the ledger: {reason}")]
    NotContinuing { position: u64, reason: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("the stored ledger is inconsistent at position {position}: {reason}")]
    Corrupt { position: u64, reason: String },
    #[error("record cannot be sealed: {0}")]
    Format(#[from] FormatError),
    #[error("storage backend: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}
