//! The conformance suite: the rules every [`Store`] backend must keep, as checks that
//! every backend runs (as rustls runs one API suite against every provider).
//!
//! Each check takes freshly created, empty stores and panics with a message naming the
//! rule it found broken. A backend's tests instantiate them all with
//! [`conformance_tests!`](crate::conformance_tests), one `#[test]` per check, so the
//! list of checks exists once; [`run_all`] runs the same checks in one call. Persistent
//! backends also call [`reopen_keeps_records_and_head`].
//!
//! ```
//! use planledger_store::{MemoryStore, conformance};
//!
//! conformance::positions_are_gapless_and_in_append_order(&MemoryStore::new());
//! ```
//!
//! The events are synthetic: no personal data appears in stores, logs or panics.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use planledger_ledger::{Actor, Envelope, Frontier, Hash, NodeId, Record, empty_root};

use crate::{
    AppendBatch, Chain, ExpectedVersion, Head, NewEvent, Store, StoreError, StreamSummary,
    StreamTag,
};

/// A check on one fresh, empty store.
pub type Check = fn(&dyn Store);

/// Every check that needs only one fresh store, by name: the list
/// [`conformance_tests!`](crate::conformance_tests) makes one test of each.
pub const CHECKS: &[(&str, Check)] = crate::__conformance_checks!(table);

/// The checks that need only one fresh store, listed once: [`CHECKS`] and
/// [`conformance_tests!`](crate::conformance_tests) are both expanded from this list, so
/// a check added here is run on every backend. `$mode` is `table` (the entries of
/// [`CHECKS`]) or `tests (fresh)` (one `#[test]` per check).
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_checks {
    (@list (table) $($check:ident)*) => {
        &[$((
            stringify!($check),
            $crate::conformance::$check as $crate::conformance::Check,
        )),*]
    };
    (@list (tests ($fresh:expr)) $($check:ident)*) => {
        $(
            #[test]
            fn $check() {
                let fresh = $fresh;
                let store = fresh();
                $crate::conformance::$check($crate::conformance::FreshStore::store(&store));
            }
        )*
    };
    ($($mode:tt)*) => {
        $crate::__conformance_checks! { @list ($($mode)*)
            empty_store_has_empty_head
            positions_are_gapless_and_in_append_order
            stream_versions_start_at_one_and_are_gapless
            stale_expected_version_is_a_conflict_and_writes_nothing
            empty_batch_is_rejected_and_writes_nothing
            batch_with_an_unsealable_event_writes_nothing
            read_stream_starts_at_version_and_respects_limit
            read_all_starts_at_position_and_respects_limit
            head_matches_frontier_recomputed_from_records
            node_returns_every_completed_subtree_and_only_those
            append_sealed_rejects_records_that_do_not_continue
            records_are_sealed_by_the_store_clock_never_going_back
            a_command_id_is_recorded_once
            derived_bytes_are_kept_by_name
            concurrent_appends_keep_one_valid_chain
            readers_see_only_whole_batches
            append_tags_are_found_by_value_and_replace_by_key
            put_and_replace_tags
            append_many_keeps_order_and_fails_batches_alone
            read_all_bytes_gives_the_stored_bytes_of_read_all
            tags_are_found_by_a_range_of_values
            summaries_follow_appends_and_never_go_back
            summaries_page_by_stream_id
            forgotten_streams_lose_their_tags_and_summaries
        }
    };
}

/// The conformance suite as tests of a backend: one `#[test]` per check, named after
/// it, each on a new store from `fresh` (a function or closure returning a new, empty
/// store, or a store and something that must live as long as it, such as its temporary
/// directory: see [`FreshStore`](crate::conformance::FreshStore)). Covers
/// [`CHECKS`](crate::conformance::CHECKS) and
/// [`append_sealed_copies_identically`](crate::conformance::append_sealed_copies_identically)
/// (on two fresh stores). Persistent backends add a test of
/// [`reopen_keeps_records_and_head`](crate::conformance::reopen_keeps_records_and_head)
/// themselves: how to reopen is theirs.
///
/// ```
/// mod memory_conformance {
///     planledger_store::conformance_tests!(planledger_store::MemoryStore::new);
/// }
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr $(,)?) => {
        $crate::__conformance_checks! { tests ($fresh) }

        #[test]
        fn append_sealed_copies_identically() {
            let fresh = $fresh;
            let (source, target) = (fresh(), fresh());
            $crate::conformance::append_sealed_copies_identically(
                $crate::conformance::FreshStore::store(&source),
                $crate::conformance::FreshStore::store(&target),
            );
        }
    };
}

/// What `fresh` of [`conformance_tests!`](crate::conformance_tests) returns: a store, or
/// a pair of a store and a guard that must outlive it (a temporary directory).
pub trait FreshStore {
    fn store(&self) -> &dyn Store;
}

impl<S: Store> FreshStore for S {
    fn store(&self) -> &dyn Store {
        self
    }
}

impl<S: Store, G> FreshStore for (S, G) {
    fn store(&self) -> &dyn Store {
        &self.0
    }
}

/// Runs every check on fresh stores from `fresh` (each call must give a new, empty
/// store): all of [`CHECKS`] and [`append_sealed_copies_identically`].
pub fn run_all<S: Store>(mut fresh: impl FnMut() -> S) {
    for (name, check) in CHECKS {
        let store = fresh();
        // The name on stderr tells which check a panic below belongs to.
        eprintln!("conformance: {name}");
        check(&store);
    }
    eprintln!("conformance: append_sealed_copies_identically");
    append_sealed_copies_identically(&fresh(), &fresh());
}

// ---------------------------------------------------------------------------------------
// Test data.

/// The synthetic actor of every batch the suite appends.
pub fn test_actor() -> Actor {
    Actor {
        user_id: "u-conformance".into(),
        role: "key_worker".into(),
    }
}

/// A batch of `n` synthetic events for `stream_id`; event `i`'s payload names the
/// stream and `i` so that records are distinguishable.
pub fn batch(stream_id: &str, expected: ExpectedVersion, n: usize) -> AppendBatch {
    AppendBatch {
        stream_id: stream_id.into(),
        expected,
        actor: test_actor(),
        claimed_at_micros: 1_767_225_600_000_000,
        command_id: None,
        events: (0..n)
            .map(|i| NewEvent {
                event_type: "test_event".into(),
                schema_version: 1,
                envelope: Envelope::plaintext(),
                payload: format!("{{\"stream\":\"{stream_id}\",\"i\":{i}}}").into_bytes(),
            })
            .collect(),
        tags: Vec::new(),
        summary: None,
    }
}

fn must<T>(what: &str, r: Result<T, StoreError>) -> T {
    r.unwrap_or_else(|e| panic!("conformance: {what} failed: {e}"))
}

