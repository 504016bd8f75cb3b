//! A database administrator edits, deletes or reorders rows behind the ledger's back,
//! with plain SQL as a superuser: `verify_store` names the first bad position.

use planledger_ledger::{Hash, Record, TreeHead, ViolationKind, seal};
use planledger_store::{ExpectedVersion, Store, conformance::batch, verify_store};
use planledger_store_postgres::PostgresStore;

use crate::{migrated_db, superuser};

/// A ledger of 20 records over three streams, and its URL.
fn ledger() -> (PostgresStore, String) {
    let url = migrated_db();
    let store = PostgresStore::create(&url, "org-a").expect("create the ledger");
    for i in 0..10 {
        store
            .append(batch(&format!("plan-{}", i % 3), ExpectedVersion::Any, 2))
            .expect("append");
    }
    let report = verify_store(&store, &[], &mut |_, _| {}).expect("verify");
    assert!(report.is_ok(), "{}", report.message());
    (store, url)
}

fn first_bad(store: &dyn Store) -> u64 {
    let report = verify_store(store, &[], &mut |_, _| {}).expect("verify");
    report
        .violation
        .as_ref()
        .unwrap_or_else(|| panic!("the tampering went unnoticed: {}", report.message()))
        .position
}

/// The administrator's session, with triggers (the append-only and gapless checks) off,
/// as a superuser can do.
fn dba_without_checks(url: &str) -> postgres::Client {
    let mut c = superuser(url);
    c.batch_execute("SET session_replication_role = replica")
        .expect("switch the checks off");
    c
}

#[test]
fn an_edited_record_is_reported_at_its_position() {
    let (store, url) = ledger();
    dba_without_checks(&url)
        .batch_execute(
            "UPDATE planledger.records SET bytes = overlay(bytes placing '\\xff' from length(bytes) for 1)
             WHERE position = 7",
        )
        .unwrap();
    assert_eq!(first_bad(&store), 7);
    // The opening check covers the last record only; the edit is in the middle.
    let reopened = PostgresStore::open(&url, "org-a").expect("open");
    assert_eq!(first_bad(&reopened), 7);
}

#[test]
fn an_edited_last_record_is_caught_on_opening_and_by_verify() {
    let (store, url) = ledger();
    dba_without_checks(&url)
        .batch_execute(
            "UPDATE planledger.records SET bytes = overlay(bytes placing '\\xff' from length(bytes) for 1)
             WHERE position = 19",
        )
        .unwrap();
    assert_eq!(first_bad(&store), 19);
    match PostgresStore::open(&url, "org-a") {
        Err(planledger_store::StoreError::Corrupt { position: 19, .. }) => {}
        other => panic!("expected Corrupt at 19 on opening, got {other:?}"),
    }
}

#[test]
fn a_deleted_record_is_reported_at_its_position() {
    let (store, url) = ledger();
    let err = superuser(&url)
        .batch_execute("DELETE FROM planledger.records WHERE position = 7")
        .expect_err("records are append-only, for superusers too");
    assert_eq!(
        err.code(),
        Some(&postgres::error::SqlState::RESTRICT_VIOLATION)
    );
    let deleted = dba_without_checks(&url)
        .execute("DELETE FROM planledger.records WHERE position = 7", &[])
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(first_bad(&store), 7);
}

#[test]
fn two_swapped_records_are_reported_at_the_first() {
    let (store, url) = ledger();
    dba_without_checks(&url)
        .batch_execute(
            "UPDATE planledger.records SET position = 1000 WHERE position = 5;
             UPDATE planledger.records SET position = 5 WHERE position = 9;
             UPDATE planledger.records SET position = 9 WHERE position = 1000;",
        )
        .unwrap();
    assert_eq!(first_bad(&store), 5);
}

