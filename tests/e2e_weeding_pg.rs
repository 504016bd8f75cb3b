//! End to end: per-client encryption and weeding on a PostgreSQL ledger, through the
//! command line, on a throwaway server (`testing::shared`): the key store lives in the
//! ledger's database (`planledger.key_stores`, `planledger.client_keys`), and a
//! destroyed key's bytes are in no file of the key table afterwards, which the test
//! reads from the server's data directory.

use planledger_store_postgres::testing;

use crate::e2e_integrity::keys;
use crate::e2e_weeding::Keyed;
use crate::util::TestLedger;

/// Synthetic clients: A is weeded, B is held.
const A: &str = "196408233234";
const B: &str = "197010632391";

const WEED_DAY: &str = "2032-01-10T10:00:00Z";

/// A PostgreSQL ledger given its KEK on every command, as the embedded one of
/// `e2e_weeding` (whose commands it has through `Deref`).
struct KeyedPg {
    k: Keyed,
    url: String,
}

impl std::ops::Deref for KeyedPg {
    type Target = Keyed;
    fn deref(&self) -> &Keyed {
        &self.k
    }
}

impl KeyedPg {
    /// A new database of the shared server, migrated, with a KEK beside its ledger.
    fn new() -> KeyedPg {
        let url = testing::shared().create_database().unwrap();
        let t = TestLedger::at(&url);
        t.ok(&["db", "migrate", &url]);
        KeyedPg {
            k: Keyed::on(t),
            url,
        }
    }

    /// A superuser connection to the ledger's database.
    fn sql(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect as superuser")
    }

    /// The key id of `plan`'s first record and the wrapped key the key table holds
    /// for it.
    fn key_of(&self, plan: &str) -> (Vec<u8>, Vec<u8>) {
        let bytes: Vec<u8> = self
            .sql()
            .query_one(
                "SELECT bytes FROM planledger.records WHERE stream_id = $1 AND stream_version = 1",
                &[&plan],
            )
            .expect("the plan has records")
            .get(0);
        let id = planledger_ledger::Record::decode(bytes)
            .expect("a record decodes")
            .entry()
            .envelope
            .key_id
            .clone();
        assert_eq!(id.len(), 16, "the plan's payloads are encrypted");
        let wrapped: Vec<u8> = self
            .sql()
            .query_one(
                "SELECT wrapped FROM planledger.client_keys WHERE key_id = $1",
                &[&id],
            )
            .expect("the key is in the key table")
            .get(0);
        (id, wrapped)
    }

