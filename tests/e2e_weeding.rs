//! End to end: per-client encryption, legal holds and weeding (gallring) by
//! crypto-shredding (issue 16), through the command line.

use std::os::unix::fs::PermissionsExt;

use crate::e2e_integrity::keys;
use crate::util::TestLedger;

/// Synthetic clients: A is weeded, B is held, C was born on the 25th (kept for research).
const A: &str = "196408233234";
const B: &str = "197010632391";
const C: &str = "196408253232";

const WEED_DAY: &str = "2032-01-10T10:00:00Z";

/// A ledger given its key-encryption key on every command (`--kek`).
pub(crate) struct Keyed {
    pub(crate) t: TestLedger,
    pub(crate) kek: String,
}

impl Keyed {
    fn new() -> Keyed {
        Keyed::on(TestLedger::new())
    }

    /// `t` with a new KEK (`kek-gen`, checked to be 0600) beside it.
    pub(crate) fn on(t: TestLedger) -> Keyed {
        let kek = t.path("ledger.kek");
        let out = t.ok(&["kek-gen", "--out", kek.to_str().unwrap()]);
        assert!(out.contains("mode 0600"), "{out}");
        let mode = std::fs::metadata(&kek).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        Keyed {
            kek: kek.to_str().unwrap().to_owned(),
            t,
        }
    }

    pub(crate) fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec!["--kek", self.kek.as_str()];
        a.extend_from_slice(args);
        a
    }

    pub(crate) fn ok_at(&self, now: &str, args: &[&str]) -> String {
        self.t.ok_at(now, &self.args(args))
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        self.t.ok(&self.args(args))
    }

    pub(crate) fn fails_at(&self, now: &str, args: &[&str], code: i32) -> String {
        self.t.fails_at(now, &self.args(args), code)
    }

    pub(crate) fn order(&self, plan: &str, client: &str) {
        let order = order_args(plan, client);
        self.ok(&order.iter().map(String::as_str).collect::<Vec<_>>());
    }

    fn keys_file(&self) -> std::path::PathBuf {
        self.t.ledger().join("keys.redb")
    }
}

