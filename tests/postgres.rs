//! PostgreSQL end to end: a ledger moved redb → PostgreSQL → redb keeps every record
//! hash, and a synchronous standby promoted after the primary is killed mid-stream has
//! every acknowledged append.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use planledger_ledger::Record;
use planledger_store::conformance::batch;
use planledger_store::{Appended, ExpectedVersion, Store, copy_ledger, verify_store};
use planledger_store_postgres::testing::{self, TestServer};
use planledger_store_postgres::{PostgresStore, migrate};
use planledger_store_redb::RedbStore;

fn all_records(store: &dyn Store) -> Vec<Record> {
    let mut out = Vec::new();
    loop {
        let page = store.read_all(out.len() as u64, 1000).expect("read_all");
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

fn assert_verifies(store: &dyn Store, what: &str) {
    let report = verify_store(store, &[], &mut |_, _| {}).expect("verify");
    assert!(report.is_ok(), "{what}: {}", report.message());
}

#[test]
fn a_ledger_copied_redb_to_postgres_to_redb_keeps_every_record_hash() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = RedbStore::create(dir.path().join("a.redb")).unwrap();
    for i in 0..120 {
        embedded
            .append(batch(
                &format!("plan-{}", i % 9),
                ExpectedVersion::Any,
                1 + i % 4,
            ))
            .unwrap();
    }
    let original = all_records(&embedded);

    let url = testing::shared().create_database().unwrap();
    migrate(&url).unwrap();
    let pg = PostgresStore::create(&url, "org-a").unwrap();
    let mut last = (0, 0);
    let head = copy_ledger(&embedded, &pg, &mut |done, total| last = (done, total)).unwrap();
    assert_eq!(last, (head.size, head.size));
    assert_eq!(head, embedded.head().unwrap());
    assert_verifies(&pg, "the PostgreSQL copy");

    // Back, from a freshly opened PostgreSQL store (the copy is durable, not cached).
    let pg = PostgresStore::open(&url, "org-a").unwrap();
    let back = RedbStore::create(dir.path().join("b.redb")).unwrap();
    assert_eq!(copy_ledger(&pg, &back, &mut |_, _| {}).unwrap(), head);
    assert_verifies(&back, "the redb copy of the copy");

    let hashes = |s: &dyn Store| all_records(s).iter().map(Record::hash).collect::<Vec<_>>();
    let expected: Vec<_> = original.iter().map(Record::hash).collect();
    assert_eq!(hashes(&pg), expected);
    assert_eq!(hashes(&back), expected);
    assert_eq!(
        all_records(&back),
        original,
        "the bytes themselves are identical"
    );
    // The copies continue like the original would.
    let next = back
        .append(batch(
            "plan-0",
            ExpectedVersion::Exact(back.stream_version("plan-0").unwrap()),
            1,
        ))
        .unwrap();
    assert_eq!(next.first_position, head.size);
}

#[test]
fn copying_into_a_ledger_that_has_records_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = RedbStore::create(dir.path().join("a.redb")).unwrap();
    embedded
        .append(batch("plan-1", ExpectedVersion::Any, 2))
        .unwrap();
    let url = testing::shared().create_database().unwrap();
    migrate(&url).unwrap();
    let pg = PostgresStore::create(&url, "org-a").unwrap();
    pg.append(batch("plan-2", ExpectedVersion::Any, 1)).unwrap();
    assert!(copy_ledger(&embedded, &pg, &mut |_, _| {}).is_err());
    assert_eq!(pg.head().unwrap().size, 1);
}

/// The database name at the end of a test server URL.
fn database_of(url: &str) -> &str {
    let path = url.rsplit('/').next().expect("a URL has a path");
    path.split('?').next().expect("split yields a first part")
}

#[test]
fn a_promoted_synchronous_standby_has_every_acknowledged_append() {
    // Every commit waits until the standby has applied it: an acknowledged append is on
    // both machines.
    let primary = TestServer::start_with(&[
        ("synchronous_standby_names", "*"),
        ("synchronous_commit", "remote_apply"),
    ])
    .expect("start the primary");
    let standby = TestServer::standby_of(&primary, "standby1", &[]).expect("start the standby");
    let mut admin = primary.admin().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sync: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'",
                &[],
            )
            .unwrap()
            .get(0);
        if sync == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the standby never became synchronous; its log:\n{}",
            standby.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(admin);

    let url = primary.create_database().unwrap();
    migrate(&url).unwrap();
    let store = PostgresStore::create(&url, "org-a").unwrap();

    let acked: Arc<Mutex<Vec<Appended>>> = Arc::default();
    let writer = {
        let acked = acked.clone();
        std::thread::spawn(move || {
            // Appends until the primary dies under it; the deadline only keeps a broken
            // kill from hanging the test.
            let deadline = Instant::now() + Duration::from_secs(300);
            for i in 0.. {
                let stream = format!("plan-{}", i % 5);
                match store.append(batch(&stream, ExpectedVersion::Any, 1 + i % 3)) {
                    Ok(a) => acked.lock().unwrap().push(a),
                    Err(e) => return Some(e.to_string()),
                }
                if Instant::now() > deadline {
                    break;
                }
            }
            None
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    primary.kill_hard().expect("kill the primary");
    let failure = writer.join().expect("the writer thread panicked");
    assert!(failure.is_some(), "the writer never saw the primary die");
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 40,
        "the writer got only {} appends acknowledged",
        acked.len()
    );

    standby.promote().expect("promote the standby");
    let promoted = PostgresStore::open(&standby.url(database_of(&url)), "org-a")
        .expect("open the ledger on the promoted standby");
    let records = all_records(&promoted);
    for a in &acked {
        // The acknowledged batch's last record is there, and it is the same record.
        let last = usize::try_from(a.head.size - 1).unwrap();
        assert!(
            last < records.len(),
            "acknowledged position {last} is missing after failover ({} records survived)",
            records.len()
        );
        assert_eq!(
            records[last].hash(),
            a.head.last_hash,
            "record {last} changed"
        );
    }
    assert_verifies(&promoted, "the promoted standby");
    // The promoted standby takes appends where the ledger ends.
    let size = promoted.head().unwrap().size;
    let next = promoted
        .append(batch("plan-0", ExpectedVersion::Any, 1))
        .unwrap();
    assert_eq!(next.first_position, size);
    assert_verifies(&promoted, "the promoted standby after a new append");
}
