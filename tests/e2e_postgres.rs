//! The CLI on PostgreSQL: the same commands with a `postgres://` ledger, and a copy back
//! to the embedded store with the same head.

use planledger_store_postgres::testing;
use serde_json::Value;

use crate::e2e::walk_home_care;
use crate::util::TestLedger;

#[test]
fn the_cli_records_verifies_and_copies_a_postgres_ledger() {
    let url = testing::shared().create_database().unwrap();
    let t = TestLedger::at(&url);
    let out = t.ok(&["db", "migrate", &url]);
    assert!(out.starts_with("database schema is current"), "{out}");
    t.ok(&["init"]);
    // A second init is refused and changes nothing.
    t.fails_at("2026-03-02T09:00:00Z", &["init"], 2);
    walk_home_care(&t);
    let out = t.ok(&["verify"]);
    assert!(out.starts_with("OK: verified 12 records"), "{out}");
    let rows: Value = serde_json::from_str(&t.ok(&[
        "audit",
        "overview",
        "--as-of",
        "2026-04-30",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(rows[0]["status"], "approved");

    let copy = t.path("copy");
    t.ok(&["copy", "--from", &url, "--to", copy.to_str().unwrap()]);
    let copied: Value =
        serde_json::from_str(&t.ok(&["--ledger", copy.to_str().unwrap(), "head", "--json"]))
            .unwrap();
    assert_eq!(copied, t.head());
}

#[test]
fn a_select_only_role_reads_every_report_and_cannot_write() {
    let server = testing::shared();
    let url = server.create_database().unwrap();
    let t = TestLedger::at(&url);
    t.ok(&["db", "migrate", &url]);
    t.ok(&["init"]);
    walk_home_care(&t);
    // An analyst's or inspector's role: SELECT on the planledger schema, nothing else.
    let db = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
             GRANT USAGE ON SCHEMA planledger TO reader;
             GRANT SELECT ON ALL TABLES IN SCHEMA planledger TO reader;",
        )
        .unwrap();
    let reader = TestLedger::at(&server.url_as("reader", &db));
    for args in [
        vec!["audit", "overview", "--as-of", "2026-04-30"],
        vec!["audit", "overdue", "--as-of", "2026-04-30"],
        vec![
            "history",
            "--client",
            "196408233234",
            "--as-of",
            "2026-04-30",
        ],
        vec!["show", "plan-0001"],
        vec!["verify"],
    ] {
        reader.ok(&args);
    }
    // The analyst's view of the read model: each plan's summary as jsonb.
    let mut analyst =
        ::postgres::Client::connect(&server.url_as("reader", &db), ::postgres::NoTls).unwrap();
    let row = analyst
        .query_one(
            "SELECT plan, unit, state->>'events', jsonb_array_length(state->'versions')
             FROM planledger.plan_states",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "plan-0001");
    assert_eq!(row.get::<_, String>(1), "hemtjanst-norr");
    assert_eq!(
        row.get::<_, Option<String>>(2).unwrap(),
        t.head()["size"].as_u64().unwrap().to_string()
    );
    assert!(row.get::<_, i32>(3) >= 1);
    let before = t.head();
    // The domain accepts the deviation; the database refuses the reader's write.
    let stderr = reader.fails_at(
        "2026-05-01T09:00:00Z",
        &[
            "deviation",
            "--as",
            "sam",
            "--role",
            "staff",
            "--plan",
            "plan-0001",
            "--occurred-on",
            "2026-04-30",
            "--description",
            "Besöket uteblev",
        ],
        5,
    );
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert_eq!(t.head(), before);
}
