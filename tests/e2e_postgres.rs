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