/// The arguments of a home-care order of `plan` for `client`.
pub(crate) fn order_args(plan: &str, client: &str) -> Vec<String> {
    [
        "order",
        "--as",
        "h7",
        "--role",
        "case_officer",
        "--plan",
        plan,
        "--order",
        &format!("best-{plan}"),
        "--unit",
        "hemtjanst-norr",
        "--act",
        "home_care",
        "--client",
        client,
        "--received-on",
        "2026-03-02",
        "--service",
        "dusch",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The key id of the first record of `plan`, and its wrapped key as the key store holds it.
fn key_of(k: &Keyed, plan: &str) -> (Vec<u8>, Vec<u8>) {
    let id =
        k.t.entries()
            .into_iter()
            .find(|e| e.stream_id == plan)
            .expect("the plan has records")
            .envelope
            .key_id;
    assert_eq!(id.len(), 16, "the plan's payloads are encrypted");
    let db = redb::Database::open(k.keys_file()).expect("open the key store");
    let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
    let table: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("keys");
    let table = txn.open_table(table).unwrap();
    let wrapped = table
        .get(id.as_slice())
        .unwrap()
        .expect("the key is there")
        .value()
        .to_vec();
    (id, wrapped)
}

/// Every entry of the key store's `keys` table.
fn key_table(k: &Keyed) -> Vec<(Vec<u8>, Vec<u8>)> {
    let db = redb::Database::open(k.keys_file()).expect("open the key store");
    let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
    let table: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("keys");
    let table = txn.open_table(table).unwrap();
    redb::ReadableTable::iter(&table)
        .unwrap()
        .map(|r| {
            let (a, b) = r.unwrap();
            (a.value().to_vec(), b.value().to_vec())
        })
        .collect()
}

#[test]
fn weeding_destroys_a_clients_key_and_everything_still_verifies() {
    let k = Keyed::new();
    let t = &k.t;
    k.order("plan-a", A);
    k.order("plan-b", B);
    k.order("plan-c", C);
    let mode = std::fs::metadata(k.keys_file())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key store is private");

    // No personnummer is stored in the clear: payloads, summaries and client tags are
    // sealed under the clients' keys.
    let ledger = std::fs::read(t.redb_file()).unwrap();
    for pnr in [A, B, C] {
        assert!(
            !contains(&ledger, pnr.as_bytes()),
            "a number in the ledger file"
        );
        assert!(!contains(
            &std::fs::read(k.keys_file()).unwrap(),
            pnr.as_bytes()
        ));
    }
    // Readers with the KEK see everything; without it the ledger is refused.
    let history = k.ok(&["history", "--client", A]);
    assert!(history.contains("plan-a"), "{history}");
    let err = t.fails_at("2026-03-02T09:00:00Z", &["history", "--plan", "plan-a"], 2);
    assert!(err.contains("--kek"), "{err}");

    let (secret, pubkey) = keys(t);
    let witness = t.path("witness");
    let witness = witness.to_str().unwrap();
    let map_key = t.path("map.key");
    let map_key = map_key.to_str().unwrap();
    t.ok(&["map-keygen", "--out", map_key]);
    k.ok(&[
        "checkpoint",
        "--key",
        &secret,
        "--witness",
        witness,
        "--map-key",
        map_key,
    ]);

    // A hold on B; C is kept for research; A is due five years after its last entry.
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
    let err = k.fails_at(
        "2031-06-01T09:00:00Z",
        &[
            "hold", "add", "--client", B, "--reason", "again", "--as", "adm1", "--role", "admin",
        ],
        2,
    );
    assert!(!err.contains(B) && !err.contains("19701063-2391"), "{err}");

    let head = t.head();
    let keys_before = std::fs::read(k.keys_file()).unwrap();
    let table_before = key_table(&k);
    let dry = k.ok_at(WEED_DAY, &["weed", "--as-of", "2032-01-10", "--dry-run"]);
    assert!(
        dry.contains("19640823-**** last entry 2026-03-02 plans 1: due under SoL"),
        "{dry}"
    );
    assert!(
        dry.contains("19701063-****") && dry.contains("held"),
        "{dry}"
    );
    assert!(
        dry.contains("19640825-****") && dry.contains("research"),
        "{dry}"
    );
    assert!(
        dry.contains("dry run: 1 clients due, 1 held; nothing was written"),
        "{dry}"
    );
    for pnr in [A, B, C] {
        assert!(!dry.contains(pnr), "an unmasked number in {dry}");
    }
    assert_eq!(t.head(), head, "a dry run writes nothing to the ledger");
    assert!(key_table(&k) == table_before, "nor to the key store");

    let (id_a, wrapped_a) = key_of(&k, "plan-a");
    assert!(contains(&keys_before, &wrapped_a));
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
            "--map-key",
            map_key,
        ],
    );
    assert!(
        out.contains("19640823-****") && out.contains("weeded (event at position"),
        "{out}"
    );
    assert!(out.contains("weeded 1 clients; 1 held"), "{out}");

    // The key's bytes are gone from the key-store file; the other clients' keys stay.
    let keys_after = std::fs::read(k.keys_file()).unwrap();
    assert!(
        !contains(&keys_after, &wrapped_a),
        "the wrapped key is still in the file"
    );
    assert!(
        !contains(&keys_after, &id_a),
        "the key id is still in the file"
    );
    let (_, wrapped_b) = key_of(&k, "plan-b");
    assert!(contains(&keys_after, &wrapped_b));

    // The chain and the checkpoint signed before the weeding still verify, and so do
    // the index and read model (A's plan is out of them).
    let out = k.ok(&["verify", "--witness", witness, "--pubkey", &pubkey]);
    assert!(out.contains("1 checkpoints matched"), "{out}");
    // The map signed before the weeding is rebuilt from the records too: the weeded
    // client's first order can no longer be read, and its client's map key, kept by the
    // weeding, stands in for it.
    let out = k.ok(&[
        "verify",
        "--witness",
        witness,
        "--pubkey",
        &pubkey,
        "--map-key",
        map_key,
    ]);
    assert!(
        out.contains("the maps of 1 checkpoints rebuilt from the records"),
        "{out}"
    );

    // History and show say that A's plan was weeded, and when and under what.
    let history = k.ok(&["history", "--plan", "plan-a", "--lang", "en"]);
    assert!(
        history.contains("weeded on 2032-01-10 under SoL (decision GB-2032-1)"),
        "{history}"
    );
    let shown = k.ok(&["show", "plan-a", "--lang", "en"]);
    assert!(shown.contains("weeded on 2032-01-10"), "{shown}");
    let json = k.ok(&["history", "--plan", "plan-a", "--format", "json"]);
    assert!(json.contains("\"rule\":\"SoL\""), "{json}");
    // A can no longer be found by number; the other clients read as before.
    let by_number = k.fails_at(WEED_DAY, &["history", "--client", A], 4);
    assert!(
        by_number.contains("19640823-**** has no plan"),
        "{by_number}"
    );
    let b = k.ok(&["history", "--plan", "plan-b"]);
    assert!(b.contains("best-plan-b mottagen"), "{b}");
    let overview = k.ok_at(WEED_DAY, &["audit", "overview"]);
    assert!(
        overview.contains("plan-b") && !overview.contains("plan-a"),
        "{overview}"
    );

    // Releasing the hold lets B be weeded in a later run; a second run weeds no one twice.
    k.ok_at(
        WEED_DAY,
        &[
            "hold",
            "release",
            "--client",
            B,
            "--reason",
            "IVO closed",
            "--as",
            "adm1",
            "--role",
            "admin",
        ],
    );
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
    assert!(out.contains("weeded 1 clients; 0 held"), "{out}");
    assert!(!out.contains("19640823"), "A is weeded once: {out}");
    k.ok(&["verify", "--witness", witness, "--pubkey", &pubkey]);
    // A weeded client is unknown: no hold can be placed on them.
    k.fails_at(
        WEED_DAY,
        &[
            "hold", "add", "--client", A, "--reason", "late", "--as", "adm1", "--role", "admin",
        ],
        4,
    );
}

