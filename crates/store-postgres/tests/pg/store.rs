//! The PostgreSQL store's own rules, beyond the conformance suite: the schema, the
//! application role, ledgers side by side, the opening check.

use std::sync::Arc;

use planledger_ledger::{Actor, Envelope, Frontier, Hash, Record};
use planledger_store::{AppendBatch, ExpectedVersion, NewEvent, Store, StoreError};
use planledger_store_postgres::{PostgresStore, SCHEMA_VERSION, migrate, testing};

use crate::{migrated_db, superuser as sql};

fn batch(stream: &str, expected: ExpectedVersion, n: usize) -> AppendBatch {
    AppendBatch {
        stream_id: stream.into(),
        expected,
        actor: Actor {
            user_id: "kw-1".into(),
            role: "key_worker".into(),
        },
        claimed_at_micros: 1_767_225_600_000_000,
        command_id: None,
        tags: Vec::new(),
        summary: None,
        events: (0..n)
            .map(|i| NewEvent {
                event_type: "plan_revised".into(),
                schema_version: 1,
                envelope: Envelope::plaintext(),
                payload: format!("{{\"n\":{i}}}").into_bytes(),
            })
            .collect(),
    }
}

/// Re-reads the whole ledger and checks positions, the chain and the tree head: the
/// first position that does not fit, or the error reading it.
fn first_bad_position(store: &dyn Store) -> Option<u64> {
    let head = store.head().ok()?;
    let mut prev = Hash::ZERO;
    let mut tree = Frontier::new();
    let mut at = 0u64;
    loop {
        let chunk = match store.read_all(at, 64) {
            Ok(c) => c,
            Err(StoreError::Corrupt { position, .. }) => return Some(position),
            Err(e) => panic!("read failed: {e}"),
        };
        if chunk.is_empty() {
            break;
        }
        for r in chunk {
            if r.position() != at || r.prev_hash() != prev {
                return Some(at);
            }
            prev = r.hash();
            tree.push(prev, |_, _| {});
            at += 1;
        }
    }
    if at != head.size || prev != head.last_hash || tree.root() != head.root {
        return Some(at.min(head.size));
    }
    None
}

#[test]
fn appends_read_back_in_order_with_a_consistent_head() {
    let url = migrated_db();
    let store = PostgresStore::create(&url, "org-a").unwrap();
    let a = store
        .append(batch("plan-1", ExpectedVersion::NoStream, 3))
        .unwrap();
    assert_eq!((a.first_position, a.stream_version, a.head.size), (0, 3, 3));
    let b = store
        .append(batch("plan-2", ExpectedVersion::NoStream, 2))
        .unwrap();
    let c = store
        .append(batch("plan-1", ExpectedVersion::Exact(3), 1))
        .unwrap();
    assert_eq!(
        (b.first_position, c.first_position, c.stream_version),
        (3, 5, 4)
    );

    let all = store.read_all(0, 100).unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(store.read_all(4, 1).unwrap()[0].position(), 4);
    let s1: Vec<u64> = store
        .read_stream("plan-1", 2, 10)
        .unwrap()
        .iter()
        .map(Record::stream_version)
        .collect();
    assert_eq!(s1, [2, 3, 4]);
    assert!(store.read_stream("plan-9", 1, 10).unwrap().is_empty());
    assert_eq!(store.stream_version("plan-2").unwrap(), 2);
    assert_eq!(store.stream_version("plan-9").unwrap(), 0);
    assert_eq!(store.head().unwrap(), c.head);
    assert_eq!(first_bad_position(&store), None);

    // The stored Merkle nodes are the ones a frontier over the record hashes reports.
    let mut tree = Frontier::new();
    let mut nodes = Vec::new();
    for r in &all {
        tree.push(r.hash(), |id, h| nodes.push((id, h)));
    }
    for (id, h) in nodes {
        assert_eq!(store.node(id).unwrap(), h, "{id:?}");
    }
    assert!(matches!(
        store.node(planledger_ledger::NodeId { level: 3, index: 0 }),
        Err(StoreError::NotFound { .. })
    ));

    // Reopening finds the same head.
    let reopened = PostgresStore::open(&url, "org-a").unwrap();
    assert_eq!(reopened.head().unwrap(), c.head);
}

