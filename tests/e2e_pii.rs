//! The personal-data sweep (issue 14): a probe list (a synthetic personnummer and
//! samordningsnummer in several separator forms, a synthetic name) is fed through every
//! entry point: each flag that takes a value, each field of an import line, each field of
//! a content file, and (in tools/verify-bundle/tests) a malformed bundle. Nothing
//! planledger prints may hold a probe unmasked.

use serde_json::Value;

use crate::e2e::home_care_content;
use crate::util::TestLedger;

/// Synthetic numbers (valid check digits, and one with a wrong one) in the forms
/// people and systems write them, and a synthetic name.
const PROBES: &[&str] = &[
    "196408233234",
    "19640823-3234",
    "19640823_3234",
    "19640823 3234",
    "640823-3234",
    "19640823.3234",
    "plan-19640823_3234",
    "197010632391",
    "19640823-3235",
    "Testperson Ett",
];

/// Whether `output` shows a probe: a number in a personnummer's shape, or the name.
fn leak(output: &str) -> Option<String> {
    if output.contains("Testperson") {
        return Some("the name".into());
    }
    // A personnummer's shape: ten to twelve digits in a run, separators allowed (a
    // masked `19640823-****` has eight). Hashes (32 or more hex digits, which change with
    // every sealing time) are no personal data, whatever digit runs they happen to hold.
    output
        .lines()
        .find(|l| {
            let l = without_hashes(l);
            planledger_plan::json::mask_personnummer(&l) != l
        })
        .map(str::to_owned)
}