#[test]
fn a_weeded_clients_bundle_verifies_without_plaintext_and_says_when_and_under_what() {
    let k = Keyed::new();
    let t = &k.t;
    k.order("plan-a", A);
    k.order("plan-c", C);
    let (secret, pubkey) = keys(t);
    let witness = t.path("witness");
    let witness = witness.to_str().unwrap();
    let map_key = t.path("map.key");
    let map_key = map_key.to_str().unwrap();
    t.ok(&["map-keygen", "--out", map_key]);
    k.ok(&[
        "checkpoint",
        "--key",
        &secret,
        "--witness",
        witness,
        "--map-key",
        map_key,
    ]);
    let weed = [
        "weed",
        "--as-of",
        "2032-01-10",
        "--decision",
        "GB-2032-1",
        "--as",
        "adm1",
        "--role",
        "admin",
        "--map-key",
        map_key,
    ];
    let out = k.ok_at(WEED_DAY, &weed);
    assert!(out.contains("weeded 1 clients"), "{out}");

    let bundle = t.path("a.bundle.json");
    let out = k.ok_at(
        WEED_DAY,
        &[
            "export",
            "--client",
            A,
            "--key",
            &secret,
            "--witness",
            witness,
            "--map-key",
            map_key,
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    assert!(out.contains("wrote 1 records of 1 plans"), "{out}");
    assert!(out.contains("1 of the plans were weeded"), "{out}");
    let mode = std::fs::metadata(&bundle).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&bundle).unwrap();
    let parsed: verify_bundle::Bundle = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed.records.len(), 1);
    assert_eq!(parsed.weedings.len(), 1, "the weeding, proven");
    // No plaintext of the client's: the records are the ciphertext the chain hashes.
    let b64 = base64::engine::general_purpose::STANDARD;
    for r in parsed.records.iter().chain(&parsed.weedings) {
        let bytes = base64::Engine::decode(&b64, &r.record).unwrap();
        for plain in ["best-plan-a", "dusch", "hemtjanst-norr", A] {
            assert!(!contains(&bytes, plain.as_bytes()), "plaintext in a record");
        }
    }
    assert!(!text.contains("best-plan-a") && !text.contains("dusch"));

    // It verifies, is proven complete by the map signed now, and says weeded on DATE
    // under RULE in every form.
    let key = planledger_ledger::CheckpointVerifier::from_text(
        std::fs::read_to_string(&pubkey).unwrap().trim(),
    )
    .unwrap();
    let client: planledger_plan::Personnummer = A.parse().unwrap();
    let proven = verify_bundle::verify_with(&text, &key, None, Some(&client)).unwrap();
    assert!(proven.records.is_empty(), "nothing readable");
    assert_eq!(proven.weeded.len(), 1);
    assert_eq!(proven.complete.as_ref().map(|c| c.plans), Some(1));
    use verify_bundle::report::{self, Lang, Options};
    let en = Options {
        lang: Lang::En,
        ..Options::default()
    };
    let said = "weeded on 2032-01-10 under SoL (decision GB-2032-1; last entry 2026-03-02)";
    let out = report::text(&proven, &en);
    assert!(out.contains(said), "{out}");
    assert!(out.contains("1 records proven") && out.contains("OK: the bundle verifies"));
    assert!(report::html(&proven, &en).contains(said));
    let sv = report::text(
        &proven,
        &Options {
            lang: Lang::Sv,
            ..Options::default()
        },
    );
    assert!(sv.contains("gallrad 2032-01-10 enligt SoL"), "{sv}");
    let json = report::json(&proven, &en);
    assert_eq!(json["weeded"][0]["plan"], "plan-a");
    assert_eq!(json["weeded"][0]["weeded_on"], "2032-01-10");
    assert_eq!(json["weeded"][0]["rule"], "SoL");
    assert_eq!(json["records"], 1);

    // Without its weeding the sealed record proves nothing readable: refused.
    let mut stripped = parsed.clone();
    stripped.weedings.clear();
    let err = verify_bundle::verify(&serde_json::to_string(&stripped).unwrap(), &key).unwrap_err();
    assert!(
        matches!(err, verify_bundle::BundleError::Sealed { .. }),
        "{err}"
    );
    // A record that is not a weeding (here the sealed record itself, whose proof holds)
    // does not pass for one.
    let mut not_a_weeding = parsed.clone();
    not_a_weeding.weedings = vec![parsed.records[0].clone()];
    let err =
        verify_bundle::verify(&serde_json::to_string(&not_a_weeding).unwrap(), &key).unwrap_err();
    assert!(
        matches!(err, verify_bundle::BundleError::Weeding { .. }),
        "{err}"
    );
    // An unweeded client's bundle carries no weeding.
    let c_bundle = t.path("c.bundle.json");
    k.ok_at(
        WEED_DAY,
        &[
            "export",
            "--client",
            C,
            "--key",
            &secret,
            "--witness",
            witness,
            "--map-key",
            map_key,
            "--out",
            c_bundle.to_str().unwrap(),
        ],
    );
    let c: verify_bundle::Bundle =
        serde_json::from_str(&std::fs::read_to_string(&c_bundle).unwrap()).unwrap();
    assert!(c.weedings.is_empty(), "C is not weeded");

    // Without the map key nothing links the number to the weeded plans any more.
    let err = k.fails_at(
        WEED_DAY,
        &[
            "export",
            "--client",
            A,
            "--key",
            &secret,
            "--witness",
            witness,
            "--out",
            t.path("nomap.json").to_str().unwrap(),
        ],
        4,
    );
    assert!(
        err.contains("no plan in the ledger has that client"),
        "{err}"
    );
    assert!(!err.contains("3234"), "{err}");
}