/// The thorough forger: from position `from` on, re-seals every record (after
/// `change` has edited its entry or its sealing time), the Merkle nodes and the head,
/// so that the ledger is consistent with itself again.
fn reseal_from(
    store: &PostgresStore,
    url: &str,
    from: usize,
    change: impl Fn(u64, &mut planledger_ledger::Entry, &mut i64),
) {
    let records = store.read_all(0, 100).unwrap();
    let mut prev: Hash = records[from - 1].hash();
    let mut frontier = planledger_ledger::Frontier::new();
    let mut nodes = Vec::new();
    for r in &records[..from] {
        frontier.push(r.hash(), |id, h| nodes.push((id, h)));
    }
    let mut forged: Vec<Record> = Vec::new();
    for r in &records[from..] {
        let mut entry = r.entry().clone();
        let mut sealed_at = r.sealed_at_micros().expect("layout 2");
        change(r.position(), &mut entry, &mut sealed_at);
        let f = seal(r.position(), prev, sealed_at, &entry).unwrap();
        prev = f.hash();
        frontier.push(prev, |id, h| nodes.push((id, h)));
        forged.push(f);
    }
    let mut dba = dba_without_checks(url);
    let mut tx = dba.transaction().unwrap();
    for f in &forged {
        tx.execute(
            "UPDATE planledger.records SET bytes = $1 WHERE position = $2",
            &[&f.bytes(), &(f.position() as i64)],
        )
        .unwrap();
    }
    for (id, h) in &nodes {
        tx.execute(
            "UPDATE planledger.nodes SET hash = $1 WHERE level = $2 AND idx = $3",
            &[
                &h.as_bytes().as_slice(),
                &i16::from(id.level),
                &(id.index as i64),
            ],
        )
        .unwrap();
    }
    let peaks: Vec<u8> = frontier.peaks().iter().flat_map(|h| h.0).collect();
    let last_sealed = forged.last().and_then(|f| f.sealed_at_micros());
    tx.execute(
        "UPDATE planledger.ledgers SET last_hash = $1, peaks = $2, sealed_at = $3",
        &[&prev.as_bytes().as_slice(), &peaks, &last_sealed],
    )
    .unwrap();
    tx.commit().unwrap();
}

/// A rewrite that moves one record's sealing time before its predecessor's, however
/// consistent the forger makes the rest, fails verification at that record.
#[test]
fn a_sealing_time_moved_back_fails_verify_at_that_position() {
    let (store, url) = ledger();
    let records = store.read_all(0, 100).unwrap();
    let before_11 = records[11].sealed_at_micros().unwrap() - 1_000_000;
    reseal_from(&store, &url, 12, |position, _, sealed| {
        if position == 12 {
            *sealed = before_11;
        }
    });
    let reopened = PostgresStore::open(&url, "org-a").expect("the forgery is self-consistent");
    let report = verify_store(&reopened, &[], &mut |_, _| {}).unwrap();
    let v = report.violation.expect("the sealing order catches it");
    assert_eq!(v.position, 12, "{v:?}");
    assert!(
        matches!(v.kind, ViolationKind::SealedBeforePredecessor { sealed, .. } if sealed == before_11),
        "{v:?}"
    );
}

/// The thorough forger rewrites one record's payload: only a tree head kept elsewhere
/// (a checkpoint) catches that.
#[test]
fn a_resealed_rewrite_passes_alone_but_not_against_an_earlier_checkpoint() {
    let (store, url) = ledger();
    let before = store.head().unwrap();
    let checkpoint = TreeHead {
        size: before.size,
        root: before.root,
    };
    reseal_from(&store, &url, 12, |position, entry, _| {
        if position == 12 {
            entry.payload = b"{\"rewritten\":true}".to_vec();
        }
    });
    let reopened = PostgresStore::open(&url, "org-a").expect("the forgery is self-consistent");
    let alone = verify_store(&reopened, &[], &mut |_, _| {}).unwrap();
    assert!(alone.is_ok(), "{}", alone.message());
    let against = verify_store(&reopened, &[checkpoint], &mut |_, _| {}).unwrap();
    let v = against
        .violation
        .expect("the checkpoint catches the rewrite");
    assert!(
        matches!(v.kind, ViolationKind::RootMismatch { size: 20, .. }),
        "{v:?}"
    );
}
