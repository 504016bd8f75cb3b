//! The ledger core of planledger: how an event becomes a sealed, hash-chained record, how
//! records become leaves of a Merkle tree, and how anyone can check both later.
//!
//! This crate does no I/O and knows nothing of plans: a stream id, an actor and an event
//! type are opaque strings here. The byte layout of a record and every hash input are
//! specified in `FORMAT.md` at the repository root; that document, not this code, is the
//! contract a verifier in another language is written against.
//!
//! The parts, in the order a record meets them:
//!
//! - [`seal`] turns an [`Entry`] into a [`Record`] at a position, chained to the previous
//!   record's hash; [`Record::decode`] reads stored bytes back, rejecting anything that
//!   is not exactly one record.
//! - [`Frontier`] appends record hashes to the Merkle tree incrementally and reports the
//!   perfect-subtree nodes ([`NodeId`]) a store keeps.
//! - [`inclusion_proof`] and [`consistency_proof`] build RFC 9162 proofs from any
//!   [`NodeSource`] (a store, or [`MemoryTree`]); [`InclusionProof::verify`] and
//!   [`ConsistencyProof::verify`] check every field.
//! - [`CheckpointSigner`] signs a [`Checkpoint`] (a tree head with origin and time) as a
//!   C2SP signed note; [`Checkpoint::verify`] opens one with [`CheckpointVerifier`]s.
//! - [`WitnessSigner`] cosigns a checkpoint as an independent witness (C2SP
//!   `tlog-cosignature`), once [`check_request`] has shown that an [`AddCheckpoint`]
//!   request extends what it cosigned before; [`WitnessPolicy`] checks "these witness
//!   keys, at least K of them".
//! - [`Verifier`] checks a range of stored records, fed in chunks and hashed in
//!   parallel, and names the first [`Violation`].
//! - [`Map`] is the authenticated map a checkpoint commits beside the log (its
//!   `map_root`): stream → length and last record ([`stream_key`], [`stream_value`]),
//!   client under a keyed salt → the client's plans ([`client_key`], [`client_value`]);
//!   [`MapProof`] proves a key's value or its absence.
//!
//! ```
//! use planledger_ledger::{
//!     seal, Actor, Entry, Envelope, Frontier, Hash, Record, TreeHead, Verifier,
//! };
//!
//! let entry = Entry {
//!     stream_id: "plan-0001".into(),
//!     stream_version: 1,
//!     claimed_at_micros: 1_700_000_000_000_000,
//!     command_id: String::new(),
//!     actor: Actor { user_id: "u-17".into(), role: "key_worker".into() },
//!     event_type: "plan_drafted".into(),
//!     schema_version: 1,
//!     envelope: Envelope::plaintext(),
//!     payload: b"{}".to_vec(),
//! };
//! // The store seals with its own clock (here 2 s after the time the entry claims).
//! let record = seal(0, Hash::ZERO, 1_700_000_002_000_000, &entry).unwrap();
//! // Verification re-reads the stored bytes, never a re-encoding.
//! let reread = Record::decode(record.bytes().to_vec()).unwrap();
//! assert_eq!(reread.hash(), record.hash());
//!
//! let mut tree = Frontier::new();
//! tree.push(record.hash(), |_node, _hash| {});
//! assert_eq!(tree.size(), 1);
//!
//! // Anyone holding the stored bytes can check them against a tree head.
//! let mut verifier = Verifier::new();
//! verifier.expect_root(TreeHead { size: 1, root: tree.root() }).unwrap();
//! verifier.feed(&[record.bytes()]).unwrap();
//! assert_eq!(verifier.finish(None).unwrap().end, 1);
//! ```

mod checkpoint;
mod hash;
pub mod lanes;
mod map;
mod merkle;
mod proof;
mod record;
mod verify;
mod witness;

pub use checkpoint::{
    Checkpoint, CheckpointError, CheckpointSigner, CheckpointVerifier, NoteSignature, SignedNote,
    TreeHead,
};
pub use hash::{Hash, HashParseError};
pub use map::{
    MAP_EMPTY, Map, MapError, MapProof, MapProofEnd, MapProofError, client_key, client_salt,
    client_value, key_bit, map_leaf_hash, map_node_hash, map_value_hash, stream_key, stream_value,
};
pub use merkle::{
    Frontier, NodeId, empty_root, leaf_hash, leaf_hashes, node_hash, peak_ids, peak_ids_from,
};
pub use proof::{
    ConsistencyProof, InclusionProof, InvalidProof, MemoryTree, MissingNode, NodeSource,
    ProofError, consistency_proof, inclusion_proof, tree_root,
};
pub use record::{
    Actor, Entry, Envelope, FORMAT_VERSION, FormatError, LAYOUT_1, Record, RecordHeader,
    hash_record_bytes, payload_ad, seal, seal_layout1,
};
pub use verify::{
    ClaimedEnd, RootSource, Seal, UncheckableHead, Verified, Verifier, Violation, ViolationKind,
    Witness,
};
pub use witness::{
    AddCheckpoint, COSIGNATURE_V1, Cosignature, CosignatureError, MAX_COSIGNATURE_TIME,
    MAX_PROOF_LINES, Refusal, RequestError, WitnessPolicy, WitnessSigner, WitnessVerifier,
    check_request, cosigned_message,
};