#[test]
fn holds_and_weeding_by_a_role_the_domain_refuses_exit_2_and_write_nothing() {
    let k = Keyed::new();
    k.order("plan-a", A);
    let head = k.t.head();
    let keys_before = key_table(&k);
    let refused = |args: &[&str], command: &str| {
        let err = k.fails_at(WEED_DAY, args, 2);
        assert!(
            err.contains(&format!("may not {command}"))
                && err.contains("unit manager, administrator"),
            "{err}"
        );
        assert!(!err.contains("3234"), "no personnummer in {err}");
        assert_eq!(k.t.head(), head, "nothing is written to the ledger");
        assert!(key_table(&k) == keys_before, "nor to the key store");
    };
    for role in ["staff", "key_worker", "case_officer", "inspector"] {
        refused(
            &[
                "hold",
                "add",
                "--client",
                A,
                "--reason",
                "IVO 2031-77",
                "--as",
                "u1",
                "--role",
                role,
            ],
            "add_hold",
        );
    }
    refused(
        &[
            "hold",
            "release",
            "--client",
            A,
            "--reason",
            "closed",
            "--as",
            "u1",
            "--role",
            "administrative_officer",
        ],
        "release_hold",
    );
    for role in ["staff", "case_officer", "inspector"] {
        refused(
            &[
                "weed",
                "--as-of",
                "2032-01-10",
                "--decision",
                "GB-2032-1",
                "--as",
                "u1",
                "--role",
                role,
            ],
            "weed",
        );
    }
    // The roles the domain gives: a unit manager holds, an administrator weeds.
    k.ok_at(
        WEED_DAY,
        &[
            "hold",
            "add",
            "--client",
            A,
            "--reason",
            "IVO 2031-77",
            "--as",
            "chef1",
            "--role",
            "unit_manager",
        ],
    );
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
    assert!(out.contains("weeded 0 clients; 1 held"), "{out}");
}