    /// The bytes of every file of the key table as the server has them on disk: the
    /// table's and its indexes' (after a CHECKPOINT, so nothing is only in shared
    /// buffers), and `also` (files it had before: their paths, relative to the data
    /// directory, are read whatever is there now; missing ones read as empty).
    fn key_table_files(&self, also: &[String]) -> (Vec<String>, Vec<u8>) {
        let mut c = self.sql();
        c.batch_execute("CHECKPOINT").unwrap();
        let paths: Vec<String> = c
            .query(
                "SELECT pg_relation_filepath(oid) FROM pg_class
                 WHERE oid = 'planledger.client_keys'::regclass
                    OR oid IN (SELECT indexrelid FROM pg_index
                               WHERE indrelid = 'planledger.client_keys'::regclass)
                    OR oid = (SELECT reltoastrelid FROM pg_class
                              WHERE oid = 'planledger.client_keys'::regclass)",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(paths.len() >= 3, "the table and its two indexes: {paths:?}");
        let mut bytes = Vec::new();
        for p in paths.iter().chain(also) {
            let file: Option<Vec<u8>> = c
                .query_one("SELECT pg_read_binary_file($1, 0, 1 << 26, true)", &[p])
                .unwrap()
                .get(0);
            bytes.extend(file.unwrap_or_default());
        }
        (paths, bytes)
    }

    /// Every text column and byte string of the ledger's tables, for a search.
    fn database_text(&self) -> String {
        let mut c = self.sql();
        let mut all = String::new();
        for q in [
            "SELECT encode(bytes, 'escape') FROM planledger.records",
            "SELECT value FROM planledger.stream_tags",
            "SELECT encode(summary, 'escape') FROM planledger.stream_summaries",
            "SELECT encode(wrapped || lookup || owner, 'escape') FROM planledger.client_keys",
            "SELECT encode(lookup_secret, 'escape') FROM planledger.key_stores",
        ] {
            for r in c.query(q, &[]).unwrap() {
                all.push_str(&r.get::<_, String>(0));
                all.push('\n');
            }
        }
        all
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_postgres_ledger_is_encrypted_weeded_and_verified_as_an_embedded_one() {
    let k = KeyedPg::new();
    let t = &k.t;
    k.ok(&["init"]);
    k.order("plan-a", A);
    k.order("plan-b", B);

    // No personnummer in the clear in the database: payloads, summaries and client tags
    // are sealed under the clients' keys, and the key table holds lookup hashes.
    let text = k.database_text();
    assert!(text.contains("plan-a"), "the search reads the records");
    for pnr in [A, B, "19640823-3234"] {
        assert!(!text.contains(pnr), "a number in the database");
    }
    // The analysts' view lists no sealed summary (and does not fail on one).
    let rows = k
        .sql()
        .query("SELECT plan FROM planledger.plan_states", &[])
        .unwrap();
    assert!(rows.is_empty(), "sealed summaries are not JSON");
    // Readers with the KEK see everything; without it, or with another, the ledger is
    // refused.
    let history = k.ok(&["history", "--client", A]);
    assert!(history.contains("plan-a"), "{history}");
    let err = t.fails_at("2026-03-02T09:00:00Z", &["history", "--plan", "plan-a"], 2);
    assert!(err.contains("--kek"), "{err}");
    let other = t.path("other.kek");
    t.ok(&["kek-gen", "--out", other.to_str().unwrap()]);
    let err = t.fails_at(
        "2026-03-02T09:00:00Z",
        &["--kek", other.to_str().unwrap(), "show", "plan-a"],
        2,
    );
    assert!(
        err.contains("not the one the key store was written with"),
        "{err}"
    );

    let (secret, pubkey) = keys(t);
    let witness = t.path("witness");
    let witness = witness.to_str().unwrap();
    k.ok(&["checkpoint", "--key", &secret, "--witness", witness]);

    k.ok_at(
        "2031-06-01T09:00:00Z",
        &[
            "hold",
            "add",
            "--client",
            B,
            "--reason",
            "IVO 2031-77",
            "--as",
            "adm1",
            "--role",
            "admin",
        ],
    );
    let head = t.head();
    let dry = k.ok_at(WEED_DAY, &["weed", "--as-of", "2032-01-10", "--dry-run"]);
    assert!(
        dry.contains("19640823-**** last entry 2026-03-02 plans 1: due under SoL"),
        "{dry}"
    );
    assert!(
        dry.contains("dry run: 1 clients due, 1 held; nothing was written"),
        "{dry}"
    );
    assert_eq!(t.head(), head, "a dry run writes nothing");

    // The wrapped key is in the key table's files before the weeding (the search can
    // find it), and in none of them after, nor in the files the table had before.
    let (id_a, wrapped_a) = k.key_of("plan-a");
    let (_, wrapped_b) = k.key_of("plan-b");
    let (old_paths, before) = k.key_table_files(&[]);
    assert!(contains(&before, &wrapped_a), "the search finds the key");
    assert!(contains(&before, &id_a));
    let out = k.ok_at(
        WEED_DAY,
        &[
            "weed",
            "--as-of",
            "2032-01-10",
            "--decision",
            "GB-2032-1",
            "--as",
            "adm1",
            "--role",
            "admin",
        ],
    );
    assert!(out.contains("weeded 1 clients; 1 held"), "{out}");
    let (new_paths, after) = k.key_table_files(&old_paths);
    assert_ne!(new_paths, old_paths, "the key table has new files");
    assert!(
        !contains(&after, &wrapped_a),
        "the wrapped key is still in a file of the key table"
    );
    assert!(!contains(&after, &id_a), "the key id is still in a file");
    assert!(contains(&after, &wrapped_b), "B's key stays");

    // The chain and the checkpoint signed before the weeding still verify; history and
    // show say that A's plan was weeded; A cannot be found by number.
    let out = k.ok(&["verify", "--witness", witness, "--pubkey", &pubkey]);
    assert!(out.contains("1 checkpoints matched"), "{out}");
    let history = k.ok(&["history", "--plan", "plan-a", "--lang", "en"]);
    assert!(
        history.contains("weeded on 2032-01-10 under SoL (decision GB-2032-1)"),
        "{history}"
    );
    let shown = k.ok(&["show", "plan-a", "--lang", "en"]);
    assert!(shown.contains("weeded on 2032-01-10"), "{shown}");
    let by_number = k.fails_at(WEED_DAY, &["history", "--client", A], 4);
    assert!(
        by_number.contains("19640823-**** has no plan"),
        "{by_number}"
    );
    let b = k.ok(&["history", "--plan", "plan-b"]);
    assert!(b.contains("best-plan-b mottagen"), "{b}");

    // B's bundle is exported against a checkpoint signed after the weeding.
    k.ok(&["checkpoint", "--key", &secret, "--witness", witness]);
    let bundle = t.path("b.json");
    let out = k.ok(&[
        "export",
        "--client",
        B,
        "--out",
        bundle.to_str().unwrap(),
        "--witness",
        witness,
        "--pubkey",
        &pubkey,
    ]);
    assert!(out.starts_with("wrote 1 records of 1 plans"), "{out}");
    let bundle = std::fs::read_to_string(&bundle).unwrap();
    assert!(!bundle.contains(A), "A is in no bundle of B's");

    // Rotating the KEK rewraps B's key: the old KEK no longer opens the ledger, and the
    // old wrapping is in no file of the key table.
    let new_kek = t.path("ledger-2.kek");
    t.ok(&["kek-gen", "--out", new_kek.to_str().unwrap()]);
    let out = k.ok(&["rotate-kek", "--new-kek", new_kek.to_str().unwrap()]);
    assert!(out.starts_with("rewrapped 1 client keys"), "{out}");
    let err = k.fails_at(WEED_DAY, &["history", "--plan", "plan-b"], 2);
    assert!(
        err.contains("not the one the key store was written with"),
        "{err}"
    );
    let out = t.ok(&[
        "--kek",
        new_kek.to_str().unwrap(),
        "history",
        "--plan",
        "plan-b",
    ]);
    assert!(out.contains("best-plan-b mottagen"), "{out}");
    let (_, rotated) = k.key_table_files(&new_paths);
    assert!(!contains(&rotated, &wrapped_b), "the old wrapping is gone");
    t.ok(&[
        "--kek",
        new_kek.to_str().unwrap(),
        "verify",
        "--witness",
        witness,
        "--pubkey",
        &pubkey,
    ]);
}

#[test]
fn a_weeding_on_postgres_killed_after_its_event_is_finished_by_the_next_run() {
    let k = KeyedPg::new();
    k.ok(&["init"]);
    k.order("plan-a", A);
    let (id, _) = k.key_of("plan-a");
    let weed = [
        "weed",
        "--as-of",
        "2032-01-10",
        "--decision",
        "GB-1",
        "--as",
        "adm1",
        "--role",
        "admin",
    ];
    // Hold the key table in SHARE mode: `weed` reads keys and records its event, then
    // waits for the lock its key rewrite needs; killed there, it leaves the client
    // recorded as weeded with the key still in the table.
    let mut lock = k.sql();
    let mut locked = lock.transaction().unwrap();
    locked
        .batch_execute("LOCK TABLE planledger.client_keys IN SHARE MODE")
        .unwrap();
    let mut weeding = std::process::Command::new(env!("CARGO_BIN_EXE_planledger"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PLANLEDGER_LEDGER", &k.url)
        .args(["--claimed-at", WEED_DAY])
        .args(k.args(&weed))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let events = || -> i64 {
        k.sql()
            .query_one(
                "SELECT count(*) FROM planledger.records WHERE stream_id = $1",
                &[&planledger_plan::retention::RETENTION_STREAM],
            )
            .unwrap()
            .get(0)
    };
    let waited = std::time::Instant::now();
    while events() == 0 {
        assert!(
            weeding.try_wait().unwrap().is_none(),
            "weed ended before recording its event"
        );
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(120),
            "no weeding event"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    weeding.kill().unwrap();
    weeding.wait().unwrap();
    locked.rollback().unwrap();
    let held: i64 = k
        .sql()
        .query_one(
            "SELECT count(*) FROM planledger.client_keys WHERE key_id = $1",
            &[&id],
        )
        .unwrap()
        .get(0);
    assert_eq!(held, 1, "the key is still there");
    let out = k.ok_at(WEED_DAY, &weed);
    assert!(out.contains("finished 1 weedings"), "{out}");
    let held: i64 = k
        .sql()
        .query_one("SELECT count(*) FROM planledger.client_keys", &[])
        .unwrap()
        .get(0);
    assert_eq!(held, 0, "the next run destroyed it");
    k.ok(&["verify"]);
    let h = k.ok(&["history", "--plan", "plan-a", "--lang", "en"]);
    assert!(h.contains("weeded on 2032-01-10 under SoL"), "{h}");
}