/// Every record of `store`, read in pages.
pub fn read_everything(store: &dyn Store) -> Vec<Record> {
    let mut out = Vec::new();
    loop {
        let page = must("read_all", store.read_all(out.len() as u64, 500));
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// Checks the whole ledger of `store` from its records alone: positions are gapless
/// from 0, each record decodes from its own bytes, names its predecessor's hash, and
/// carries its stream's next version; the head equals the chain's end and the Merkle
/// root recomputed from every record hash. Returns the records.
pub fn assert_chain_valid(store: &dyn Store) -> Vec<Record> {
    let records = read_everything(store);
    let mut last = Hash::ZERO;
    let mut frontier = Frontier::new();
    let mut versions: HashMap<&str, u64> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(
            r.position(),
            i as u64,
            "conformance: record {i} has position {}",
            r.position()
        );
        let reread = Record::decode(r.bytes().to_vec())
            .unwrap_or_else(|e| panic!("conformance: record {i} does not decode: {e}"));
        assert_eq!(
            &reread, r,
            "conformance: record {i}'s fields differ from its bytes"
        );
        assert_eq!(
            r.prev_hash(),
            last,
            "conformance: record {i} does not chain to record {}",
            i as i64 - 1
        );
        let v = versions.entry(r.stream_id()).or_insert(0);
        *v += 1;
        assert_eq!(
            r.stream_version(),
            *v,
            "conformance: record {i} breaks its stream's version sequence"
        );
        last = r.hash();
        frontier.push(last, |_, _| {});
    }
    let head = must("head", store.head());
    let expected = Head {
        size: records.len() as u64,
        last_hash: last,
        root: frontier.root(),
    };
    assert_eq!(
        head, expected,
        "conformance: head differs from the head recomputed from read_all"
    );
    // The same ledger through the verifier `planledger verify` uses.
    let report = must(
        "verify_store",
        crate::verify_store(store, &[], &mut |_, _| {}),
    );
    assert!(
        report.is_ok(),
        "conformance: verify_store rejects the ledger: {}",
        report.message()
    );
    assert_eq!(
        report.records,
        records.len() as u64,
        "conformance: verify_store checked every record"
    );
    for (stream, v) in versions {
        assert_eq!(
            must("stream_version", store.stream_version(stream)),
            v,
            "conformance: stream_version of a stream differs from its last record"
        );
    }
    records
}

// ---------------------------------------------------------------------------------------
// The checks.

pub fn empty_store_has_empty_head(store: &dyn Store) {
    let head = must("head", store.head());
    assert_eq!(
        head,
        Head {
            size: 0,
            last_hash: Hash::ZERO,
            root: empty_root()
        },
        "conformance: an empty store's head is size 0, zero hash, empty-tree root"
    );
    assert!(must("read_all", store.read_all(0, 10)).is_empty());
    assert!(must("read_stream", store.read_stream("plan-none", 1, 10)).is_empty());
    assert_eq!(must("stream_version", store.stream_version("plan-none")), 0);
}

pub fn positions_are_gapless_and_in_append_order(store: &dyn Store) {
    let mut expected_payloads = Vec::new();
    let plan = [
        ("plan-a", 3),
        ("plan-b", 1),
        ("plan-a", 2),
        ("plan-c", 5),
        ("plan-b", 4),
    ];
    for (stream, n) in plan {
        let b = batch(stream, ExpectedVersion::Any, n);
        let before = must("head", store.head()).size;
        expected_payloads.extend(b.events.iter().map(|e| (stream, e.payload.clone())));
        let appended = must("append", store.append(b));
        assert_eq!(
            appended.first_position, before,
            "conformance: a batch starts at the old size"
        );
        assert_eq!(
            appended.head.size,
            before + n as u64,
            "conformance: a batch of {n} grows the ledger by {n}"
        );
    }
    let records = assert_chain_valid(store);
    let got: Vec<(&str, Vec<u8>)> = records
        .iter()
        .map(|r| (r.stream_id(), r.payload().to_vec()))
        .collect();
    assert_eq!(
        got, expected_payloads,
        "conformance: read_all returns records in append order"
    );
}

pub fn stream_versions_start_at_one_and_are_gapless(store: &dyn Store) {
    let a = must(
        "append",
        store.append(batch("plan-a", ExpectedVersion::NoStream, 2)),
    );
    assert_eq!(
        a.stream_version, 2,
        "conformance: a new stream's first batch of 2 ends at version 2"
    );
    must(
        "append",
        store.append(batch("plan-b", ExpectedVersion::NoStream, 1)),
    );
    let a = must(
        "append",
        store.append(batch("plan-a", ExpectedVersion::Exact(2), 3)),
    );
    assert_eq!(a.stream_version, 5);
    let versions: Vec<u64> = must("read_stream", store.read_stream("plan-a", 1, 100))
        .iter()
        .map(Record::stream_version)
        .collect();
    assert_eq!(
        versions,
        vec![1, 2, 3, 4, 5],
        "conformance: stream versions run 1, 2, 3, …"
    );
    assert_eq!(must("stream_version", store.stream_version("plan-a")), 5);
    assert_eq!(must("stream_version", store.stream_version("plan-b")), 1);
}

fn assert_unchanged(store: &dyn Store, before: Head, what: &str) {
    assert_eq!(
        must("head", store.head()),
        before,
        "conformance: {what} must write nothing"
    );
}

pub fn stale_expected_version_is_a_conflict_and_writes_nothing(store: &dyn Store) {
    must(
        "append",
        store.append(batch("plan-a", ExpectedVersion::NoStream, 2)),
    );
    let before = must("head", store.head());
    let cases = [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(1),
        ExpectedVersion::Exact(3),
        ExpectedVersion::Exact(0),
    ];
    for expected in cases {
        match store.append(batch("plan-a", expected, 3)) {
            Err(StoreError::Conflict {
                stream_id,
                expected: e,
                actual,
            }) => {
                assert_eq!(stream_id, "plan-a");
                assert_eq!(e, expected);
                assert_eq!(
                    actual, 2,
                    "conformance: a conflict reports the stream's actual version"
                );
            }
            other => panic!(
                "conformance: expecting {expected:?} on a stream at version 2 must be a conflict, got {other:?}"
            ),
        }
        assert_unchanged(store, before, "a conflicting append");
    }
    match store.append(batch("plan-new", ExpectedVersion::Exact(1), 1)) {
        Err(StoreError::Conflict { actual: 0, .. }) => {}
        other => panic!(
            "conformance: expecting version 1 of a missing stream must be a conflict with actual 0, got {other:?}"
        ),
    }
    assert_unchanged(store, before, "a conflicting append");
    assert_eq!(must("stream_version", store.stream_version("plan-new")), 0);
    // The right expectation still succeeds afterwards, and Any never conflicts.
    must(
        "append",
        store.append(batch("plan-a", ExpectedVersion::Exact(2), 1)),
    );
    let a = must(
        "append",
        store.append(batch("plan-a", ExpectedVersion::Any, 1)),
    );
    assert_eq!(a.stream_version, 4);
    assert_chain_valid(store);
}

pub fn empty_batch_is_rejected_and_writes_nothing(store: &dyn Store) {
    must(
        "append",
        store.append(batch("plan-a", ExpectedVersion::NoStream, 1)),
    );
    let before = must("head", store.head());
    for expected in [ExpectedVersion::Any, ExpectedVersion::Exact(1)] {
        match store.append(batch("plan-a", expected, 0)) {
            Err(StoreError::EmptyBatch) => {}
            other => panic!("conformance: an empty batch must be EmptyBatch, got {other:?}"),
        }
        assert_unchanged(store, before, "an empty batch");
    }
    assert_eq!(must("stream_version", store.stream_version("plan-a")), 1);
}

pub fn batch_with_an_unsealable_event_writes_nothing(store: &dyn Store) {
    must(
        "append",
        store.append(batch("plan-a", ExpectedVersion::NoStream, 1)),
    );
    let before = must("head", store.head());
    let mut b = batch("plan-a", ExpectedVersion::Exact(1), 5);
    // The fourth event cannot be sealed (an event type is at most 255 bytes), so the
    // three before it must not be written either.
    b.events[3].event_type = "x".repeat(300);
    match store.append(b) {
        Err(StoreError::Format(_)) => {}
        other => panic!(
            "conformance: an unsealable event must fail the batch with Format, got {other:?}"
        ),
    }
    assert_unchanged(store, before, "a batch with an unsealable event");
    assert_eq!(must("stream_version", store.stream_version("plan-a")), 1);
    assert_eq!(
        must("read_stream", store.read_stream("plan-a", 1, 100)).len(),
        1
    );
    must(
        "append",
        store.append(batch("plan-a", ExpectedVersion::Exact(1), 5)),
    );
    assert_chain_valid(store);
}

pub fn read_stream_starts_at_version_and_respects_limit(store: &dyn Store) {
    for _ in 0..4 {
        must(
            "append",
            store.append(batch("plan-a", ExpectedVersion::Any, 3)),
        );
        must(
            "append",
            store.append(batch("plan-b", ExpectedVersion::Any, 2)),
        );
    }
    let all = must("read_stream", store.read_stream("plan-a", 1, 1000));
    assert_eq!(all.len(), 12);
    assert!(
        all.iter().all(|r| r.stream_id() == "plan-a"),
        "conformance: read_stream returns only that stream"
    );
    let versions = |rs: &[Record]| rs.iter().map(Record::stream_version).collect::<Vec<_>>();
    assert_eq!(versions(&all), (1..=12).collect::<Vec<_>>());
    let from0 = must("read_stream", store.read_stream("plan-a", 0, 1000));
    assert_eq!(
        versions(&from0),
        versions(&all),
        "conformance: from version 0 reads from the start"
    );
    let mid = must("read_stream", store.read_stream("plan-a", 5, 4));
    assert_eq!(
        versions(&mid),
        vec![5, 6, 7, 8],
        "conformance: read_stream(from 5, limit 4)"
    );
    assert_eq!(mid, all[4..8].to_vec());
    let tail = must("read_stream", store.read_stream("plan-a", 11, 100));
    assert_eq!(versions(&tail), vec![11, 12]);
    assert!(
        must("read_stream", store.read_stream("plan-a", 13, 100)).is_empty(),
        "conformance: past the end is empty"
    );
    assert!(
        must("read_stream", store.read_stream("plan-a", 1, 0)).is_empty(),
        "conformance: limit 0 is empty"
    );
    assert!(
        must("read_stream", store.read_stream("plan-zz", 1, 10)).is_empty(),
        "conformance: an unknown stream is empty"
    );
    // A stream whose id is a prefix of another's must not see the other's records.
    must(
        "append",
        store.append(batch("plan", ExpectedVersion::NoStream, 1)),
    );
    assert_eq!(
        must("read_stream", store.read_stream("plan", 1, 100)).len(),
        1
    );
}

pub fn read_all_starts_at_position_and_respects_limit(store: &dyn Store) {
    for i in 0..7 {
        must(
            "append",
            store.append(batch(&format!("plan-{}", i % 3), ExpectedVersion::Any, 3)),
        );
    }
    let all = must("read_all", store.read_all(0, 1000));
    assert_eq!(all.len(), 21);
    let positions = |rs: &[Record]| rs.iter().map(Record::position).collect::<Vec<_>>();
    assert_eq!(positions(&all), (0..21).collect::<Vec<_>>());
    let mid = must("read_all", store.read_all(10, 5));
    assert_eq!(
        positions(&mid),
        vec![10, 11, 12, 13, 14],
        "conformance: read_all(from 10, limit 5)"
    );
    assert_eq!(mid, all[10..15].to_vec());
    assert_eq!(
        positions(&must("read_all", store.read_all(19, 100))),
        vec![19, 20]
    );
    assert!(
        must("read_all", store.read_all(21, 100)).is_empty(),
        "conformance: from the size is empty"
    );
    assert!(must("read_all", store.read_all(u64::MAX, 100)).is_empty());
    assert!(
        must("read_all", store.read_all(0, 0)).is_empty(),
        "conformance: limit 0 is empty"
    );
}

pub fn head_matches_frontier_recomputed_from_records(store: &dyn Store) {
    for (i, n) in [1usize, 2, 1, 4, 7, 1, 16, 3].into_iter().enumerate() {
        let appended = must(
            "append",
            store.append(batch(&format!("plan-{}", i % 2), ExpectedVersion::Any, n)),
        );
        let head = must("head", store.head());
        assert_eq!(
            appended.head, head,
            "conformance: Appended.head is the head right after the batch"
        );
        let records = assert_chain_valid(store);
        assert_eq!(
            head.last_hash,
            records.last().map(Record::hash).unwrap_or_default()
        );
    }
}

pub fn node_returns_every_completed_subtree_and_only_those(store: &dyn Store) {
    let mut reported = BTreeMap::new();
    let mut frontier = Frontier::new();
    for n in [1usize, 2, 5, 3, 8, 1] {
        must(
            "append",
            store.append(batch("plan-a", ExpectedVersion::Any, n)),
        );
    }
    for r in read_everything(store) {
        frontier.push(r.hash(), |id, h| {
            reported.insert(id, h);
        });
    }
    for (id, h) in &reported {
        assert_eq!(
            must("node", store.node(*id)),
            *h,
            "conformance: node (level {}, index {}) differs from the frontier's",
            id.level,
            id.index
        );
    }
    let size = frontier.size(); // 20 = 0b10100
    let incomplete = [
        NodeId {
            level: 0,
            index: size,
        },
        NodeId {
            level: 1,
            index: size / 2,
        },
        NodeId { level: 3, index: 2 },
        NodeId { level: 5, index: 0 },
        NodeId {
            level: 63,
            index: 0,
        },
    ];
    for id in incomplete {
        assert!(!reported.contains_key(&id));
        match store.node(id) {
            Err(StoreError::NotFound { .. }) => {}
            other => panic!(
                "conformance: node (level {}, index {}) is not complete in a tree of {size}; expected NotFound, got {other:?}",
                id.level, id.index
            ),
        }
    }
    // `nodes` answers as `node` does, for many at once, in the order asked.
    let mut ids: Vec<NodeId> = reported.keys().rev().copied().collect();
    ids.extend(incomplete);
    let expected: Vec<Option<Hash>> = ids.iter().map(|id| reported.get(id).copied()).collect();
    assert_eq!(
        must("nodes", store.nodes(&ids)),
        expected,
        "conformance: nodes differs from node"
    );
    assert_eq!(must("nodes of none", store.nodes(&[])), Vec::new());
}

/// Records sealed outside any store, continuing from `chain` (for append_sealed), by a
/// clock that reads one second later per record already in the chain.
fn seal_elsewhere(chain: &mut Chain, stream: &str, current: u64, n: usize) -> Vec<Record> {
    let clock = 1_767_312_000_000_000 + chain.frontier.size() as i64 * 1_000_000;
    seal_elsewhere_at(chain, stream, current, n, clock)
}

fn seal_elsewhere_at(
    chain: &mut Chain,
    stream: &str,
    current: u64,
    n: usize,
    clock: i64,
) -> Vec<Record> {
    must(
        "seal_batch",
        chain
            .seal_batch(&batch(stream, ExpectedVersion::Any, n), current, clock)
            .map(|(r, _)| r),
    )
}

pub fn derived_bytes_are_kept_by_name(store: &dyn Store) {
    assert_eq!(must("derived", store.derived("map-leaves")), None);
    must("put_derived", store.put_derived("map-leaves", b"one"));
    must("put_derived", store.put_derived("other", b""));
    assert_eq!(
        must("derived", store.derived("map-leaves")).as_deref(),
        Some(&b"one"[..])
    );
    must("put_derived", store.put_derived("map-leaves", b"two"));
    assert_eq!(
        must("derived", store.derived("map-leaves")).as_deref(),
        Some(&b"two"[..]),
        "conformance: put_derived replaces"
    );
    assert_eq!(must("derived", store.derived("other")), Some(Vec::new()));
    assert_eq!(
        must("head", store.head()).size,
        0,
        "derived bytes are no records"
    );
}

pub fn a_command_id_is_recorded_once(store: &dyn Store) {
    let with_id = |stream: &str, id: &str, n: usize| AppendBatch {
        command_id: Some(id.into()),
        ..batch(stream, ExpectedVersion::Any, n)
    };
    must(
        "append",
        store.append(batch("plan-0", ExpectedVersion::Any, 1)),
    );
    let first = must("append", store.append(with_id("plan-a", "cmd-1", 2)));
    assert_eq!(
        must("command_position", store.command_position("cmd-1")),
        Some(first.first_position),
        "conformance: a command id is found at its first record"
    );
    assert_eq!(
        must("command_position", store.command_position("cmd-x")),
        None
    );
    let before = must("head", store.head());
    match store.append(with_id("plan-b", "cmd-1", 1)) {
        Err(StoreError::AlreadyRecorded { position }) => assert_eq!(
            position, first.first_position,
            "conformance: a repeated command names where it was recorded"
        ),
        other => {
            panic!("conformance: a repeated command id must be AlreadyRecorded, got {other:?}")
        }
    }
    assert_unchanged(store, before, "a repeated command id");
    // In one group: the second batch with an id is refused, alone.
    let outcomes = must(
        "append_many",
        store.append_many(vec![
            with_id("plan-c", "cmd-2", 1),
            with_id("plan-d", "cmd-2", 1),
            with_id("plan-d", "cmd-3", 1),
        ]),
    );
    let cmd2 = outcomes[0]
        .as_ref()
        .expect("a new command id")
        .first_position;
    assert!(
        matches!(outcomes[1], Err(StoreError::AlreadyRecorded { position }) if position == cmd2),
        "conformance: a command id repeated within a group is refused: {:?}",
        outcomes[1]
    );
    assert!(outcomes[2].is_ok(), "{:?}", outcomes[2]);
    let records = assert_chain_valid(store);
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r.entry().command_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["", "cmd-1", "cmd-1", "cmd-2", "cmd-3"],
        "conformance: every record of a command carries its id"
    );
}