/// `plan`'s draft content for `client` (synthetic), with `service` as its one service.
fn content_for(k: &Keyed, plan: &str, client: &str, service: &str) -> std::path::PathBuf {
    let text = crate::e2e::home_care_content(&[service])
        .replace("196408233234", client)
        .replace("Testperson Ett", &format!("Testperson {plan}"));
    k.t.write(&format!("{plan}.json"), &text)
}

fn draft(k: &Keyed, plan: &str, content: &std::path::Path, kek: bool) {
    let args = [
        "draft",
        "--content",
        content.to_str().unwrap(),
        "--as",
        "kim",
        "--role",
        "key_worker",
        "--plan",
        plan,
    ];
    if kek {
        k.ok_at("2026-03-10T09:00:00Z", &args);
    } else {
        k.t.ok_at("2026-03-10T09:00:00Z", &args);
    }
}

/// The data key of `plan`'s client as lowercase hex, unwrapped from the key store with
/// the KEK (what a bundle of another client must never hold).
fn data_key_hex(k: &Keyed, plan: &str) -> (String, String) {
    // The plan's last record: a plan begun in plaintext is encrypted from the KEK on.
    let id =
        k.t.entries()
            .into_iter()
            .rfind(|e| e.stream_id == plan)
            .expect("the plan has records")
            .envelope
            .key_id;
    let wrapped = key_table(k)
        .into_iter()
        .find(|(i, _)| *i == id)
        .expect("the plan's key is in the key store")
        .1;
    let kek =
        planledger_app::crypt::Kek::from_text(&std::fs::read_to_string(&k.kek).unwrap()).unwrap();
    let id = planledger_app::crypt::KeyId::from_slice(&id).unwrap();
    let key = kek.unwrap(id, &wrapped).expect("the key unwraps");
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    (id.to_hex(), hex(key.expose()))
}

