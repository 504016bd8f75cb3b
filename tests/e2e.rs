//! End to end through the `planledger` binary: the seed scenarios, bad input (each with
//! its documented exit code and an unchanged ledger head), and tampering found by
//! `verify`.

use redb::ReadableTable;
use serde_json::{Value, json};

use crate::util::TestLedger;

/// A home-care plan (seed 001) for the synthetic client 19640823-3234.
pub fn home_care_content(services: &[&str]) -> String {
    let services: Vec<Value> = services
        .iter()
        .map(|what| {
            json!({"what": what, "when": {"days": ["tuesday"], "start": "09:00", "end": "09:45"},
                   "how": "Två personal; kunden tvättar själv ansikte och armar",
                   "who": "Hemtjänstgrupp Norr, kontaktperson",
                   "goal": "Kunden känner sig ren och trygg"})
        })
        .collect();
    json!({
        "provider": "Hemtjänst Norr", "unit": "hemtjanst-norr", "act": "home_care",
        "client": {"name": "Testperson Ett", "personnummer": "196408233234"},
        "key_worker": {"name": "Kim Kontakt", "user": "kim"},
        "drawn_up_on": "2026-03-10", "adopted_on": "2026-03-10", "service_starts_on": "2026-03-11",
        "follow_up": {"on": "2026-09-10", "how": "Uppföljning med kund och kontaktperson"},
        "services": services,
        "goals": ["Bo kvar hemma tryggt"],
        "participation": {"client_took_part": true, "how": "Kunden deltog i mötet hemma",
                          "views_considered": "Kunden vill duscha på förmiddagen"},
        "participants": [{"name": "Dotter", "role": "relative"}]
    })
    .to_string()
}

/// Records the order of plan-0001 (home care, 19640823-3234) on 2026-03-02.
pub fn order_home_care(t: &TestLedger) {
    order_home_care_at(t, "2026-03-02T09:00:00Z");
}

/// The `order` command of plan-0001 (home care, 19640823-3234, received 2026-03-02).
pub const ORDER_ARGS: [&str; 21] = [
    "order",
    "--as",
    "h7",
    "--role",
    "case_officer",
    "--plan",
    "plan-0001",
    "--order",
    "best-88",
    "--unit",
    "hemtjanst-norr",
    "--act",
    "home_care",
    "--client",
    "196408233234",
    "--received-on",
    "2026-03-02",
    "--service",
    "dusch",
    "--expect-version",
    "0",
];

/// [`order_home_care`], recorded at `now`.
pub fn order_home_care_at(t: &TestLedger, now: &str) {
    t.ok_at(now, &ORDER_ARGS);
}

/// Walks seed 001 through the CLI: order, draft, sign, submit, a supplement asked for
/// and given as version 2, approval, a deviation, its correction, a monthly review.
pub fn walk_home_care(t: &TestLedger) {
    order_home_care(t);
    walk_home_care_from_draft(t);
}

