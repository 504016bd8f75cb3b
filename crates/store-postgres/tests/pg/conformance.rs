//! The store conformance suite on PostgreSQL: one line per check, each on a fresh
//! ledger of its own in a freshly migrated database of the shared test server.

use crate::migrated_db;

use planledger_store::{Store, conformance as c};
use planledger_store_postgres::PostgresStore;

/// A new, empty ledger in a new database.
fn fresh() -> PostgresStore {
    let url = migrated_db();
    PostgresStore::create(&url, "conformance").expect("create the ledger")
}

fn check(f: fn(&dyn Store)) {
    f(&fresh());
}

#[test]
fn empty_store_has_empty_head() {
    check(c::empty_store_has_empty_head);
}
#[test]
fn positions_are_gapless_and_in_append_order() {
    check(c::positions_are_gapless_and_in_append_order);
}
#[test]
fn stream_versions_start_at_one_and_are_gapless() {
    check(c::stream_versions_start_at_one_and_are_gapless);
}
#[test]
fn stale_expected_version_is_a_conflict_and_writes_nothing() {
    check(c::stale_expected_version_is_a_conflict_and_writes_nothing);
}
#[test]
fn empty_batch_is_rejected_and_writes_nothing() {
    check(c::empty_batch_is_rejected_and_writes_nothing);
}
#[test]
fn batch_with_an_unsealable_event_writes_nothing() {
    check(c::batch_with_an_unsealable_event_writes_nothing);
}
#[test]
fn read_stream_starts_at_version_and_respects_limit() {
    check(c::read_stream_starts_at_version_and_respects_limit);
}
#[test]
fn read_all_starts_at_position_and_respects_limit() {
    check(c::read_all_starts_at_position_and_respects_limit);
}
#[test]
fn head_matches_frontier_recomputed_from_records() {
    check(c::head_matches_frontier_recomputed_from_records);
}
#[test]
fn node_returns_every_completed_subtree_and_only_those() {
    check(c::node_returns_every_completed_subtree_and_only_those);
}
#[test]
fn append_sealed_rejects_records_that_do_not_continue() {
    check(c::append_sealed_rejects_records_that_do_not_continue);
}
#[test]
fn append_sealed_copies_identically() {
    c::append_sealed_copies_identically(&fresh(), &fresh());
}
#[test]
fn append_sealed_copies_identically_between_ledgers_of_one_database() {
    let url = migrated_db();
    let source = PostgresStore::create(&url, "org-a").expect("create org-a");
    let target = PostgresStore::create(&url, "org-b").expect("create org-b");
    c::append_sealed_copies_identically(&source, &target);
}
#[test]
fn concurrent_appends_keep_one_valid_chain() {
    check(c::concurrent_appends_keep_one_valid_chain);
}
#[test]
fn readers_see_only_whole_batches() {
    check(c::readers_see_only_whole_batches);
}
#[test]
fn snapshots_replace_by_name_and_never_run_ahead() {
    check(c::snapshots_replace_by_name_and_never_run_ahead);
}
#[test]
fn read_all_bytes_gives_the_stored_bytes_of_read_all() {
    check(c::read_all_bytes_gives_the_stored_bytes_of_read_all);
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
