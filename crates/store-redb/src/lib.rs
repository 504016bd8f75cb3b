//! planledger's embedded default store: one [redb](https://docs.rs/redb) file, no server.
//!
//! Every append is committed with [`redb::Durability::Immediate`]: when
//! [`Store::append`](planledger_store::Store::append) returns, the records are on disk
//! (redb's commit writes checksummed pages and fsyncs). Appenders that arrive while a
//! commit is running queue up, and the next of them commits all their batches in one
//! write transaction with one fsync (group commit, [`planledger_store::GroupCommit`]), so throughput grows with the number
//! of concurrent writers while each batch still succeeds or fails on its own.
//!
//! The file holds four tables: records by position, a stream index
//! `(stream id, version) -> position`, the Merkle tree's perfect-subtree nodes
//! `(level, index) -> hash`, and the head (size, last hash, root, frontier peaks).
//! Opening a store checks the stored head against the last record and the stored
//! nodes; a mismatch is [`StoreError::Corrupt`](planledger_store::StoreError::Corrupt)
//! and is never repaired silently.
//!
//! ```
//! use planledger_store::{Store, conformance};
//! use planledger_store_redb::RedbStore;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("ledger.redb");
//! let store = RedbStore::create(&path).unwrap();
//! store.append(conformance::batch("plan-1", planledger_store::ExpectedVersion::NoStream, 2)).unwrap();
//! drop(store);
//! let store = RedbStore::open(&path).unwrap();
//! assert_eq!(store.head().unwrap().size, 2);
//! ```

mod layout;
mod store;

pub use layout::LAYOUT;
pub use store::{OpenError, RedbStore};