/// [`walk_home_care`] after the order.
pub fn walk_home_care_from_draft(t: &TestLedger) {
    let v1 = t.write("v1.json", &home_care_content(&["Dusch"]));
    let v2 = t.write("v2.json", &home_care_content(&["Dusch", "Inköp"]));
    let kw = |now: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--as", "kim", "--role", "key_worker", "--plan", "plan-0001"]);
        t.ok_at(now, &all)
    };
    let officer = |now: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend([
            "--as",
            "h7",
            "--role",
            "case_officer",
            "--plan",
            "plan-0001",
        ]);
        t.ok_at(now, &all)
    };
    let out = kw(
        "2026-03-10T09:00:00Z",
        &["draft", "--content", v1.to_str().unwrap()],
    );
    assert!(
        out.starts_with("recorded plan_drafted at position ")
            && out.trim_end().ends_with(": plan plan-0001 record 2"),
        "{out}"
    );
    kw(
        "2026-03-10T10:00:00Z",
        &["sign", "--version", "1", "--signer", "client"],
    );
    kw("2026-03-12T09:00:00Z", &["submit", "--version", "1"]);
    officer(
        "2026-03-13T09:00:00Z",
        &[
            "request-supplement",
            "--version",
            "1",
            "--reason",
            "Ange tider för inköp",
            "--due-on",
            "2026-03-20",
        ],
    );
    kw(
        "2026-03-16T09:00:00Z",
        &[
            "revise",
            "--reason",
            "supplement",
            "--note",
            "Inköp tillagt",
            "--content",
            v2.to_str().unwrap(),
        ],
    );
    kw(
        "2026-03-16T10:00:00Z",
        &["sign", "--version", "2", "--signer", "client"],
    );
    kw(
        "2026-03-16T11:00:00Z",
        &["supplement", "--version", "2", "--note", "Tider för inköp"],
    );
    officer("2026-03-17T09:00:00Z", &["approve", "--version", "2"]);
    t.ok_at(
        "2026-04-02T15:00:00Z",
        &[
            "deviation",
            "--as",
            "anna",
            "--role",
            "staff",
            "--plan",
            "plan-0001",
            "--occurred-on",
            "2026-04-02",
            "--service",
            "Dusch",
            "--description",
            "Duschen uteblev, personalbrist",
        ],
    );
    t.ok_at(
        "2026-04-03T08:00:00Z",
        &[
            "correct",
            "--as",
            "anna",
            "--role",
            "staff",
            "--plan",
            "plan-0001",
            "--refers-to",
            "10",
            "--note",
            "Avvikelsen gällde 2026-04-03",
        ],
    );
    kw(
        "2026-04-10T09:00:00Z",
        &[
            "review",
            "--version",
            "2",
            "--participation-described",
            "--services-and-goals-clear",
            "--usable-by-new-staff",
            "--matches-order",
            "--findings",
            "Inga brister",
        ],
    );
}