pub fn records_are_sealed_by_the_store_clock_never_going_back(store: &dyn Store) {
    // The batch claims 2026-01-01; the store seals at its own time, whatever is claimed.
    let before = crate::clock_micros();
    let first = must(
        "append",
        store.append(batch("plan-a", ExpectedVersion::NoStream, 2)),
    );
    let second = must(
        "append",
        store.append(batch("plan-b", ExpectedVersion::Any, 1)),
    );
    let after = crate::clock_micros();
    let records = assert_chain_valid(store);
    for r in &records {
        let sealed = r.sealed_at_micros().unwrap_or_else(|| {
            panic!("conformance: an appended record is of the layout with a sealing time")
        });
        // The store's clock (a database server's) may differ from this process's by a
        // little; a second covers it, and a claimed time of 2026-01-01 is far outside.
        assert!(
            (before - 1_000_000..=after + 1_000_000).contains(&sealed),
            "conformance: a record is sealed by the store's clock ({before}..{after}), got {sealed}"
        );
        assert_eq!(
            r.entry().claimed_at_micros,
            1_767_225_600_000_000,
            "conformance: the claimed time is kept as given"
        );
    }
    assert_eq!(
        records[0].sealed_at_micros(),
        records[1].sealed_at_micros(),
        "conformance: the records of one batch share their sealing time"
    );
    assert_eq!(records[0].sealed_at_micros(), Some(first.sealed_at_micros));
    assert_eq!(records[2].sealed_at_micros(), Some(second.sealed_at_micros));
    assert!(
        second.sealed_at_micros >= first.sealed_at_micros,
        "conformance: sealing times never go back"
    );

    // A clock that reads earlier than the last record seals at the last record's time.
    let mut chain = Chain::default();
    let t = 1_767_312_000_000_000;
    let early = seal_elsewhere_at(&mut chain, "plan-c", 0, 1, t);
    let late = seal_elsewhere_at(&mut chain, "plan-c", 1, 1, t - 5_000_000);
    assert_eq!(late[0].sealed_at_micros(), Some(t), "the clock went back");
    assert_eq!(early[0].sealed_at_micros(), Some(t));
}