/// `line` with every run of 32 or more lowercase hex digits replaced by `<hash>`, and
/// every checkpoint file name (`<size, 20 digits>-<µs>.checkpoint`, a clock reading) by
/// `<checkpoint>`.
fn without_hashes(line: &str) -> String {
    let mut line = line.to_owned();
    while let Some(end) = line.find(".checkpoint") {
        let start = line[..end]
            .rfind(|c: char| !(c.is_ascii_digit() || c == '-'))
            .map_or(0, |i| i + 1);
        line.replace_range(start..end + ".checkpoint".len(), "<checkpoint>");
    }
    let line = line.as_str();
    let mut out = String::new();
    let mut run = String::new();
    for c in line.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || ('a'..='f').contains(&c) {
            run.push(c);
            continue;
        }
        if run.len() >= 32 {
            out.push_str("<hash>");
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// Flags whose value is a path: messages name the file (the user's own choice of
/// name), with any number in it masked; only the numbers are checked there.
const PATH_FLAGS: &[&str] = &[
    "--content",
    "--out",
    "--key",
    "--pubkey",
    "--witness",
    "--policy",
    "--from",
    "--to",
    "--ledger",
    "import",
    "--state",
    "--log-key",
    "--witness-key",
    "cosign",
    "attach",
    "--token-file",
];

fn check(t: &TestLedger, args: &[&str], what: &str) {
    check_for(t, args, what, false)
}

fn check_for(t: &TestLedger, args: &[&str], what: &str, path: bool) {
    // In the test's own directory: a probe given as an output path (`keygen --out`)
    // creates a file there, never in the source tree.
    let out = t
        .cmd()
        .current_dir(t.dir.path())
        .args(["--claimed-at", "2026-03-20T09:00:00Z"])
        .args(args)
        .output()
        .expect("the binary runs");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let found = if path {
        leak(&all.replace("Testperson", "[a path]"))
    } else {
        leak(&all)
    };
    if let Some(l) = found {
        panic!("{what}: planledger {args:?} printed a probe: {l}\n{all}");
    }
}

/// Every command with a value for each flag; `{}` marks where the probe goes, one
/// flag at a time. Writes carry `--expect-version 99` so nothing is recorded (each
/// probe meets an unchanged ledger), except where the probe takes that place.
fn commands(dir: &str) -> Vec<Vec<String>> {
    let content = format!("{dir}/content.json");
    let key = format!("{dir}/k.key");
    let public = format!("{dir}/k.pub");
    let w = format!("{dir}/witness");
    let who = "--as kim --role key_worker --plan plan-0001 --expect-version 99";
    let lines = [
        "order --as h7 --role case_officer --plan plan-0002 --order o-2 --unit hemtjanst-norr --act home_care --client 196408233234 --received-on 2026-03-02 --service dusch --expect-version 99".to_string(),
        format!("draft {who} --content {content}"),
        format!("revise {who} --reason changed_needs --note ny --content {content}"),
        format!("sign {who} --version 1 --signer client"),
        format!("submit {who} --version 1"),
        "request-supplement --as h7 --role case_officer --plan plan-0001 --version 1 --reason mer --due-on 2026-03-30 --expect-version 99".to_string(),
        format!("supplement {who} --version 1 --note ny"),
        format!("review {who} --version 1 --findings bra"),
        format!("follow-up {who} --version 1 --findings bra --next-follow-up-on 2026-09-01"),
        format!("deviation {who} --occurred-on 2026-03-02 --service dusch --description uteblev"),
        format!("correct {who} --refers-to 1 --note fel"),
        format!("close {who} --reason moved --closed-on 2026-03-19"),
        "show plan-0001 --as-of 2026-03-19 --format table --lang sv".to_string(),
        "history --plan plan-0001".to_string(),
        "history --client 196408233234 --as-of 2026-03-19".to_string(),
        "audit in-force --client 196408233234 --unit hemtjanst-norr --as-of 2026-03-19".to_string(),
        "audit overdue --unit hemtjanst-norr".to_string(),
        format!("keygen --name exempel.se/x --out {dir}/new.key"),
        format!("checkpoint --key {key} --witness {w} --origin exempel.se/x"),
        format!("export --client 196408233234 --out {dir}/b.json --witness {w} --pubkey {public}"),
        format!("verify --witness {w} --pubkey {public}"),
        format!("witness keygen --name arkiv.example/w --out {dir}/w2.key"),
        format!("witness request --witness {dir}/wd --pubkey {public} --old 0"),
        format!("witness cosign {dir}/req.txt --key {dir}/w.key --state {dir}/ws --log-key {public}"),
        format!("witness attach {dir}/c.txt --witness {dir}/wd --pubkey {public} --witness-key {dir}/w.pub"),
        format!("verify --witness {dir}/wd --pubkey {public} --witness-key {dir}/w.pub --witness-threshold 1"),
        format!("--policy {dir}/none.toml audit late"),
        format!("--max-line-bytes 1000 import {dir}/none.jsonl"),
        format!("copy --from {dir}/ledger --to {dir}/copy"),
        "schema import-line".to_string(),
        // The client of a server (nothing listens on port 1: the client's own paths).
        format!("--server http://127.0.0.1:1 --token-file {dir}/tok show plan-0001 --purpose klagomal"),
        format!("--server http://127.0.0.1:1 --token-file {dir}/tok deviation {who} --occurred-on 2026-03-02 --description uteblev"),
    ];
    lines
        .iter()
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect()
}

#[test]
fn no_probe_given_to_any_flag_is_printed() {
    let t = TestLedger::new();
    crate::e2e::order_home_care(&t);
    let dir = t.dir.path().to_str().unwrap().to_owned();
    t.write(
        "content.json",
        &home_care_content(&["Dusch"]).replace("Testperson Ett", "Kund"),
    );
    let public = t.ok(&[
        "keygen",
        "--name",
        "exempel.se/pl",
        "--out",
        &format!("{dir}/k.key"),
    ]);
    t.write("k.pub", &public);
    t.write("tok", "a-token-for-no-server");
    // A witness directory with a checkpoint, a witness, its request and its answer.
    t.ok(&[
        "checkpoint",
        "--key",
        &format!("{dir}/k.key"),
        "--witness",
        &format!("{dir}/wd"),
    ]);
    let w = t.ok(&[
        "witness",
        "keygen",
        "--name",
        "arkiv.example/w",
        "--out",
        &format!("{dir}/w.key"),
    ]);
    t.write("w.pub", &w);
    let req = t.ok(&[
        "witness",
        "request",
        "--witness",
        &format!("{dir}/wd"),
        "--pubkey",
        &format!("{dir}/k.pub"),
        "--old",
        "0",
    ]);
    t.write("req.txt", &req);
    let c = t.ok(&[
        "witness",
        "cosign",
        &format!("{dir}/req.txt"),
        "--key",
        &format!("{dir}/w.key"),
        "--state",
        &format!("{dir}/ws"),
        "--log-key",
        &format!("{dir}/k.pub"),
    ]);
    t.write("c.txt", &c);
    for args in commands(&dir) {
        // Every value after a flag, and every positional value, in turn.
        for i in 0..args.len() {
            let is_value = i > 0 && !args[i].starts_with("--");
            if !is_value {
                continue;
            }
            let path = PATH_FLAGS.contains(&args[i - 1].as_str());
            for probe in PROBES {
                let mut probed: Vec<&str> = args.iter().map(String::as_str).collect();
                probed[i] = probe;
                check_for(&t, &probed, &format!("value {i}"), path);
            }
        }
        // And an unknown option and a stray argument made of a probe.
        for probe in PROBES {
            let mut probed: Vec<&str> = args.iter().map(String::as_str).collect();
            let flag = format!("--{probe}");
            probed.push(&flag);
            check(&t, &probed, "unknown option");
            probed.pop();
            probed.push(probe);
            check(&t, &probed, "stray argument");
        }
    }
    // A path (content file, key, witness, output) named after a person.
    for probe in PROBES {
        let missing = format!("{dir}/{probe}.json");
        check_for(
            &t,
            &[
                "draft",
                "--as",
                "kim",
                "--role",
                "key_worker",
                "--plan",
                "plan-0001",
                "--content",
                &missing,
            ],
            "a missing file named after a person",
            true,
        );
    }
    // The ledger itself is unchanged: no probe was recorded.
    assert_eq!(t.head()["size"], 1);
}

/// Each string in `v`, replaced by `probe` in turn (and each key, once).
fn probed_values(v: &Value, probe: &str) -> Vec<Value> {
    match v {
        Value::String(_) => vec![Value::String(probe.into())],
        Value::Array(items) => (0..items.len())
            .flat_map(|i| {
                probed_values(&items[i], probe).into_iter().map(move |p| {
                    let mut items = items.clone();
                    items[i] = p;
                    Value::Array(items)
                })
            })
            .collect(),
        Value::Object(fields) => {
            let mut out = Vec::new();
            for (k, item) in fields {
                for p in probed_values(item, probe) {
                    let mut f = fields.clone();
                    f.insert(k.clone(), p);
                    out.push(Value::Object(f));
                }
                // The key itself as a probe (an unknown field), and a wrong type.
                let mut f = fields.clone();
                let moved = f.remove(k).unwrap();
                f.insert(probe.into(), moved);
                out.push(Value::Object(f));
                let mut f = fields.clone();
                f.insert(k.clone(), Value::Number(196408233234u64.into()));
                out.push(Value::Object(f));
            }
            out
        }
        _ => vec![Value::String(probe.into())],
    }
}

#[test]
fn no_probe_in_any_field_of_an_import_line_or_a_content_file_is_printed() {
    let t = TestLedger::new();
    crate::e2e::order_home_care(&t);
    let content: Value =
        serde_json::from_str(&home_care_content(&["Dusch"]).replace("Testperson Ett", "Kund"))
            .unwrap();
    let lines: Vec<Value> = vec![
        serde_json::json!({"actor":{"user":"h7","role":"case_officer"},"command":"receive_order","plan":"plan-0002","order":"o-2","unit":"hemtjanst-norr","act":"home_care","client":"196408233234","received_on":"2026-03-02","granted_services":["dusch"],"expect_version":99}),
        serde_json::json!({"actor":{"user":"kim","role":"key_worker"},"at":"2026-03-10T09:00:00Z","command":"draft","plan":"plan-0001","content":content,"expect_version":99}),
        serde_json::json!({"actor":{"user":"kim","role":"key_worker"},"command":"sign","plan":"plan-0001","version":1,"signer":"staff:kim","expect_version":99}),
        serde_json::json!({"actor":{"user":"anna","role":"staff"},"command":"record_deviation","plan":"plan-0001","occurred_on":"2026-03-02","service":"Dusch","description":"Uteblev","expect_version":99}),
        serde_json::json!({"actor":{"user":"h7","role":"case_officer"},"command":"close","plan":"plan-0001","reason":"moved","closed_on":"2026-03-10","expect_version":99}),
    ];
    let mut file = String::new();
    for line in &lines {
        for probe in PROBES {
            for p in probed_values(line, probe) {
                file.push_str(&p.to_string());
                file.push('\n');
            }
        }
    }
    let path = t.write("probes.jsonl", &file);
    check(&t, &["import", path.to_str().unwrap()], "import lines");
    for probe in PROBES {
        for (i, p) in probed_values(&content, probe).into_iter().enumerate() {
            let path = t.write(&format!("c{i}.json"), &p.to_string());
            check(
                &t,
                &[
                    "draft",
                    "--as",
                    "kim",
                    "--role",
                    "key_worker",
                    "--plan",
                    "plan-0001",
                    "--expect-version",
                    "99",
                    "--content",
                    path.to_str().unwrap(),
                ],
                "a content file",
            );
        }
    }
    assert_eq!(t.head()["size"], 1);
}
