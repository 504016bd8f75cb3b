//! The application layer through the CLI: one calendar for every as-of, strict import
//! lines, masked personnummer in `show`, typed flags that never repeat a value, and report
//! help that says what the domain document says.

use redb::ReadableTable;
use serde_json::{Value, json};

use crate::e2e::{home_care_content, order_home_care_at};
use crate::util::TestLedger;

/// A deviation on plan-0001, by a staff member, recorded at `at`.
pub fn deviation(t: &TestLedger, at: &str, occurred_on: &str, description: &str) {
    t.ok_at(
        at,
        &[
            "deviation",
            "--as",
            "sam",
            "--role",
            "staff",
            "--plan",
            "plan-0001",
            "--occurred-on",
            occurred_on,
            "--description",
            description,
        ],
    );
}

/// A new checkpoint signing key in `t`'s directory: its file, and the verifier key text.
fn signing_key(t: &TestLedger) -> (std::path::PathBuf, String) {
    let key = t.path("ledger.key");
    let name = ["keygen", "--name", "exempel.se/planledger", "--out"];
    let out = t.ok(&[&name[..], &[key.to_str().unwrap()]].concat());
    (key, out)
}

/// Orders plan-0001 and draws up version 1 on `day` at 09:00 UTC, then revises it to
/// version 2 at `revised_at` (UTC).
fn revised_at(day: &str, revised_at: &str) -> TestLedger {
    let t = TestLedger::new();
    order_home_care_at(&t, &format!("{day}T08:00:00Z"));
    let v1 = t.write("v1.json", &home_care_content(&["Dusch"]));
    let v2 = t.write("v2.json", &home_care_content(&["Dusch", "Inköp"]));
    let who = ["--as", "kim", "--role", "key_worker", "--plan", "plan-0001"];
    let mut draft = vec!["draft", "--content", v1.to_str().unwrap()];
    draft.extend(who);
    t.ok_at(&format!("{day}T09:00:00Z"), &draft);
    let mut revise = vec![
        "revise",
        "--reason",
        "changed_needs",
        "--content",
        v2.to_str().unwrap(),
    ];
    revise.extend(who);
    t.ok_at(revised_at, &revise);
    t
}

/// The version `show --as-of` and `audit in-force --as-of` give for `day`.
fn in_force_on(t: &TestLedger, day: &str) -> (u64, u64) {
    let shown: Value =
        serde_json::from_str(&t.ok(&["show", "plan-0001", "--as-of", day, "--format", "json"]))
            .unwrap();
    let rows: Value = serde_json::from_str(&t.ok(&[
        "audit",
        "in-force",
        "--plan",
        "plan-0001",
        "--as-of",
        day,
        "--format",
        "json",
    ]))
    .unwrap();
    (
        shown["version"].as_u64().unwrap(),
        rows[0]["version"].as_u64().unwrap(),
    )
}

#[test]
fn show_and_audit_in_force_agree_on_the_swedish_day_of_a_revision_at_2330_utc() {
    // Winter: 23:30 UTC on 2 March is 00:30 on 3 March in Sweden (UTC+1).
    let t = revised_at("2026-03-02", "2026-03-02T23:30:00Z");
    assert_eq!(in_force_on(&t, "2026-03-02"), (1, 1));
    assert_eq!(in_force_on(&t, "2026-03-03"), (2, 2));
    // Summer: 23:30 UTC on 2 July is 01:30 on 3 July (UTC+2); 21:30 UTC is still 2 July.
    let t = revised_at("2026-07-02", "2026-07-02T23:30:00Z");
    assert_eq!(in_force_on(&t, "2026-07-02"), (1, 1));
    assert_eq!(in_force_on(&t, "2026-07-03"), (2, 2));
    let t = revised_at("2026-07-02", "2026-07-02T21:30:00Z");
    assert_eq!(in_force_on(&t, "2026-07-02"), (2, 2));
}