pub fn append_sealed_rejects_records_that_do_not_continue(store: &dyn Store) {
    let head = must("append_sealed of nothing", store.append_sealed(&[]));
    assert_eq!(head, must("head", store.head()));
    assert_eq!(
        head.size, 0,
        "conformance: append_sealed of nothing writes nothing"
    );

    let mut chain = Chain::default();
    let first = seal_elsewhere(&mut chain, "plan-a", 0, 3);
    must("append_sealed", store.append_sealed(&first));
    let after_first = assert_chain_valid(store);
    assert_eq!(
        after_first, first,
        "conformance: append_sealed stores the records as given"
    );
    let before = must("head", store.head());

    let expect_unfit = |records: &[Record], position: u64, what: &str| {
        match store.append_sealed(records) {
            Err(StoreError::NotContinuing { position: p, .. }) => {
                assert_eq!(
                    p, position,
                    "conformance: the error names the first unfit record ({what})"
                )
            }
            other => panic!(
                "conformance: append_sealed with {what} must be NotContinuing, got {other:?}"
            ),
        }
        assert_unchanged(store, before, &format!("append_sealed with {what}"));
    };
    // Position already taken: the same records again.
    expect_unfit(&first, 0, "a taken position");
    // Right position, wrong predecessor: a record from another ledger.
    let mut other = Chain::default();
    seal_elsewhere(&mut other, "plan-x", 0, 3);
    let foreign = seal_elsewhere(&mut other, "plan-a", 3, 1);
    expect_unfit(&foreign, 3, "a foreign predecessor hash");
    // Right position and predecessor, but the stream's version skips.
    let mut skip_chain = chain.clone();
    let skipped = seal_elsewhere(&mut skip_chain, "plan-a", 4, 1);
    expect_unfit(&skipped, 3, "a skipped stream version");
    // A new stream must start at version 1.
    let mut late_chain = chain.clone();
    let late = seal_elsewhere(&mut late_chain, "plan-b", 1, 1);
    expect_unfit(&late, 3, "a new stream not starting at 1");
    // Two fitting records followed by a gap: none of the three is written.
    let mut good_chain = chain.clone();
    let mut mixed = seal_elsewhere(&mut good_chain, "plan-a", 3, 2);
    let mut gap_chain = good_chain.clone();
    seal_elsewhere(&mut gap_chain, "plan-a", 5, 1);
    mixed.extend(seal_elsewhere(&mut gap_chain, "plan-a", 6, 1));
    expect_unfit(&mixed, 6, "a gap after fitting records");
    // Sealed before the last record: a chain whose clock ran backwards.
    let mut back_chain = chain.clone();
    let back = seal_elsewhere_at(&mut back_chain, "plan-a", 3, 1, 1_700_000_000_000_000);
    let mut reseal = Chain {
        last_sealed_micros: None,
        ..chain.clone()
    };
    let earlier = seal_elsewhere_at(&mut reseal, "plan-a", 3, 1, 1_700_000_000_000_000);
    assert_eq!(back[0].sealed_at_micros(), chain.last_sealed_micros);
    expect_unfit(&earlier, 3, "a record sealed before the last one");
    // A layout-1 record after layout-2 records.
    let entry = planledger_ledger::Entry {
        claimed_at_micros: 1_767_225_600_000_000,
        ..earlier[0].entry().clone()
    };
    let old = must(
        "seal_layout1",
        planledger_ledger::seal_layout1(3, chain.last_hash, &entry).map_err(StoreError::from),
    );
    expect_unfit(&[old], 3, "a layout-1 record after layout 2");
    // The fitting continuation is accepted, with versions tracked within the call.
    let fitting = seal_elsewhere(&mut chain, "plan-a", 3, 2);
    let head = must("append_sealed", store.append_sealed(&fitting));
    assert_eq!(
        head,
        chain.head(),
        "conformance: append_sealed returns the new head"
    );
    assert_eq!(must("stream_version", store.stream_version("plan-a")), 5);
    assert_chain_valid(store);
}