#[test]
fn a_stale_expected_version_is_a_conflict_and_writes_nothing() {
    let url = migrated_db();
    let store = PostgresStore::create(&url, "org-a").unwrap();
    store
        .append(batch("plan-1", ExpectedVersion::NoStream, 2))
        .unwrap();
    let head = store.head().unwrap();
    for expected in [ExpectedVersion::NoStream, ExpectedVersion::Exact(1)] {
        match store.append(batch("plan-1", expected, 1)) {
            Err(StoreError::Conflict { actual: 2, .. }) => {}
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    assert!(matches!(
        store.append(batch("plan-1", ExpectedVersion::Exact(2), 0)),
        Err(StoreError::EmptyBatch)
    ));
    assert_eq!(store.head().unwrap(), head);
    store
        .append(batch("plan-1", ExpectedVersion::Any, 1))
        .unwrap();
    assert_eq!(store.stream_version("plan-1").unwrap(), 3);
}

#[test]
fn ledgers_in_one_database_are_independent() {
    let url = migrated_db();
    let a = PostgresStore::create(&url, "org-a").unwrap();
    let b = PostgresStore::create(&url, "org-b").unwrap();
    a.append(batch("plan-1", ExpectedVersion::NoStream, 2))
        .unwrap();
    let appended = b
        .append(batch("plan-1", ExpectedVersion::NoStream, 1))
        .unwrap();
    assert_eq!(appended.first_position, 0, "each ledger counts from 0");
    assert_eq!(a.head().unwrap().size, 2);
    assert_eq!(PostgresStore::ledgers(&url).unwrap(), ["org-a", "org-b"]);
    assert!(matches!(
        PostgresStore::open(&url, "org-c"),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn concurrent_writers_to_one_ledger_leave_it_gapless() {
    let url = migrated_db();
    let store = Arc::new(PostgresStore::create(&url, "org-a").unwrap());
    let other = Arc::new(PostgresStore::create(&url, "org-b").unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = if t == 3 { other.clone() } else { store.clone() };
            std::thread::spawn(move || {
                for _ in 0..15 {
                    store
                        .append(batch(&format!("plan-{t}"), ExpectedVersion::Any, 2))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.head().unwrap().size, 90);
    assert_eq!(other.head().unwrap().size, 30);
    assert_eq!(first_bad_position(&*store), None);
    assert_eq!(first_bad_position(&*other), None);
    assert_eq!(store.stream_version("plan-0").unwrap(), 30);
}

#[test]
fn migrate_is_idempotent_and_required() {
    let url = testing::shared().create_database().unwrap();
    match PostgresStore::create(&url, "org-a") {
        Err(StoreError::Backend(e)) => assert!(e.to_string().contains("db migrate"), "{e}"),
        other => panic!("expected a NotMigrated error, got {other:?}"),
    }
    assert_eq!(
        migrate(&url).unwrap(),
        (1..=SCHEMA_VERSION).collect::<Vec<_>>()
    );
    assert_eq!(migrate(&url).unwrap(), Vec::<u32>::new());
    PostgresStore::create(&url, "org-a").unwrap();
}

#[test]
fn the_application_role_can_append_but_not_update_or_delete() {
    let server = testing::shared();
    let url = migrated_db();
    let db = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let user = format!("app_{db}");
    sql(&url)
        .batch_execute(&format!("CREATE ROLE {user} LOGIN IN ROLE planledger_app"))
        .unwrap();
    let app_url = server.url_as(&user, &db);
    let store = PostgresStore::create(&app_url, "org-a").unwrap();
    store
        .append(batch("plan-1", ExpectedVersion::NoStream, 2))
        .unwrap();
    store
        .append(batch("plan-1", ExpectedVersion::Exact(2), 1))
        .unwrap();

    let mut app = sql(&app_url);
    for stmt in [
        "UPDATE planledger.records SET bytes = '\\x00' WHERE position = 0",
        "DELETE FROM planledger.records WHERE position = 2",
        "TRUNCATE planledger.records",
        "UPDATE planledger.nodes SET hash = hash",
        "DELETE FROM planledger.nodes",
        "UPDATE planledger.ledgers SET name = 'other'",
        "DELETE FROM planledger.ledgers",
    ] {
        let err = app.batch_execute(stmt).expect_err(stmt);
        assert_eq!(
            err.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{stmt}: {err}"
        );
    }
    assert_eq!(first_bad_position(&store), None);
}

#[test]
fn the_schema_refuses_gaps_duplicate_stream_versions_and_changes() {
    let url = migrated_db();
    let store = PostgresStore::create(&url, "org-a").unwrap();
    let records = {
        store
            .append(batch("plan-1", ExpectedVersion::NoStream, 2))
            .unwrap();
        store.read_all(0, 10).unwrap()
    };
    let mut c = sql(&url);
    let insert =
        "INSERT INTO planledger.records (ledger, position, stream_id, stream_version, bytes)
                  SELECT id, $1, $2, $3, $4 FROM planledger.ledgers WHERE name = 'org-a'";
    let bytes = records[1].bytes();
    // A gap in positions.
    let err = c
        .execute(insert, &[&5i64, &"plan-2", &1i64, &bytes])
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&postgres::error::SqlState::CHECK_VIOLATION)
    );
    // A gap inside one statement's rows.
    let err = c
        .execute(
            "INSERT INTO planledger.records (ledger, position, stream_id, stream_version, bytes)
             SELECT id, p, 'plan-' || p, 1, $1 FROM planledger.ledgers, unnest(ARRAY[2, 4]::bigint[]) p
             WHERE name = 'org-a'",
            &[&bytes],
        )
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&postgres::error::SqlState::CHECK_VIOLATION)
    );
    // A stream version taken twice.
    let err = c
        .execute(insert, &[&2i64, &"plan-1", &2i64, &bytes])
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
    );
    // A gap in a stream's versions.
    let err = c
        .execute(insert, &[&2i64, &"plan-1", &4i64, &bytes])
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&postgres::error::SqlState::CHECK_VIOLATION)
    );
    // The next position and version are accepted: the checks are not just refusals.
    c.execute(insert, &[&2i64, &"plan-1", &3i64, &bytes])
        .unwrap();
    // Records and nodes are append-only even for a superuser.
    for stmt in [
        "DELETE FROM planledger.records WHERE position = 2",
        "UPDATE planledger.records SET bytes = bytes WHERE position = 0",
        "TRUNCATE planledger.records, planledger.nodes",
        "UPDATE planledger.nodes SET hash = hash",
        "DELETE FROM planledger.ledgers",
    ] {
        let err = c.batch_execute(stmt).expect_err(stmt);
        assert_eq!(
            err.code(),
            Some(&postgres::error::SqlState::RESTRICT_VIOLATION),
            "{stmt}: {err}"
        );
    }
}

#[test]
fn opening_a_ledger_whose_head_disagrees_with_its_records_is_corrupt() {
    let url = migrated_db();
    let store = PostgresStore::create(&url, "org-a").unwrap();
    store
        .append(batch("plan-1", ExpectedVersion::NoStream, 5))
        .unwrap();
    drop(store);
    // The head moved back by one: the last record is no longer covered by it.
    sql(&url)
        .batch_execute("UPDATE planledger.ledgers SET size = 4 WHERE name = 'org-a';")
        .unwrap();
    match PostgresStore::open(&url, "org-a") {
        Err(StoreError::Corrupt { .. }) => {}
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn opening_a_ledger_whose_last_record_was_replaced_is_corrupt() {
    let url = migrated_db();
    let store = PostgresStore::create(&url, "org-a").unwrap();
    store
        .append(batch("plan-1", ExpectedVersion::NoStream, 3))
        .unwrap();
    let other = store.read_all(1, 1).unwrap().remove(0);
    drop(store);
    let mut dba = sql(&url);
    dba.batch_execute("SET session_replication_role = replica")
        .unwrap();
    dba.execute(
        "UPDATE planledger.records SET bytes = $1 WHERE position = 2",
        &[&other.bytes()],
    )
    .unwrap();
    match PostgresStore::open(&url, "org-a") {
        Err(StoreError::Corrupt { position: 2, .. }) => {}
        other => panic!("expected Corrupt at 2, got {other:?}"),
    }
}

#[test]
fn sealed_records_copy_into_another_ledger_with_identical_hashes() {
    let url = migrated_db();
    let from = PostgresStore::create(&url, "org-a").unwrap();
    for i in 0..5 {
        from.append(batch(
            &format!("plan-{}", i % 2),
            ExpectedVersion::Any,
            i + 1,
        ))
        .unwrap();
    }
    let records = from.read_all(0, 1000).unwrap();
    let to = PostgresStore::create(&url, "org-copy").unwrap();
    let head = to.append_sealed(&records[..4]).unwrap();
    assert_eq!(head.size, 4);
    // Skipping a record does not continue the chain: nothing is written.
    assert!(to.append_sealed(&records[5..]).is_err());
    assert_eq!(to.head().unwrap().size, 4);
    assert_eq!(
        to.append_sealed(&records[4..]).unwrap(),
        from.head().unwrap()
    );
    let copied = to.read_all(0, 1000).unwrap();
    assert_eq!(
        copied.iter().map(Record::hash).collect::<Vec<_>>(),
        records.iter().map(Record::hash).collect::<Vec<_>>()
    );
    assert_eq!(
        to.stream_version("plan-1").unwrap(),
        from.stream_version("plan-1").unwrap()
    );
}

#[test]
fn a_locked_ledger_holds_up_only_its_own_appends() {
    let url = migrated_db();
    let a = Arc::new(PostgresStore::create(&url, "org-a").unwrap());
    let b = PostgresStore::create(&url, "org-b").unwrap();
    // Another session holds ledger A's head row, as an append in flight does.
    let mut holder = sql(&url);
    let mut tx = holder.transaction().unwrap();
    tx.query(
        "SELECT 1 FROM planledger.ledgers WHERE name = 'org-a' FOR UPDATE",
        &[],
    )
    .unwrap();
    // No global lock: ledger B appends meanwhile.
    b.append(batch("plan-1", ExpectedVersion::NoStream, 2))
        .unwrap();
    // An append to A waits for A's row.
    let waiter = {
        let a = a.clone();
        std::thread::spawn(move || a.append(batch("plan-1", ExpectedVersion::NoStream, 1)))
    };
    let mut observer = sql(&url);
    loop {
        let waiting: i64 = observer
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .unwrap()
            .get(0);
        if waiting == 1 {
            break;
        }
        assert!(
            !waiter.is_finished(),
            "an append to a ledger whose head row is held did not wait for it"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(!waiter.is_finished());
    tx.commit().unwrap();
    let appended = waiter.join().unwrap().unwrap();
    assert_eq!(appended.first_position, 0);
    assert_eq!(b.head().unwrap().size, 2);
}