#[test]
fn an_import_line_with_an_unknown_field_is_rejected_by_name_and_writes_nothing() {
    let t = TestLedger::new();
    order_home_care_at(&t, "2026-03-02T08:00:00Z");
    let content: Value = serde_json::from_str(&home_care_content(&["Dusch"])).unwrap();
    let draft = json!({"actor": {"user": "kim", "role": "key_worker"}, "at": "2026-03-10T09:00:00Z",
                       "command": "draft", "plan": "plan-0001", "content": content});
    let misspelt = |edit: &dyn Fn(&mut Value)| {
        let mut line = draft.clone();
        edit(&mut line);
        line.to_string()
    };
    let cases = [
        (
            "expect_versoin",
            misspelt(&|l| l["expect_versoin"] = json!(1)),
        ),
        (
            "unit",
            misspelt(&|l| l["actor"]["unit"] = json!("hemtjanst-norr")),
        ),
        ("folow_up", {
            let line = json!({"actor": {"user": "kim", "role": "key_worker"}, "command": "record_follow_up",
                              "plan": "plan-0001", "version": 1, "findings": "Bra", "folow_up": "2026-09-01"});
            line.to_string()
        }),
        (
            "onn",
            misspelt(&|l| l["content"]["follow_up"]["onn"] = json!("2026-09-10")),
        ),
        (
            "goals",
            misspelt(&|l| l["content"]["services"][0]["goals"] = json!("Ren")),
        ),
    ];
    let before = t.head();
    for (field, line) in cases {
        let file = t.write("bad.jsonl", &format!("{line}\n"));
        let stderr = t.fails_at(
            "2026-03-10T10:00:00Z",
            &["import", file.to_str().unwrap()],
            2,
        );
        assert!(
            stderr.contains("line 1: invalid command: ")
                && stderr.contains(&format!("unknown field `{field}`")),
            "{field}: {stderr}"
        );
        assert!(
            !stderr.contains("3234"),
            "{field}: no personnummer: {stderr}"
        );
        assert_eq!(t.head(), before, "{field}: nothing written");
        std::fs::remove_file(&file).unwrap();
    }
    // The same line without the misspelling is recorded.
    let file = t.write("good.jsonl", &format!("{draft}\n"));
    t.ok_at("2026-03-10T10:00:00Z", &["import", file.to_str().unwrap()]);
    assert_ne!(t.head(), before);
}

#[test]
fn a_content_file_with_an_unknown_field_is_refused_naming_it() {
    let t = TestLedger::new();
    order_home_care_at(&t, "2026-03-02T08:00:00Z");
    let mut content: Value = serde_json::from_str(&home_care_content(&["Dusch"])).unwrap();
    content["participation"]["client_took_prt"] = json!(true);
    let file = t.write("v1.json", &content.to_string());
    let before = t.head();
    let stderr = t.fails_at(
        "2026-03-10T09:00:00Z",
        &[
            "draft",
            "--as",
            "kim",
            "--role",
            "key_worker",
            "--plan",
            "plan-0001",
            "--content",
            file.to_str().unwrap(),
        ],
        2,
    );
    assert!(
        stderr
            .contains("v1.json: `participation.client_took_prt`: unknown field `client_took_prt`"),
        "{stderr}"
    );
    assert_eq!(t.head(), before);
}

#[test]
fn show_masks_personnummer_unless_asked_and_takes_format_and_lang() {
    let t = revised_at("2026-03-02", "2026-03-05T09:00:00Z");
    let table = t.ok(&["show", "plan-0001", "--lang", "en"]);
    assert!(
        table.contains("19640823-****") && !table.contains("3234"),
        "{table}"
    );
    let swedish = t.ok(&["show", "plan-0001"]);
    assert!(
        swedish.starts_with("plan plan-0001 version 2 av 2, upprättad 2026-03-05"),
        "{swedish}"
    );
    let json: Value =
        serde_json::from_str(&t.ok(&["show", "plan-0001", "--format", "json"])).unwrap();
    assert_eq!(json["content"]["client"]["personnummer"], "19640823-****");
    assert_eq!(json["version"], 2);
    let csv = t.ok(&[
        "show",
        "plan-0001",
        "--format",
        "csv",
        "--lang",
        "en",
        "--version",
        "1",
    ]);
    assert!(
        csv.starts_with("field,value\nplan,plan-0001\nversion,1\n"),
        "{csv}"
    );
    assert!(!csv.contains("3234"), "{csv}");
    let full = t.ok(&["show", "plan-0001", "--show-personnummer"]);
    assert!(full.contains("196408233234"), "{full}");
}