/// Copies every record of `source` (filled here) into the empty `target` with
/// `append_sealed`, in pages; the copy has identical bytes, head, streams and nodes.
pub fn append_sealed_copies_identically(source: &dyn Store, target: &dyn Store) {
    for i in 0..40 {
        must(
            "append",
            source.append(batch(
                &format!("plan-{}", i % 5),
                ExpectedVersion::Any,
                1 + i % 4,
            )),
        );
    }
    let records = assert_chain_valid(source);
    for page in records.chunks(7) {
        must("append_sealed", target.append_sealed(page));
    }
    let copied = assert_chain_valid(target);
    assert_eq!(
        must("head", target.head()),
        must("head", source.head()),
        "conformance: the copy has the source's head"
    );
    assert_eq!(copied.len(), records.len());
    for (a, b) in records.iter().zip(&copied) {
        assert_eq!(
            a.bytes(),
            b.bytes(),
            "conformance: the copy of record {} has other bytes",
            a.position()
        );
    }
    for s in 0..5 {
        let stream = format!("plan-{s}");
        assert_eq!(
            must("read_stream", target.read_stream(&stream, 1, 1000)),
            must("read_stream", source.read_stream(&stream, 1, 1000)),
            "conformance: the copy's stream {stream} differs"
        );
    }
    let mut frontier = Frontier::new();
    let mut ids = Vec::new();
    for r in &records {
        frontier.push(r.hash(), |id, _| ids.push(id));
    }
    for id in ids {
        assert_eq!(
            must("node", target.node(id)),
            must("node", source.node(id)),
            "conformance: the copy's Merkle nodes differ"
        );
    }
    // The copy continues like the source.
    let a = must(
        "append",
        target.append(batch("plan-0", ExpectedVersion::Any, 1)),
    );
    assert_eq!(a.first_position, records.len() as u64);
    assert_chain_valid(target);
}

