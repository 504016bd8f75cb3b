//! Why a fold stopped. Every error names the record's position; none carries payload
//! contents, so a message can go to a log as it is.

use planledger_plan::{EntryError, IdError};
use planledger_store::StoreError;

/// Why the projection could not fold a record. The projection is left at the record
/// that failed ([`crate::Projection::position`]): everything before it is folded,
/// nothing of it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectionError {
    /// The store's tags are not an index this build reads (none, or another version).
    #[error(
        "the ledger's plan index is {}; rebuild it from the records with `planledger reindex`",
        match found { Some(v) => format!("of version {v}, not {}", crate::INDEX_VERSION), None => "missing (the ledger was copied or written by an older build)".to_owned() }
    )]
    Index { found: Option<String> },
    /// A stored summary does not decode: derived data damaged or of another build.
    #[error(
        "the read model's summary of plan {stream} does not decode: rebuild it from the records with `planledger reindex`"
    )]
    Summary { stream: String },
    #[error("reading the store: {0}")]
    Store(#[from] StoreError),
    /// The record is not an event of a plan: its payload does not decode (or is not the
    /// event type the record names), it is encrypted, or its actor or time is invalid.
    #[error("record {position} is not an event of a plan: {source}")]
    Entry {
        position: u64,
        #[source]
        source: EntryError,
    },
    #[error("record {position} has a stream id that is not a plan id: {source}")]
    StreamId {
        position: u64,
        #[source]
        source: IdError,
    },
    /// The store's stream index named a record of another stream.
    #[error(
        "the store's index gives record {position} for a plan it does not belong to: \
         the index beside the records is damaged; verify the ledger"
    )]
    OtherStream { position: u64 },
    #[error(
        "record {position} is version {found} of its stream, but the stream's next version is {expected}"
    )]
    StreamVersion {
        position: u64,
        expected: u64,
        found: u64,
    },
    #[error("the store returned position {found} where position {expected} was next")]
    Position { expected: u64, found: u64 },
    #[error(
        "this projection has folded {position} records but the ledger holds {size}: \
         the ledger was truncated or this projection belongs to another ledger; verify the ledger"
    )]
    LedgerShorter { position: u64, size: u64 },
    #[error(
        "record {position} does not follow the record this projection folded last (its predecessor hash differs): \
         the ledger was rewritten or this projection belongs to another ledger; verify the ledger"
    )]
    Diverged { position: u64 },
}
