//! The store conformance suite on redb: one test per check, each on a fresh file.

use planledger_store::conformance as c;
use planledger_store_redb::RedbStore;
use tempfile::TempDir;

/// A new store in its own temporary directory (removed when the test ends).
fn fresh() -> (RedbStore, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = RedbStore::create(dir.path().join("ledger.redb")).expect("create store");
    (store, dir)
}

planledger_store::conformance_tests!(fresh);

#[test]
fn reopen_keeps_records_and_head() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.redb");
    c::reopen_keeps_records_and_head(|| {
        if path.exists() {
            RedbStore::open(&path).expect("reopen store")
        } else {
            RedbStore::create(&path).expect("create store")
        }
    });
}
