//! The store conformance suite on redb: one line per check, each on a fresh file.

use planledger_store::conformance as c;
use planledger_store_redb::RedbStore;
use tempfile::TempDir;

/// A new store in its own temporary directory (removed when the test ends).
fn fresh() -> (RedbStore, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = RedbStore::create(dir.path().join("ledger.redb")).expect("create store");
    (store, dir)
}

fn check(f: fn(&dyn planledger_store::Store)) {
    let (store, _dir) = fresh();
    f(&store);
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
    let ((source, _d1), (target, _d2)) = (fresh(), fresh());
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