/// Threads append concurrently, some to a stream each and some racing on one shared
/// stream with exact expectations (retrying on conflict). Every acknowledged append must
/// be in the ledger at its acknowledged position, and the chain must be valid.
pub fn concurrent_appends_keep_one_valid_chain(store: &dyn Store) {
    const OWN_STREAM_THREADS: usize = 4;
    const SHARED_STREAM_THREADS: usize = 4;
    const APPENDS: usize = 12;
    let acks = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for t in 0..OWN_STREAM_THREADS {
            handles.push(s.spawn(move || {
                let stream = format!("plan-own-{t}");
                let mut acks = Vec::new();
                for i in 0..APPENDS {
                    let n = 1 + (t + i) % 3;
                    let b = batch(
                        &stream,
                        ExpectedVersion::Exact(acks.iter().map(|(_, _, n)| *n as u64).sum()),
                        n,
                    );
                    let a = must("concurrent append", store.append(b.clone()));
                    acks.push((a.first_position, b, n));
                }
                acks
            }));
        }
        for _ in 0..SHARED_STREAM_THREADS {
            handles.push(s.spawn(move || {
                let mut acks = Vec::new();
                while acks.len() < APPENDS {
                    let current = must("stream_version", store.stream_version("plan-shared"));
                    let b = batch("plan-shared", ExpectedVersion::Exact(current), 2);
                    match store.append(b.clone()) {
                        Ok(a) => {
                            assert_eq!(a.stream_version, current + 2);
                            acks.push((a.first_position, b, 2));
                        }
                        Err(StoreError::Conflict { .. }) => {}
                        Err(e) => panic!("conformance: concurrent append failed: {e}"),
                    }
                }
                acks
            }));
        }
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("an appending thread panicked"))
            .collect::<Vec<_>>()
    });
    let records = assert_chain_valid(store);
    let acknowledged: usize = acks.iter().map(|(_, _, n)| n).sum();
    assert_eq!(
        records.len(),
        acknowledged,
        "conformance: the ledger holds exactly the acknowledged records"
    );
    for (first, b, n) in &acks {
        for (k, ev) in b.events.iter().enumerate().take(*n) {
            let r = &records[*first as usize + k];
            assert_eq!(
                r.stream_id(),
                b.stream_id,
                "conformance: acknowledged position {} holds another stream's record",
                first + k as u64
            );
            assert_eq!(
                r.payload(),
                ev.payload,
                "conformance: acknowledged position {} holds another record",
                first + k as u64
            );
        }
    }
    let shared = must("read_stream", store.read_stream("plan-shared", 1, 10_000));
    assert_eq!(shared.len(), SHARED_STREAM_THREADS * APPENDS * 2);
}

/// While one thread appends batches of equal size, readers must never see part of a
/// batch: the head and read_all always cover a whole number of batches.
pub fn readers_see_only_whole_batches(store: &dyn Store) {
    const BATCH: usize = 5;
    const BATCHES: usize = 30;
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut observations = 0u64;
            while !done.load(Ordering::Acquire) {
                let head = must("head", store.head());
                assert_eq!(
                    head.size % BATCH as u64,
                    0,
                    "conformance: a reader saw a head in the middle of a batch"
                );
                let seen = must("read_all", store.read_all(0, 10_000)).len();
                assert_eq!(
                    seen % BATCH,
                    0,
                    "conformance: a reader saw part of a batch in read_all"
                );
                let stream = must("read_stream", store.read_stream("plan-a", 1, 10_000)).len();
                assert_eq!(
                    stream % BATCH,
                    0,
                    "conformance: a reader saw part of a batch in read_stream"
                );
                observations += 1;
            }
            observations
        });
        for _ in 0..BATCHES {
            must(
                "append",
                store.append(batch("plan-a", ExpectedVersion::Any, BATCH)),
            );
        }
        done.store(true, Ordering::Release);
        reader.join().expect("the reading thread panicked");
    });
    assert_eq!(assert_chain_valid(store).len(), BATCH * BATCHES);
}

/// `read_all_bytes` (what verification reads) returns exactly the bytes of the records
/// `read_all` returns, from the same position and with the same limit.
pub fn read_all_bytes_gives_the_stored_bytes_of_read_all(store: &dyn Store) {
    for i in 0..4 {
        must(
            "append",
            store.append(batch(
                &format!("plan-{i}"),
                ExpectedVersion::NoStream,
                1 + i,
            )),
        );
    }
    for (from, limit) in [(0, 100), (0, 0), (3, 4), (9, 1), (10, 5), (99, 5)] {
        let records = must("read_all", store.read_all(from, limit));
        let bytes: Vec<Vec<u8>> = records.into_iter().map(Record::into_bytes).collect();
        assert_eq!(
            must("read_all_bytes", store.read_all_bytes(from, limit)),
            bytes,
            "conformance: read_all_bytes({from}, {limit}) differs from read_all's bytes"
        );
        // Into a buffer that held other records before.
        let mut into = crate::RecordBytes::new();
        into.push(b"left over from an earlier read");
        must(
            "read_all_bytes_into",
            store.read_all_bytes_into(from, limit, &mut into),
        );
        let into: Vec<Vec<u8>> = into.iter().map(<[u8]>::to_vec).collect();
        assert_eq!(
            into, bytes,
            "conformance: read_all_bytes_into({from}, {limit}) differs from read_all's bytes"
        );
    }
}

fn tagged(stream_id: &str, expected: ExpectedVersion, tags: &[(&str, &str)]) -> AppendBatch {
    AppendBatch {
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..batch(stream_id, expected, 1)
    }
}

fn tag(stream_id: &str, key: &str, value: &str) -> StreamTag {
    StreamTag {
        stream_id: stream_id.into(),
        key: key.into(),
        value: value.into(),
    }
}

/// Tags an append carries are found by value and by stream; a later value for a key
/// replaces the earlier one (and the stream is no longer found by the old value); a
/// conflicting append sets no tag; tags are not part of the ledger.
pub fn append_tags_are_found_by_value_and_replace_by_key(store: &dyn Store) {
    assert!(must("tag_values", store.tag_values("unit")).is_empty());
    let no = ExpectedVersion::NoStream;
    must(
        "append",
        store.append(tagged("plan-b", no, &[("unit", "u1"), ("client", "c1")])),
    );
    must(
        "append",
        store.append(tagged("plan-a", no, &[("unit", "u1")])),
    );
    must(
        "append",
        store.append(tagged("plan-c", no, &[("unit", "u2")])),
    );
    must("append", store.append(batch("plan-d", no, 1)));
    assert_eq!(
        must("streams_tagged", store.streams_tagged("unit", "u1")),
        ["plan-a", "plan-b"],
        "conformance: streams tagged with a value, by stream id"
    );
    assert_eq!(
        must("tag_values", store.tag_values("unit")),
        [
            ("u1".into(), "plan-a".into()),
            ("u1".into(), "plan-b".into()),
            ("u2".into(), "plan-c".into())
        ],
        "conformance: a key's values by value then stream; untagged streams have none"
    );
    assert_eq!(
        must("stream_tags", store.stream_tags("plan-b")),
        [("client".into(), "c1".into()), ("unit".into(), "u1".into())],
        "conformance: a stream's tags by key"
    );
    let head = must("head", store.head());
    match store.append(tagged("plan-b", no, &[("unit", "u9")])) {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("conformance: a stale append must conflict, got {other:?}"),
    }
    assert!(
        must("streams_tagged", store.streams_tagged("unit", "u9")).is_empty(),
        "conformance: a conflicting append sets no tag"
    );
    must(
        "append",
        store.append(tagged(
            "plan-b",
            ExpectedVersion::Exact(1),
            &[("unit", "u2")],
        )),
    );
    assert_eq!(
        must("streams_tagged", store.streams_tagged("unit", "u1")),
        ["plan-a"]
    );
    assert_eq!(
        must("streams_tagged", store.streams_tagged("unit", "u2")),
        ["plan-b", "plan-c"],
        "conformance: a later value replaces the stream's earlier one"
    );
    let after = must("head", store.head());
    assert_eq!(
        after.size,
        head.size + 1,
        "conformance: tags are not records"
    );
    let records = must("read_all", store.read_all(0, 100));
    assert_eq!(records.len() as u64, after.size);
}