#[test]
fn a_bad_flag_value_is_refused_with_the_rule_and_without_the_value() {
    let t = TestLedger::new();
    let before = t.head();
    for (flag, value) in [
        ("--client", "196408233235"),
        ("--act", "Testperson Ett"),
        ("--received-on", "19640823-3234"),
    ] {
        let mut args = crate::e2e::ORDER_ARGS.to_vec();
        let i = args.iter().position(|a| *a == flag).unwrap();
        args[i + 1] = value;
        let stderr = t.fails_at("2026-03-02T09:00:00Z", &args, 2);
        assert!(
            stderr.contains(&format!("invalid value for {flag}")),
            "{stderr}"
        );
        assert!(
            !stderr.contains(value) && !stderr.contains("3234") && !stderr.contains("Testperson"),
            "{stderr}"
        );
    }
    assert_eq!(t.head(), before);
}

#[test]
fn audit_help_says_what_each_report_lists_as_the_domain_document_does() {
    let help = TestLedger::new().ok(&["audit", "--help"]);
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let help = words(&help);
    let domain = words(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/DOMAIN.md")).unwrap(),
    );
    for (name, text) in planledger_audit::REPORTS
        .iter()
        .filter(|(n, _)| *n != "history")
    {
        assert!(
            help.contains(&words(text)),
            "`audit --help` lacks {name}: {text}"
        );
        assert!(
            domain.contains(&format!("| `{name}` | {} |", words(text))),
            "docs/DOMAIN.md lacks {name}"
        );
    }
}

