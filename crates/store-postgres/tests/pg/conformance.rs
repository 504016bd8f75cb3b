//! The store conformance suite on PostgreSQL: one test per check, each on a fresh
//! ledger of its own in a freshly migrated database of the shared test server.

use crate::migrated_db;

use planledger_store::conformance as c;
use planledger_store_postgres::PostgresStore;

/// A new, empty ledger in a new database.
fn fresh() -> PostgresStore {
    let url = migrated_db();
    PostgresStore::create(&url, "conformance").expect("create the ledger")
}

planledger_store::conformance_tests!(fresh);

#[test]
fn append_sealed_copies_identically_between_ledgers_of_one_database() {
    let url = migrated_db();
    let source = PostgresStore::create(&url, "org-a").expect("create org-a");
    let target = PostgresStore::create(&url, "org-b").expect("create org-b");
    c::append_sealed_copies_identically(&source, &target);
}
#[test]
fn reopen_keeps_records_and_head() {
    let url = migrated_db();
    let mut first = true;
    c::reopen_keeps_records_and_head(|| {
        if std::mem::take(&mut first) {
            PostgresStore::create(&url, "org-a").expect("create the ledger")
        } else {
            PostgresStore::open(&url, "org-a").expect("reopen the ledger")
        }
    });
}