/// `append_many` commits its batches in order, each on its own: a stale or empty one
/// fails alone, a later batch of a stream sees the earlier ones of the group, and the
/// outcomes keep the batches' places; the records are as if appended one by one.
pub fn append_many_keeps_order_and_fails_batches_alone(store: &dyn Store) {
    let no = ExpectedVersion::NoStream;
    must("append", store.append(batch("plan-0", no, 1)));
    let outcomes = must(
        "append_many",
        store.append_many(vec![
            tagged("plan-1", no, &[("unit", "u1")]),
            batch("plan-1", ExpectedVersion::Exact(1), 2),
            batch("plan-0", no, 1),
            batch("plan-2", no, 0),
            batch("plan-0", ExpectedVersion::Exact(1), 1),
        ]),
    );
    assert_eq!(outcomes.len(), 5, "conformance: one outcome per batch");
    let positions: Vec<Option<u64>> = outcomes
        .iter()
        .map(|o| o.as_ref().ok().map(|a| a.first_position))
        .collect();
    assert_eq!(
        positions,
        [Some(1), Some(2), None, None, Some(4)],
        "conformance: batches commit in order, a failed one takes no position"
    );
    assert!(matches!(outcomes[2], Err(StoreError::Conflict { .. })));
    assert!(matches!(outcomes[3], Err(StoreError::EmptyBatch)));
    assert_eq!(must("head", store.head()).size, 5);
    assert_eq!(must("stream_version", store.stream_version("plan-1")), 3);
    assert_eq!(
        must("streams_tagged", store.streams_tagged("unit", "u1")),
        ["plan-1"]
    );
    assert_chain_valid(store);
    assert!(must("append_many", store.append_many(Vec::new())).is_empty());
}

/// `put_tags` sets values by key; `replace_tags` replaces the whole set at once.
pub fn put_and_replace_tags(store: &dyn Store) {
    must(
        "append",
        store.append(tagged(
            "plan-1",
            ExpectedVersion::NoStream,
            &[("unit", "u1")],
        )),
    );
    must(
        "put_tags",
        store.put_tags(&[tag("plan-1", "unit", "u2"), tag("plan-2", "client", "c")]),
    );
    assert_eq!(
        must("streams_tagged", store.streams_tagged("unit", "u2")),
        ["plan-1"]
    );
    assert!(must("streams_tagged", store.streams_tagged("unit", "u1")).is_empty());
    assert_eq!(
        must("streams_tagged", store.streams_tagged("client", "c")),
        ["plan-2"]
    );
    must(
        "replace_tags",
        store.replace_tags(&[tag("plan-3", "unit", "u3")]),
    );
    assert!(
        must("stream_tags", store.stream_tags("plan-1")).is_empty(),
        "conformance: replace_tags removes every tag it does not name"
    );
    assert_eq!(
        must("tag_values", store.tag_values("unit")),
        [("u3".into(), "plan-3".into())]
    );
    assert!(must("tag_values", store.tag_values("client")).is_empty());
    must("replace_tags", store.replace_tags(&[]));
    assert!(must("tag_values", store.tag_values("unit")).is_empty());
}

/// For persistent backends: `open` opens the same store each time (empty the first
/// time); records, head, streams and nodes survive closing (dropping) and reopening,
/// and appends continue the chain.
pub fn reopen_keeps_records_and_head<S: Store>(mut open: impl FnMut() -> S) {
    let (records, head) = {
        let store = open();
        empty_store_has_empty_head(&store);
        for i in 0..9 {
            must(
                "append",
                store.append(batch(
                    &format!("plan-{}", i % 2),
                    ExpectedVersion::Any,
                    1 + i % 3,
                )),
            );
        }
        must("put_tags", store.put_tags(&[tag("plan-0", "unit", "u")]));
        must(
            "put_summaries",
            store.put_summaries(&[("plan-0".into(), summary(1, b"s"))]),
        );
        (assert_chain_valid(&store), must("head", store.head()))
    };
    let store = open();
    assert_eq!(
        must("head", store.head()),
        head,
        "conformance: the head survives reopening"
    );
    assert_eq!(
        must("streams_tagged", store.streams_tagged("unit", "u")),
        ["plan-0"],
        "conformance: tags survive reopening"
    );
    assert_eq!(
        must("summaries", store.summaries(&["plan-0".into()])),
        [Some(summary(1, b"s"))],
        "conformance: summaries survive reopening"
    );
    assert_eq!(
        assert_chain_valid(&store),
        records,
        "conformance: the records survive reopening"
    );
    let mut frontier = Frontier::new();
    for r in &records {
        frontier.push(r.hash(), |id, h| {
            assert_eq!(
                must("node", store.node(id)),
                h,
                "conformance: a Merkle node did not survive reopening"
            );
        });
    }
    let v0 = must("stream_version", store.stream_version("plan-0"));
    let a = must(
        "append",
        store.append(batch("plan-0", ExpectedVersion::Exact(v0), 2)),
    );
    assert_eq!(
        a.first_position, head.size,
        "conformance: appends after reopening continue at the old size"
    );
    let records = assert_chain_valid(&store);
    drop(store);
    let store = open();
    assert_eq!(
        assert_chain_valid(&store),
        records,
        "conformance: the second session's records survive"
    );
}

fn summary(stream_version: u64, bytes: &[u8]) -> StreamSummary {
    StreamSummary {
        stream_version,
        bytes: bytes.to_vec(),
    }
}