#[test]
fn seed_001_home_care_walks_through_the_cli_and_verifies() {
    let t = TestLedger::new();
    walk_home_care(&t);
    assert_eq!(t.head()["size"], 12);
    let history: Value = serde_json::from_str(&t.ok(&[
        "history",
        "--plan",
        "plan-0001",
        "--as-of",
        "2026-04-30",
        "--format",
        "json",
    ]))
    .unwrap();
    let events = history["events"].as_array().unwrap();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "order_received",
            "plan_drafted",
            "plan_signed",
            "plan_submitted",
            "supplement_requested",
            "plan_revised",
            "plan_signed",
            "supplement_provided",
            "plan_approved",
            "deviation_recorded",
            "correction_noted",
            "review_done",
        ]
    );
    assert_eq!(events[0]["by"]["user"], "h7");
    assert_eq!(events[0]["by"]["role"], "case_officer");
    assert_eq!(
        events[9]["corrected_by"],
        json!([11]),
        "the deviation links its correction"
    );
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["approved"]["by"]["user"], "h7");
    assert!(
        versions[1]["changes"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "version 2 shows what changed: {}",
        versions[1]
    );
    // As of an earlier day, the history stops there.
    let early: Value = serde_json::from_str(&t.ok(&[
        "history",
        "--plan",
        "plan-0001",
        "--as-of",
        "2026-03-10",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(early["events"].as_array().unwrap().len(), 3);
    let table = t.ok(&[
        "history",
        "--plan",
        "plan-0001",
        "--as-of",
        "2026-04-30",
        "--lang",
        "en",
    ]);
    assert!(table.contains("kim (key worker)"), "{table}");
    assert!(!table.contains("3234"), "no personnummer by default");

    let current = t.ok(&["show", "plan-0001", "--lang", "en"]);
    assert!(
        current.starts_with("plan plan-0001 version 2 of 2"),
        "{current}"
    );
    assert!(current.contains("approved 2026-03-17"));
    assert!(current.contains("Inköp"));
    let old = t.ok(&["show", "plan-0001", "--version", "1", "--lang", "en"]);
    assert!(old.contains("version 1 of 2") && old.contains("replaced 2026-03-16"));
    let in_force = t.ok(&["show", "plan-0001", "--as-of", "2026-03-15", "--lang", "en"]);
    assert!(in_force.starts_with("plan plan-0001 version 1 of 2"));
    let out = t.ok(&["verify"]);
    assert!(out.starts_with("OK: verified 12 records"), "{out}");
}

/// An LSS daily-activity plan (seed 003) with its life areas, as JSON.
fn lss_content() -> Value {
    json!({
        "provider": "Daglig verksamhet Söder", "unit": "dv-soder", "act": "lss_daily_activity",
        "client": {"name": "Testperson Två", "personnummer": "197010632391"},
        "key_worker": {"name": "Sam Stöd"},
        "drawn_up_on": "2026-02-10", "adopted_on": "2026-02-10", "service_starts_on": "2026-02-11",
        "follow_up": {"on": "2027-02-01", "how": "Årlig uppföljning med god man"},
        "services": [{"what": "Arbetsuppgifter", "when": {"days": ["monday", "wednesday"], "part_of_day": "morning"},
                      "how": "Sortering i verkstaden med bildstöd", "who": "Handledare i verkstaden",
                      "goal": "Arbeta självständigt en timme"}],
        "goals": ["Meningsfull sysselsättning"],
        "participation": {"client_took_part": true, "how": "Med bildstöd", "views_considered": "Vill arbeta förmiddagar"},
        "participants": [{"name": "God man", "role": "trustee"}],
        "life_areas": [{"area": "Kommunikation", "assessed_function": "Använder bildstöd",
                        "goal": "Uttrycka önskemål", "needs_and_services": [{"part_of_day": "morning", "text": "Bildschema vid ankomst"}],
                        "routine_notes": [{"topic": "communication", "note": "Pekprat"}]}]
    })
}

/// Seed 003 as JSON Lines, the way a case-management system feeds the ledger.
fn lss_lines() -> String {
    let lines = [
        json!({"actor": {"user": "h9", "role": "case_officer"}, "at": "2026-02-01T09:00:00Z",
               "command": "receive_order", "plan": "plan-lss-1", "order": "lss-7", "unit": "dv-soder",
               "act": "lss_daily_activity", "client": "197010632391", "received_on": "2026-02-01"}),
        json!({"actor": {"user": "sam", "role": "key_worker"}, "at": "2026-02-10T09:00:00Z",
               "command": "draft", "plan": "plan-lss-1", "content": lss_content()}),
        json!({"actor": {"user": "sam", "role": "key_worker"}, "at": "2026-02-10T10:00:00Z",
               "command": "sign", "plan": "plan-lss-1", "version": 1, "signer": "trustee"}),
        json!({"actor": {"user": "sam", "role": "key_worker"}, "at": "2026-02-11T09:00:00Z",
               "command": "submit", "plan": "plan-lss-1", "version": 1}),
        json!({"actor": {"user": "h9", "role": "case_officer"}, "at": "2026-02-12T09:00:00Z",
               "command": "approve", "plan": "plan-lss-1", "version": 1}),
        json!({"actor": {"user": "lo", "role": "staff"}, "at": "2026-03-05T16:00:00Z",
               "command": "record_deviation", "plan": "plan-lss-1", "occurred_on": "2026-03-05",
               "service": "Arbetsuppgifter", "description": "Bildschemat saknades, oro vid ankomst"}),
    ];
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn seed_003_lss_plan_is_imported_from_json_lines() {
    let t = TestLedger::new();
    let file = t.write("lss.jsonl", &lss_lines());
    let out = t.ok(&["import", file.to_str().unwrap()]);
    assert_eq!(
        out.trim(),
        "imported 6 of 6 lines (6 records); 0 already recorded (skipped); 0 rejected"
    );
    let history: Value = serde_json::from_str(&t.ok(&[
        "history",
        "--client",
        "197010632391",
        "--as-of",
        "2026-03-31",
        "--format",
        "json",
    ]))
    .unwrap();
    let signatures = &history["versions"][0]["signatures"];
    assert_eq!(signatures.as_array().unwrap().len(), 1, "{history}");
    let deviation = &history["events"][5];
    assert_eq!(deviation["event_type"], "deviation_recorded");
    assert_eq!(deviation["by"]["user"], "lo");
    assert_eq!(deviation["plan"], "plan-lss-1");
    // An unknown client is not found.
    t.fails_at(
        "2026-03-31T00:00:00Z",
        &["history", "--client", "19121212-1212"],
        4,
    );
    let shown = t.ok(&["show", "plan-lss-1", "--lang", "en"]);
    assert!(shown.contains("approved 2026-02-12") && shown.contains("Kommunikation"));
    t.ok(&["verify"]);
}

#[test]
fn import_from_stdin_records_the_same_as_from_a_file() {
    let a = TestLedger::new();
    let b = TestLedger::new();
    let file = a.write("lss.jsonl", &lss_lines());
    a.ok(&["import", file.to_str().unwrap()]);
    b.cmd()
        .args(["--claimed-at", "2026-03-02T09:00:00Z", "import", "-"])
        .write_stdin(lss_lines())
        .assert()
        .success();
    // Same commands, same claimed times: the same entries (sealed at other times).
    assert_eq!(a.entries(), b.entries());
}

#[test]
fn import_rejects_bad_lines_by_number_writes_nothing_of_them_and_exits_2() {
    let t = TestLedger::new();
    let good = lss_lines();
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    // Line 2: not JSON. Line 4: an invalid personnummer. Line 6: a wrong role.
    lines.insert(1, "{\"actor\": {\"user\": \"sam\"".into());
    lines.insert(
        3,
        json!({"actor": {"user": "h9", "role": "case_officer"}, "command": "receive_order",
               "plan": "plan-x", "order": "o", "unit": "u", "act": "home_care",
               "client": "196408233235", "received_on": "2026-02-01"})
        .to_string(),
    );
    lines.insert(
        5,
        json!({"actor": {"user": "sam", "role": "inspector"}, "at": "2026-02-11T08:00:00Z",
               "command": "submit", "plan": "plan-lss-1", "version": 1})
        .to_string(),
    );
    let file = t.write("mixed.jsonl", &(lines.join("\n") + "\n"));
    let out = t.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2: the line is not valid JSON"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4: invalid command: the check digit"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 6: rejected (not_permitted): a inspector may not submit")
            || stderr.contains("line 6: rejected (not_permitted)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("196408233235"),
        "no personnummer in messages"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 6 of 9 lines"));
    // The good lines are all there, and nothing else.
    let clean = TestLedger::new();
    let good_file = clean.write("good.jsonl", &good);
    clean.ok(&["import", good_file.to_str().unwrap()]);
    assert_eq!(t.entries(), clean.entries());
}

/// Runs a bad command and checks its exit code, that the message says `says`, and
/// that the ledger head did not move.
fn refused(t: &TestLedger, now: &str, args: &[&str], code: i32, says: &str) {
    let before = t.head();
    let stderr = t.fails_at(now, args, code);
    assert!(stderr.contains(says), "expected {says:?} in: {stderr}");
    assert!(
        !stderr.contains("3234"),
        "no personnummer in messages: {stderr}"
    );
    assert_eq!(t.head(), before, "a refused command writes nothing");
}

#[test]
fn bad_input_exits_with_its_code_a_clear_message_and_an_unchanged_head() {
    let t = TestLedger::new();
    order_home_care(&t);
    let plan = ["--plan", "plan-0001"];
    let kim = ["--as", "kim", "--role", "key_worker"];
    let at = "2026-03-10T09:00:00Z";
    // A malformed content file.
    let broken = t.write("broken.json", "{\"provider\": ");
    let mut args = vec!["draft", "--content", broken.to_str().unwrap()];
    args.extend(kim.iter().chain(&plan));
    refused(&t, at, &args, 2, "is not valid JSON");
    // An invalid personnummer.
    refused(
        &t,
        at,
        &[
            "order",
            "--as",
            "h7",
            "--role",
            "case_officer",
            "--plan",
            "plan-2",
            "--order",
            "o2",
            "--unit",
            "u",
            "--act",
            "home_care",
            "--client",
            "196408233235",
            "--received-on",
            "2026-03-02",
        ],
        2,
        "check digit",
    );
    // A wrong role: a key worker may not approve.
    let mut args = vec!["approve", "--version", "1"];
    args.extend(kim.iter().chain(&plan));
    refused(&t, at, &args, 2, "may not approve");
    // An unknown role.
    refused(
        &t,
        at,
        &[
            "submit",
            "--version",
            "1",
            "--as",
            "kim",
            "--role",
            "boss",
            "--plan",
            "plan-0001",
        ],
        2,
        "invalid value for --role <ROLE>: use one of: key_worker",
    );
    // A missing plan.
    let mut args = vec![
        "submit",
        "--version",
        "1",
        "--as",
        "kim",
        "--role",
        "key_worker",
    ];
    args.extend(["--plan", "plan-none"]);
    refused(&t, at, &args, 4, "no such plan");
    refused(
        &t,
        at,
        &["show", "plan-none"],
        4,
        "there is no plan plan-none",
    );
    // A version conflict: the writer read the plan at 1 record, it has 2 by now.
    let content = t.write("v1.json", &home_care_content(&["Dusch"]));
    let mut args = vec!["draft", "--content", content.to_str().unwrap()];
    args.extend(kim.iter().chain(&plan));
    t.ok_at(at, &args);
    let mut args = vec![
        "sign",
        "--version",
        "1",
        "--signer",
        "client",
        "--expect-version",
        "1",
    ];
    args.extend(kim.iter().chain(&plan));
    refused(
        &t,
        at,
        &args,
        3,
        "the plan plan-0001 has 2 records now, you expected 1",
    );
    // A domain rule: a date in the future.
    let mut args = vec![
        "deviation",
        "--occurred-on",
        "2026-04-01",
        "--description",
        "x y z",
    ];
    args.extend(kim.iter().chain(&plan));
    refused(&t, at, &args, 2, "lies after today");
    // Usage errors (clap's): exit 2.
    refused(&t, at, &["sign", "--plan", "plan-0001"], 2, "required");
    // No ledger there.
    let out = t
        .cmd()
        .args(["--ledger", t.path("nowhere").to_str().unwrap(), "head"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("planledger --ledger"));
}

#[test]
fn help_lists_the_exit_codes() {
    let t = TestLedger::new();
    let help = t.ok(&["--help"]);
    for line in [
        "0  success",
        "1  verification failure",
        "2  usage error or bad input",
        "3  conflict",
        "4  not found",
        "5  storage or I/O error",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}");
    }
}

/// Overwrites the stored bytes of the record at `position` with `edit` applied, using
/// redb directly (as someone with file access would).
pub fn tamper(t: &TestLedger, position: u64, edit: impl FnOnce(&mut Vec<u8>)) {
    const RECORDS: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("records");
    let db = redb::Database::open(t.redb_file()).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut table = txn.open_table(RECORDS).unwrap();
        let mut bytes = table.get(position).unwrap().unwrap().value().to_vec();
        edit(&mut bytes);
        table.insert(position, bytes.as_slice()).unwrap();
    }
    txn.commit().unwrap();
}

#[test]
fn a_flipped_byte_in_a_stored_record_makes_verify_exit_1_naming_its_position() {
    let t = TestLedger::new();
    walk_home_care(&t);
    t.ok(&["verify"]);
    // A payload byte of the drafted version (position 1): the content someone might
    // want to change afterwards.
    tamper(&t, 1, |b| {
        let last = b.len() - 1;
        b[last] ^= 0x01;
    });
    let stderr = t.fails_at("2026-05-01T00:00:00Z", &["verify"], 1);
    assert!(
        stderr.contains("verification FAILED at position 1:"),
        "{stderr}"
    );
    let out = t.run(&["verify", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["violation"]["position"], 1);
}

#[test]
fn an_altered_last_record_is_found_when_the_store_opens_and_verify_exits_1() {
    let t = TestLedger::new();
    walk_home_care(&t);
    let last = t.head()["size"].as_u64().unwrap() - 1;
    tamper(&t, last, |b| {
        let at = b.len() - 2;
        b[at] ^= 0x20;
    });
    let stderr = t.fails_at("2026-05-01T00:00:00Z", &["verify"], 1);
    assert!(
        stderr.contains(&format!("verification FAILED at position {last}")),
        "{stderr}"
    );
}

/// A command is recorded once however often it is sent: a file imported twice records
/// nothing the second time and names where each line was recorded; a line sent twice in
/// one file is one command; a line's own `id` is the command's, whatever else differs;
/// an id that could be a personnummer is refused by name.
#[test]
fn an_import_sent_again_records_nothing_twice() {
    let t = TestLedger::new();
    let file = t.write("lss.jsonl", &lss_lines());
    t.ok(&["import", file.to_str().unwrap()]);
    let entries = t.entries();
    let out = t.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let n = lss_lines().lines().count();
    assert!(
        stdout.contains(&format!(
            "imported 0 of {n} lines (0 records); {n} already recorded (skipped); 0 rejected"
        )),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 1: already recorded at position 0; skipped"),
        "{stderr}"
    );
    assert_eq!(t.entries(), entries, "nothing recorded twice");

    // Within one file: the second copy of a line is the same command.
    let deviation = json!({"actor": {"user": "sam", "role": "key_worker"},
        "at": "2026-02-20T09:00:00Z", "command": "record_deviation", "plan": "plan-lss-1",
        "occurred_on": "2026-02-19", "description": "Utflykten ställdes in"})
    .to_string();
    let twice = t.write("twice.jsonl", &format!("{deviation}\n{deviation}\n"));
    let stdout = t.ok(&["import", twice.to_str().unwrap()]);
    assert!(stdout.contains("imported 1 of 2 lines"), "{stdout}");
    assert_eq!(t.entries().len(), entries.len() + 1);

    // A source system's id: the same id is the same command, even with other fields.
    let with_id = |id: &str, at: &str| {
        json!({"id": id, "actor": {"user": "sam", "role": "key_worker"}, "at": at,
            "command": "record_deviation", "plan": "plan-lss-1", "occurred_on": "2026-02-21",
            "description": "Skjutsen kom inte"})
        .to_string()
    };
    let first = t.write(
        "a.jsonl",
        &(with_id("vsys-88", "2026-02-22T09:00:00Z") + "\n"),
    );
    t.ok(&["import", first.to_str().unwrap()]);
    let retry = t.write(
        "b.jsonl",
        &(with_id("vsys-88", "2026-02-22T09:05:00Z") + "\n"),
    );
    let stdout = t.ok(&["import", retry.to_str().unwrap()]);
    assert!(stdout.contains("1 already recorded"), "{stdout}");
    let entries = t.entries();
    assert_eq!(
        entries.iter().filter(|e| e.command_id == "vsys-88").count(),
        1
    );
    let pnr = t.write(
        "c.jsonl",
        &(with_id("19640823-3234", "2026-02-22T09:00:00Z") + "\n"),
    );
    let out = t.run(&["import", pnr.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("command id"), "{stderr}");
    assert!(!stderr.contains("3234"), "{stderr}");
}