#[test]
fn the_schema_command_prints_the_shipped_schemas() {
    let t = TestLedger::new();
    for which in ["import-line", "plan-content"] {
        let printed = t.ok(&["schema", which]);
        let shipped = std::fs::read_to_string(format!(
            "{}/schema/{which}.schema.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(printed, shipped, "{which}");
    }
}

#[test]
fn verify_checks_the_plan_index_and_reindex_rebuilds_it() {
    let t = TestLedger::new();
    crate::e2e::walk_home_care(&t);
    assert!(t.ok(&["verify"]).starts_with("OK"));
    // Someone with the file adds the plan to another unit in the index beside the records.
    {
        let db = redb::Database::open(t.redb_file()).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let by_value: redb::TableDefinition<(&str, &str, &str), ()> =
                redb::TableDefinition::new("tags_by_value");
            let mut table = txn.open_table(by_value).unwrap();
            table
                .insert(("unit", "annan-enhet", "plan-0001"), ())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let overview = t.ok(&[
        "audit",
        "overview",
        "--unit",
        "annan-enhet",
        "--format",
        "json",
    ]);
    assert!(
        overview.contains("plan-0001"),
        "the reader follows the index: {overview}"
    );
    let stderr = t.fails_at("2026-05-01T09:00:00Z", &["verify"], 1);
    assert!(stderr.contains("the index of plan plan-0001"), "{stderr}");
    assert!(stderr.contains("planledger reindex"), "{stderr}");
    let json: Value = serde_json::from_slice(&t.run(&["verify", "--json"]).stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["index"], "the index of plan plan-0001");
    let out = t.ok(&["reindex"]);
    assert!(out.starts_with("indexed 1 plans of "), "{out}");
    assert!(t.ok(&["verify"]).starts_with("OK"));
    let stderr = t.fails_at(
        "2026-05-01T09:00:00Z",
        &["audit", "overview", "--unit", "annan-enhet"],
        4,
    );
    assert!(stderr.contains("no plan of unit annan-enhet"), "{stderr}");
    // Someone changes the plan's summary in the read model: its deviation is gone.
    let overview = t.ok(&[
        "audit",
        "overview",
        "--as-of",
        "2026-12-31",
        "--format",
        "json",
    ]);
    {
        let db = redb::Database::open(t.redb_file()).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let summaries: redb::TableDefinition<&str, (u64, &[u8])> =
                redb::TableDefinition::new("summaries");
            let mut table = txn.open_table(summaries).unwrap();
            let (version, bytes) = {
                let v = table.get("plan-0001").unwrap().unwrap();
                let (version, bytes) = v.value();
                (version, bytes.to_vec())
            };
            let mut state: Value = serde_json::from_slice(&bytes).unwrap();
            state["deviation_count"] = json!(0);
            let forged = serde_json::to_vec(&state).unwrap();
            table
                .insert("plan-0001", (version, forged.as_slice()))
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let forged = t.ok(&[
        "audit",
        "overview",
        "--as-of",
        "2026-12-31",
        "--format",
        "json",
    ]);
    assert_ne!(forged, overview, "the reader follows the read model");
    let stderr = t.fails_at("2026-05-01T09:00:00Z", &["verify"], 1);
    assert!(
        stderr.contains("the read model's summary of plan plan-0001"),
        "{stderr}"
    );
    t.ok(&["reindex"]);
    assert!(t.ok(&["verify"]).starts_with("OK"));
    assert_eq!(
        t.ok(&[
            "audit",
            "overview",
            "--as-of",
            "2026-12-31",
            "--format",
            "json"
        ]),
        overview
    );
}

#[test]
fn a_copy_is_indexed_and_answers_as_the_original() {
    let t = TestLedger::new();
    crate::e2e::walk_home_care(&t);
    let copy = t.path("copy");
    t.ok(&[
        "copy",
        "--from",
        t.ledger().to_str().unwrap(),
        "--to",
        copy.to_str().unwrap(),
    ]);
    let ask = |ledger: &str| {
        t.ok(&[
            "--ledger",
            ledger,
            "audit",
            "overview",
            "--as-of",
            "2026-05-01",
            "--format",
            "json",
        ])
    };
    assert_eq!(
        ask(copy.to_str().unwrap()),
        ask(t.ledger().to_str().unwrap())
    );
    assert!(
        t.ok(&["--ledger", copy.to_str().unwrap(), "verify"])
            .starts_with("OK")
    );
}

#[test]
fn a_stream_index_that_names_another_plans_record_is_refused_not_folded() {
    let t = TestLedger::new();
    crate::e2e::walk_home_care(&t);
    let mut other = crate::e2e::ORDER_ARGS.to_vec();
    for (flag, value) in [("--plan", "plan-0002"), ("--client", "197010632391")] {
        let i = other.iter().position(|a| *a == flag).unwrap();
        other[i + 1] = value;
    }
    t.ok_at("2026-05-02T09:00:00Z", &other);
    let last = t.head()["size"].as_u64().unwrap() - 1;
    {
        let db = redb::Database::open(t.redb_file()).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let streams: redb::TableDefinition<(&str, u64), u64> =
                redb::TableDefinition::new("streams");
            let mut table = txn.open_table(streams).unwrap();
            // plan-0001's second record now "is" plan-0002's order.
            table.insert(("plan-0001", 2), last).unwrap();
        }
        txn.commit().unwrap();
    }
    let stderr = t.fails_at("2026-05-02T10:00:00Z", &["show", "plan-0001"], 1);
    assert!(
        stderr.contains(&format!("record {last} for a plan it does not belong to")),
        "{stderr}"
    );
    assert!(
        !stderr.contains("3234") && !stderr.contains("2391"),
        "{stderr}"
    );
}

/// An import killed mid-run leaves a ledger that verifies and is exactly a prefix of the
/// uninterrupted import: whole groups of whole lines, nothing half-written.
#[test]
fn an_import_killed_mid_run_leaves_a_prefix_of_whole_lines() {
    let org = planledger_synth::Organisation {
        seed: 5,
        clients: 200,
        months: 12,
        ..planledger_synth::Organisation::default()
    };
    let full = TestLedger::new();
    let file = full.write("org.jsonl", "");
    planledger_synth::write_json_lines(&org, std::fs::File::create(&file).unwrap()).unwrap();
    let started = std::time::Instant::now();
    full.ok(&["import", file.to_str().unwrap()]);
    let took = started.elapsed().as_millis() as u64;
    let whole = full.head()["size"].as_u64().unwrap();
    let full_entries = full.entries();
    let mut prefixes = Vec::new();
    // Kill moments spread over how long the whole import took.
    for delay_ms in [took / 4, took / 2, took * 3 / 4, took * 9 / 10] {
        let t = TestLedger::new();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_planledger"))
            .env_clear()
            .env("PLANLEDGER_LEDGER", t.ledger())
            .args(["import", file.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let out = t.run(&["verify", "--json"]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["ok"], true, "{report}");
        let size = t.head()["size"].as_u64().unwrap();
        assert!(size <= whole);
        // The same lines give the same entries: a prefix of the uninterrupted import's
        // (sealed at other times, so compared without their sealing times).
        let kept = t.entries();
        assert_eq!(kept.len() as u64, size);
        assert!(
            full_entries.starts_with(&kept),
            "killed after {delay_ms} ms: not a prefix of the uninterrupted import"
        );
        prefixes.push(size);
        // The usual recovery: run the whole file again. What was recorded is skipped,
        // the rest recorded: the same entries as the uninterrupted import.
        t.ok(&["import", file.to_str().unwrap()]);
        assert_eq!(
            t.entries(),
            full_entries,
            "killed after {delay_ms} ms, then re-run: not the uninterrupted import's entries"
        );
    }
    eprintln!("records kept after SIGKILL: {prefixes:?} of {whole}");
}

#[test]
fn checkpoint_refuses_to_sign_a_second_history_and_export_a_contradictory_witness() {
    let a = TestLedger::new();
    crate::e2e::walk_home_care(&a);
    let (key, out) = signing_key(&a);
    let public = a.write("ledger.pub", &out);
    let witness = a.path("witness");
    let (key, witness) = (key.to_str().unwrap(), witness.to_str().unwrap());
    a.ok(&["checkpoint", "--key", key, "--witness", witness]);
    // A ledger that extends it is signed again.
    deviation(
        &a,
        "2026-05-02T09:00:00Z",
        "2026-05-01",
        "Besöket blev kort",
    );
    a.ok(&["checkpoint", "--key", key, "--witness", witness]);
    // Another history of the same size, signed with the same key into the same witness,
    // is refused, and nothing is written.
    let b = TestLedger::new();
    crate::e2e::walk_home_care(&b);
    deviation(&b, "2026-05-02T09:00:00Z", "2026-05-01", "Besöket uteblev");
    assert_eq!(b.head()["size"], a.head()["size"]);
    let files = || std::fs::read_dir(witness).unwrap().count();
    let before = files();
    let stderr = b.fails_at(
        "2026-05-03T09:00:00Z",
        &["checkpoint", "--key", key, "--witness", witness],
        1,
    );
    assert!(
        stderr.contains("does not extend the checkpoint"),
        "{stderr}"
    );
    assert_eq!(files(), before, "nothing written");
    // A witness holding a checkpoint of another history is refused by export.
    let other = b.path("other-witness");
    b.ok(&[
        "checkpoint",
        "--key",
        key,
        "--witness",
        other.to_str().unwrap(),
    ]);
    for entry in std::fs::read_dir(&other).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            std::path::Path::new(witness).join(entry.file_name()),
        )
        .unwrap();
    }
    let stderr = a.fails_at(
        "2026-05-03T09:00:00Z",
        &[
            "export",
            "--client",
            "196408233234",
            "--out",
            a.path("b.json").to_str().unwrap(),
            "--witness",
            witness,
            "--pubkey",
            public.to_str().unwrap(),
        ],
        1,
    );
    assert!(
        stderr.contains("does not extend the checkpoint"),
        "{stderr}"
    );
    assert!(!a.path("b.json").exists());
}

#[test]
fn verify_with_a_key_but_no_witness_is_a_usage_error() {
    let t = TestLedger::new();
    let stderr = t.fails_at(
        "2026-03-02T09:00:00Z",
        &["verify", "--pubkey", "ledger.pub"],
        2,
    );
    assert!(stderr.contains("--witness"), "{stderr}");
}

#[test]
fn a_bundle_proves_that_its_log_extends_a_checkpoint_the_inspector_holds() {
    let a = TestLedger::new();
    crate::e2e::walk_home_care(&a);
    let (key, out) = signing_key(&a);
    let verifier = planledger_ledger::CheckpointVerifier::from_text(&out).unwrap();
    let witness = a.path("witness");
    let (key, witness) = (key.to_str().unwrap(), witness.to_str().unwrap());
    a.ok(&["checkpoint", "--key", key, "--witness", witness]);
    // The inspector keeps the checkpoint of the first inspection.
    let first = std::fs::read_dir(witness)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let held = a.path("held.checkpoint");
    std::fs::copy(&first, &held).unwrap();
    let held_size = a.head()["size"].as_u64().unwrap();
    deviation(
        &a,
        "2026-05-02T09:00:00Z",
        "2026-05-01",
        "Besöket blev kort",
    );
    let bundle = a.path("second.json");
    let out = a.ok(&[
        "export",
        "--client",
        "196408233234",
        "--out",
        bundle.to_str().unwrap(),
        "--key",
        key,
        "--witness",
        witness,
        "--since",
        held.to_str().unwrap(),
    ]);
    assert!(
        out.contains(&format!("extends the checkpoint of {held_size} records")),
        "{out}"
    );
    let text = std::fs::read_to_string(&bundle).unwrap();
    let held_note = std::fs::read_to_string(&held).unwrap();
    let proven = verify_bundle::verify_since(&text, &verifier, Some(&held_note)).unwrap();
    assert_eq!(proven.extends.unwrap().size, held_size);
    // The proof printed on its own checks too.
    let proof: Value =
        serde_json::from_str(&a.ok(&["proof", "--from", &held_size.to_string()])).unwrap();
    assert_eq!(proof["old_size"], held_size);
    let held_cp =
        planledger_ledger::Checkpoint::verify(&held_note, std::slice::from_ref(&verifier)).unwrap();
    assert_eq!(proof["old_root"], held_cp.root.to_hex());
    // A checkpoint of another history, signed with the same key, is not extended.
    let b = TestLedger::new();
    crate::e2e::walk_home_care(&b);
    deviation(&b, "2026-04-01T09:00:00Z", "2026-04-01", "Besöket uteblev");
    let other_dir = b.path("w");
    b.ok(&[
        "checkpoint",
        "--key",
        key,
        "--witness",
        other_dir.to_str().unwrap(),
    ]);
    let other = std::fs::read_dir(&other_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let other_note = std::fs::read_to_string(&other).unwrap();
    let err = verify_bundle::verify_since(&text, &verifier, Some(&other_note)).unwrap_err();
    assert!(
        matches!(err, verify_bundle::BundleError::NoProofSince { .. }),
        "{err}"
    );
    let stderr = a.fails_at(
        "2026-05-03T09:00:00Z",
        &[
            "export",
            "--client",
            "196408233234",
            "--out",
            a.path("third.json").to_str().unwrap(),
            "--key",
            key,
            "--witness",
            witness,
            "--since",
            other.to_str().unwrap(),
        ],
        1,
    );
    assert!(stderr.contains("does not extend the one of"), "{stderr}");
    // A bundle whose proof was tampered with fails.
    let mut tampered: Value = serde_json::from_str(&text).unwrap();
    tampered["consistency"]["proof"][0] = Value::String("00".repeat(32));
    let err = verify_bundle::verify(&tampered.to_string(), &verifier).unwrap_err();
    assert!(
        matches!(err, verify_bundle::BundleError::Inconsistent { .. }),
        "{err}"
    );
}

#[test]
fn no_environment_variable_moves_the_clock_that_seals_records() {
    let t = TestLedger::new();
    let out = t
        .cmd()
        .env("PLANLEDGER_NOW", "2001-01-01T00:00:00Z")
        .args(crate::e2e::ORDER_ARGS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let as_of = [
        "history",
        "--plan",
        "plan-0001",
        "--as-of",
        "2099-12-31",
        "--format",
        "json",
    ];
    let history = t.ok(&as_of);
    assert!(!history.contains("2001-01-01"), "{history}");
}