fn summarised(stream_id: &str, expected: ExpectedVersion, n: usize, bytes: &[u8]) -> AppendBatch {
    AppendBatch {
        summary: Some(bytes.to_vec()),
        ..batch(stream_id, expected, n)
    }
}

/// An append's summary is stored at the stream version the batch ends at, in the same
/// commit (a conflicting or failing batch stores none); a summary never replaces one of
/// a later stream version, whoever writes it; summaries are not records.
pub fn summaries_follow_appends_and_never_go_back(store: &dyn Store) {
    let ids = ["plan-a".to_owned(), "plan-b".to_owned()];
    assert_eq!(
        must("summaries", store.summaries(&ids)),
        [None, None],
        "conformance: a new store has no summaries"
    );
    must(
        "append",
        store.append(summarised("plan-a", ExpectedVersion::NoStream, 2, b"a2")),
    );
    must(
        "append",
        store.append(batch("plan-b", ExpectedVersion::NoStream, 1)),
    );
    assert_eq!(
        must("summaries", store.summaries(&ids)),
        [Some(summary(2, b"a2")), None],
        "conformance: an append stores its summary at the version it ends at"
    );
    let stale = store.append(summarised("plan-a", ExpectedVersion::Exact(1), 1, b"x"));
    assert!(
        matches!(stale, Err(StoreError::Conflict { .. })),
        "conformance: a stale batch conflicts"
    );
    let outcomes = must(
        "append_many",
        store.append_many(vec![
            summarised("plan-a", ExpectedVersion::Exact(2), 1, b"a3"),
            summarised("plan-b", ExpectedVersion::Exact(5), 1, b"no"),
        ]),
    );
    assert!(outcomes[0].is_ok() && outcomes[1].is_err());
    assert_eq!(
        must("summaries", store.summaries(&ids)),
        [Some(summary(3, b"a3")), None],
        "conformance: only committed batches store their summaries"
    );
    must(
        "put_summaries",
        store.put_summaries(&[
            ("plan-a".into(), summary(2, b"old")),
            ("plan-b".into(), summary(1, b"b1")),
        ]),
    );
    assert_eq!(
        must("summaries", store.summaries(&ids)),
        [Some(summary(3, b"a3")), Some(summary(1, b"b1"))],
        "conformance: a summary of an earlier version does not replace a later one"
    );
    must(
        "put_summaries",
        store.put_summaries(&[("plan-a".into(), summary(3, b"rebuilt"))]),
    );
    assert_eq!(
        must("summaries", store.summaries(&ids[..1])),
        [Some(summary(3, b"rebuilt"))],
        "conformance: a summary of the same version replaces it (a rebuild)"
    );
    assert_eq!(
        must("head", store.head()).size,
        4,
        "conformance: summaries are not records"
    );
}

/// `summaries_after` pages through every summary by stream id.
pub fn summaries_page_by_stream_id(store: &dyn Store) {
    let all: Vec<(String, StreamSummary)> = (0..7)
        .map(|i| {
            (
                format!("plan-{i}"),
                summary(i + 1, format!("s{i}").as_bytes()),
            )
        })
        .collect();
    must("put_summaries", store.put_summaries(&all));
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = must("summaries_after", store.summaries_after(&after, 3));
        assert!(page.len() <= 3, "conformance: a page holds at most `limit`");
        let Some((last, _)) = page.last() else { break };
        after = last.clone();
        seen.extend(page);
    }
    assert_eq!(
        seen, all,
        "conformance: pages give every summary once, in order"
    );
    assert!(
        must("summaries_after", store.summaries_after("plan-6", 3)).is_empty(),
        "conformance: nothing after the last"
    );
}

/// `forget_streams` removes every tag and the summary of the streams named (weeding), and
/// nothing of any other stream.
pub fn forgotten_streams_lose_their_tags_and_summaries(store: &dyn Store) {
    must(
        "put_tags",
        store.put_tags(&[
            tag("plan-1", "unit", "u1"),
            tag("plan-1", "client", "k1"),
            tag("plan-2", "unit", "u1"),
            tag("plan-2", "client", "k2"),
        ]),
    );
    must(
        "put_summaries",
        store.put_summaries(&[
            ("plan-1".to_owned(), summary(1, b"a")),
            ("plan-2".to_owned(), summary(1, b"b")),
        ]),
    );
    must(
        "forget_streams",
        store.forget_streams(&["plan-1".to_owned(), "plan-9".to_owned()]),
    );
    assert!(must("stream_tags", store.stream_tags("plan-1")).is_empty());
    assert!(must("streams_tagged", store.streams_tagged("client", "k1")).is_empty());
    assert_eq!(
        must("streams_tagged", store.streams_tagged("unit", "u1")),
        ["plan-2"],
        "conformance: other streams keep their tags"
    );
    assert_eq!(
        must(
            "summaries",
            store.summaries(&["plan-1".to_owned(), "plan-2".to_owned()])
        ),
        [None, Some(summary(1, b"b"))],
        "conformance: a forgotten stream has no summary; others keep theirs"
    );
}

/// `streams_tagged_between` gives the streams whose value of a key lies in a half-open
/// range, in byte order (digits before letters before `~`), by value then stream.
pub fn tags_are_found_by_a_range_of_values(store: &dyn Store) {
    let tags = [
        tag("plan-1", "due", "ab12:2026-03-05"),
        tag("plan-2", "due", "ab12:2026-03-04"),
        tag("plan-3", "due", "ab12:~"),
        tag("plan-4", "due", "ab12:2026-03-05"),
        tag("plan-5", "due", "cd34:2026-01-01"),
        tag("plan-6", "due", "ab12:2026-03-06"),
        tag("plan-7", "unit", "ab12:2026-03-01"),
    ];
    must("put_tags", store.put_tags(&tags));
    let between = |from: &str, to: &str| {
        must(
            "streams_tagged_between",
            store.streams_tagged_between("due", from, to),
        )
    };
    let pair = |v: &str, s: &str| (v.to_owned(), s.to_owned());
    assert_eq!(
        between("ab12:", "ab12:2026-03-06"),
        [
            pair("ab12:2026-03-04", "plan-2"),
            pair("ab12:2026-03-05", "plan-1"),
            pair("ab12:2026-03-05", "plan-4"),
        ],
        "conformance: values in from..to, by value then stream"
    );
    assert_eq!(
        between("ab12;", "~"),
        [pair("cd34:2026-01-01", "plan-5")],
        "conformance: byte order (':' < ';' < letters)"
    );
    assert_eq!(
        between("ab12:2026-03-06", "ab12;"),
        [pair("ab12:2026-03-06", "plan-6"), pair("ab12:~", "plan-3")],
        "conformance: '~' sorts after digits"
    );
    assert!(between("x", "y").is_empty());
}