#[test]
fn an_encrypted_clients_bundle_carries_their_key_only_and_verifies_readably() {
    let k = Keyed::new();
    let t = &k.t;
    // C's plan begins in plaintext, before the ledger had a KEK; its draft comes after.
    let c_order = order_args("plan-c", C);
    t.ok(&c_order.iter().map(String::as_str).collect::<Vec<_>>());
    k.order("plan-a", A);
    k.order("plan-b", B);
    draft(&k, "plan-a", &content_for(&k, "plan-a", A, "Fotvård"), true);
    draft(
        &k,
        "plan-b",
        &content_for(&k, "plan-b", B, "Promenad"),
        true,
    );
    draft(
        &k,
        "plan-c",
        &content_for(&k, "plan-c", C, "Läkarbesök"),
        true,
    );

    let (secret, pubkey) = keys(t);
    let witness = t.path("witness");
    let witness = witness.to_str().unwrap();
    let map_key = t.path("map.key");
    let map_key = map_key.to_str().unwrap();
    t.ok(&["map-keygen", "--out", map_key]);
    k.ok(&[
        "checkpoint",
        "--key",
        &secret,
        "--witness",
        witness,
        "--map-key",
        map_key,
    ]);
    let export = |client: &str, out: &std::path::Path| {
        k.ok(&[
            "export",
            "--client",
            client,
            "--key",
            &secret,
            "--witness",
            witness,
            "--map-key",
            map_key,
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let a_file = t.path("a.bundle.json");
    let out = export(A, &a_file);
    assert!(out.contains("wrote 2 records of 1 plans"), "{out}");
    let mode = std::fs::metadata(&a_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "a bundle is personal data");
    let text = std::fs::read_to_string(&a_file).unwrap();
    let parsed: verify_bundle::Bundle = serde_json::from_str(&text).unwrap();

    // The records are the ciphertext the chain hashes; the one key is A's own.
    let b64 = base64::engine::general_purpose::STANDARD;
    for r in &parsed.records {
        let bytes = base64::Engine::decode(&b64, &r.record).unwrap();
        for plain in ["Fotvård", "best-plan-a", A] {
            assert!(!contains(&bytes, plain.as_bytes()), "plaintext in a record");
        }
    }
    let (a_id, a_key) = data_key_hex(&k, "plan-a");
    let (b_id, b_key) = data_key_hex(&k, "plan-b");
    let (_, c_key) = data_key_hex(&k, "plan-c");
    assert_eq!(
        parsed.data_keys,
        std::collections::BTreeMap::from([(a_id.clone(), a_key.clone())])
    );
    let kek_text = std::fs::read_to_string(&k.kek).unwrap();
    let kek_hex = kek_text.trim().rsplit(' ').next().unwrap();
    for other in [b_id.as_str(), &b_key, &c_key, kek_hex] {
        assert!(!text.contains(other), "another client's key or the KEK");
    }

    // It verifies against the map (A's order, opened, names A) and shows the content.
    let key = planledger_ledger::CheckpointVerifier::from_text(
        std::fs::read_to_string(&pubkey).unwrap().trim(),
    )
    .unwrap();
    let client: planledger_plan::Personnummer = A.parse().unwrap();
    let proven = verify_bundle::verify_with(&text, &key, None, Some(&client)).unwrap();
    assert_eq!((proven.records.len(), proven.decrypted), (2, 2));
    assert!(proven.weeded.is_empty());
    assert_eq!(proven.complete.as_ref().map(|c| c.plans), Some(1));
    use verify_bundle::report::{self, Lang, Options};
    let en = Options {
        lang: Lang::En,
        ..Options::default()
    };
    let out = report::text(&proven, &en);
    for expected in [
        "Fotvård",
        "2 records are encrypted in the ledger",
        "OK: the bundle verifies",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    assert!(report::html(&proven, &en).contains("Fotvård"));
    let json = report::json(&proven, &en);
    assert_eq!(json["decrypted"], 2);
    assert!(json["plans"].to_string().contains("Fotvård"));

    // Tampering: a changed key fails at the first record, naming it; a removed key
    // leaves a sealed record nothing explains; another client's key added is refused.
    let first = parsed.records[0].position;
    let mut changed = parsed.clone();
    let flipped: String = a_key
        .char_indices()
        .map(|(i, c)| match (i, c) {
            (0, '0') => '1',
            (0, _) => '0',
            (_, c) => c,
        })
        .collect();
    changed.data_keys.insert(a_id.clone(), flipped);
    let err = verify_bundle::verify(&serde_json::to_string(&changed).unwrap(), &key).unwrap_err();
    assert!(
        matches!(err, verify_bundle::BundleError::Undecryptable { position } if position == first),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("record at position {first}"))
    );
    let mut removed = parsed.clone();
    removed.data_keys.clear();
    let err = verify_bundle::verify(&serde_json::to_string(&removed).unwrap(), &key).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "record at position {first} is encrypted, and the bundle holds no weeding of its client"
        )),
        "{err}"
    );
    let mut added = parsed.clone();
    added.data_keys.insert(b_id, b_key);
    let err = verify_bundle::verify(&serde_json::to_string(&added).unwrap(), &key).unwrap_err();
    assert!(
        matches!(err, verify_bundle::BundleError::DataKeys { .. }),
        "{err}"
    );

    // Mixed: C's plaintext order and encrypted draft verify together.
    let c_file = t.path("c.bundle.json");
    export(C, &c_file);
    let c_text = std::fs::read_to_string(&c_file).unwrap();
    let c: verify_bundle::Bundle = serde_json::from_str(&c_text).unwrap();
    assert_eq!(c.data_keys.len(), 1);
    let proven =
        verify_bundle::verify_with(&c_text, &key, None, Some(&C.parse().unwrap())).unwrap();
    assert_eq!((proven.records.len(), proven.decrypted), (2, 1));
    assert!(report::text(&proven, &en).contains("Läkarbesök"));

    // The complaint dossier embeds the same bundle: it verifies and shows the content.
    let html = t.path("akt-a.html");
    k.ok(&[
        "dossier",
        "--client",
        A,
        "--out",
        html.to_str().unwrap(),
        "--lang",
        "en",
        "--key",
        &secret,
        "--witness",
        witness,
        "--map-key",
        map_key,
    ]);
    let dossier = std::fs::read_to_string(&html).unwrap();
    assert!(dossier.contains("Fotvård"), "the dossier shows the plan");
    let embedded = verify_bundle::bundle_text(&dossier).expect("the bundle is embedded");
    let proven = verify_bundle::verify_with(embedded, &key, None, Some(&client)).unwrap();
    assert_eq!(proven.decrypted, 2);
    let beside = t.path("akt-a.html.bundle.json");
    let mode = std::fs::metadata(&beside).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    verify_bundle::verify(&std::fs::read_to_string(&beside).unwrap(), &key).unwrap();
}
