//! Operations (issue 19): secure defaults, logging, read-only use, `verify --json` on
//! every failure, packaging and the README's runnable examples.

use std::os::unix::fs::PermissionsExt;

use crate::util::TestLedger;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn init_creates_the_ledger_directory_0700_and_its_file_0600() {
    let t = TestLedger::at("unused");
    // Two levels that do not exist yet: both are created 0700.
    let ledger = t.path("parent/ledger");
    t.ok(&["--ledger", ledger.to_str().unwrap(), "init"]);
    assert_eq!(mode(&t.path("parent")), 0o700);
    assert_eq!(mode(&ledger), 0o700);
    assert_eq!(mode(&ledger.join("ledger.redb")), 0o600);
    // And after records are appended (redb grows the file in place).
    let demo = t.path("demo");
    t.ok(&[
        "--ledger",
        demo.to_str().unwrap(),
        "demo",
        "--clients",
        "5",
        "--months",
        "2",
    ]);
    assert_eq!(mode(&demo), 0o700);
    assert_eq!(mode(&demo.join("ledger.redb")), 0o600);
}

#[test]
fn an_existing_directory_keeps_its_mode() {
    let t = TestLedger::at("unused");
    let ledger = t.path("chosen");
    std::fs::create_dir(&ledger).unwrap();
    std::fs::set_permissions(&ledger, std::fs::Permissions::from_mode(0o750)).unwrap();
    t.ok(&["--ledger", ledger.to_str().unwrap(), "init"]);
    assert_eq!(mode(&ledger), 0o750);
    assert_eq!(mode(&ledger.join("ledger.redb")), 0o600);
}

/// `RUST_LOG` turns logging on, to standard error; it names the command and never a
/// value given (here a personnummer and a plan id); without it nothing is logged.
#[test]
fn rust_log_logs_command_boundaries_without_personal_data() {
    let t = TestLedger::new();
    let order = [
        "order",
        "--as",
        "h7",
        "--role",
        "case_officer",
        "--plan",
        "plan-secretive",
        "--order",
        "best-88",
        "--unit",
        "hemtjanst-norr",
        "--act",
        "home_care",
        "--client",
        "19640823-3234",
        "--received-on",
        "2026-03-02",
    ];
    let quiet = t.cmd().args(order).output().unwrap();
    assert_eq!(quiet.status.code(), Some(0));
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );

    for args in [
        &["history", "--client", "19640823-3234"][..],
        &["history", "--plan", "plan-secretive"][..],
        &["history", "--client", "19121212-1212"][..], // not found: exit 4
        &["verify"][..],
    ] {
        let out = t
            .cmd()
            .env("RUST_LOG", "debug")
            .args(["--claimed-at", "2026-03-03T09:00:00Z"])
            .args(args)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(log.contains("command{name="), "{log}");
        assert!(log.contains("opened the ledger"), "{log}");
        for secret in [
            "19640823",
            "3234",
            "19121212",
            "plan-secretive",
            "hemtjanst",
        ] {
            // The error message itself (masked) is printed after the log lines; the
            // log lines alone must hold nothing of the input.
            for line in log.lines().filter(|l| l.contains("command{")) {
                // The line's own timestamp (its first word) is the clock's, and its
                // microseconds can hold any four digits.
                let logged = line.split_once(' ').map_or(line, |(_, rest)| rest);
                assert!(!logged.contains(secret), "{secret} logged: {line}");
            }
        }
        if args[0] == "verify" {
            assert!(log.contains("verified"), "{log}");
            assert!(log.contains("succeeded"), "{log}");
        }
    }
    let failed = t
        .cmd()
        .env("RUST_LOG", "info")
        .args(["history", "--client", "19121212-1212"])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(4));
    let log = String::from_utf8_lossy(&failed.stderr);
    assert!(
        log.contains("failed") && log.contains("kind=NotFound"),
        "{log}"
    );
}

/// A user to run the binary as who owns nothing of the ledger: when the tests run as
/// root (CI), a throwaway system user made with `useradd` and removed when dropped;
/// otherwise the current user (who cannot write a 0444 file either).
struct OtherUser(Option<String>);

impl OtherUser {
    fn new() -> OtherUser {
        if unsafe_free_euid() != 0 {
            return OtherUser(None);
        }
        let name = format!("plro{}", std::process::id());
        let status = std::process::Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
            ])
            .arg(&name)
            .status()
            .expect("useradd runs (running as root, the test needs a user without rights)");
        assert!(status.success(), "useradd {name} failed");
        OtherUser(Some(name))
    }

    /// The built binary, run as this user, with no environment of the caller's.
    fn cmd(&self) -> std::process::Command {
        let bin = env!("CARGO_BIN_EXE_planledger");
        let mut c = match &self.0 {
            Some(name) => {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", name, "--", bin]);
                c
            }
            None => std::process::Command::new(bin),
        };
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        c
    }
}

impl Drop for OtherUser {
    fn drop(&mut self) {
        if let Some(name) = &self.0 {
            let _ = std::process::Command::new("userdel").arg(name).status();
        }
    }
}

/// The effective user id, from /proc (the workspace forbids unsafe code).
fn unsafe_free_euid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").unwrap().uid()
}

/// An embedded ledger its user may only read (file 0444, directory 0555, another user
/// than its owner) answers every report and `verify`; a write fails with exit 5 saying
/// so, and the file is left byte for byte as it was.
#[test]
fn a_read_only_embedded_ledger_answers_reports_and_verify() {
    // Under /tmp, 0755: the other user must reach the ledger.
    let tmp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o755))
        .tempdir_in("/tmp")
        .unwrap();
    let ledger = tmp.path().join("ledger");
    let ledger_arg = ledger.to_str().unwrap().to_owned();
    let t = TestLedger::at(&ledger_arg);
    t.ok(&["demo", "--clients", "20", "--months", "3"]);
    let file = ledger.join("ledger.redb");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&ledger, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = std::fs::read(&file).unwrap();

    let user = OtherUser::new();
    let run = |args: &[&str]| {
        let out = user
            .cmd()
            .args(["--ledger", &ledger_arg])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The store is opened for reading only (the log says so).
    let out = user
        .cmd()
        .env("RUST_LOG", "debug")
        .args(["--ledger", &ledger_arg, "head"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains("read_only=true"), "{log}");

    let (code, out, err) = run(&["audit", "overview", "--format", "csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.lines().count() > 1, "{out}");
    let (code, out, err) = run(&["history", "--plan", "plan-000001"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("plan-000001"), "{out}");
    let (code, out, err) = run(&["verify", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], true, "{out}");
    let (code, out, err) = run(&["verify"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("OK"), "{out}");

    let (code, _, err) = run(&[
        "order",
        "--as",
        "h7",
        "--role",
        "case_officer",
        "--plan",
        "plan-new",
        "--order",
        "best-1",
        "--unit",
        "hemtjanst-norr",
        "--act",
        "home_care",
        "--client",
        "19640823-3234",
        "--received-on",
        "2026-03-02",
    ]);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("the ledger is read-only for this user"),
        "{err}"
    );
    let (code, _, err) = run(&["reindex"]);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("the ledger is read-only for this user"),
        "{err}"
    );
    assert!(
        std::fs::read(&file).unwrap() == before,
        "the ledger file changed"
    );
    drop(user);
    // Let the temporary directory be removed.
    std::fs::set_permissions(&ledger, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it (PEM): the
/// CA's certificate, the server's certificate and the server's key.
fn certificates(ca_name: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut server =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    server
        .distinguished_name
        .push(DnType::CommonName, "planledger test server");
    let cert = server.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

/// PostgreSQL over TLS: `verify-full` with the right CA records, reads and verifies
/// over TLS (the server's log says so); a wrong CA, and `sslmode=require` against a
/// server without TLS, are refused with what to check, never with the migrate hint.
#[test]
fn postgres_over_tls_works_and_a_wrong_ca_is_refused() {
    use planledger_store_postgres::testing::{TestServer, shared};
    let (ca, cert, key) = certificates("planledger test CA");
    let (other_ca, _, _) = certificates("another CA");
    let server = TestServer::start_tls(&format!("{cert}{ca}"), &key).unwrap();
    let t = TestLedger::at("unused");
    let ca_file = t.write("ca.pem", &ca);
    let wrong_ca = t.write("wrong-ca.pem", &other_ca);
    let url = server.create_database().unwrap();
    let with = |params: &str| format!("{url}&{params}");

    for mode in ["verify-full", "verify-ca"] {
        let tls = with(&format!("sslmode={mode}&sslrootcert={}", ca_file.display()));
        if mode == "verify-full" {
            t.ok(&["db", "migrate", &tls]);
            t.ok(&["--ledger", &tls, "init"]);
            t.ok(&[
                "--ledger",
                &tls,
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
                "19640823-3234",
                "--received-on",
                "2026-03-02",
            ]);
        }
        let out = t.ok(&["--ledger", &tls, "verify"]);
        assert!(out.starts_with("OK: verified 1 records"), "{mode}: {out}");
        let out = t.ok(&["--ledger", &tls, "history", "--plan", "plan-0001"]);
        assert!(out.contains("plan-0001"), "{out}");
    }
    let log = server.log_tail();
    assert!(
        log.contains("SSL enabled"),
        "no TLS connection in the log:\n{log}"
    );
    // require without a CA: encrypted, the certificate unchecked (libpq's meaning).
    t.ok(&["--ledger", &with("sslmode=require"), "verify"]);

    // verify-full names the host: the certificate is for 127.0.0.1 and localhost only.
    let by_name = with(&format!(
        "sslmode=verify-full&sslrootcert={}&hostaddr=127.0.0.1",
        ca_file.display()
    ))
    .replace("@127.0.0.1:", "@db.invalid:");
    let bad_name = t.fails_at("2026-03-02T09:00:00Z", &["--ledger", &by_name, "verify"], 5);
    assert!(bad_name.contains("invalid peer certificate"), "{bad_name}");

    let wrong = with(&format!(
        "sslmode=verify-full&sslrootcert={}",
        wrong_ca.display()
    ));
    for args in [
        &["verify"][..],
        &["init"][..],
        &["history", "--plan", "plan-0001"][..],
    ] {
        let err = t.fails_at(
            "2026-03-02T09:00:00Z",
            &[&["--ledger", &wrong][..], args].concat(),
            5,
        );
        assert!(err.contains("invalid peer certificate"), "{err}");
        assert!(err.contains("sslrootcert"), "{err}");
        assert!(!err.contains("migrate"), "{err}");
    }
    let err = t.fails_at("2026-03-02T09:00:00Z", &["db", "migrate", &wrong], 5);
    assert!(err.contains("invalid peer certificate"), "{err}");

    // A CA file that does not exist is named; verify-full without one says what it needs.
    let missing = with("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
    let err = t.fails_at("2026-03-02T09:00:00Z", &["--ledger", &missing, "verify"], 5);
    assert!(err.contains("cannot read sslrootcert"), "{err}");
    let err = t.fails_at(
        "2026-03-02T09:00:00Z",
        &["--ledger", &with("sslmode=verify-full"), "verify"],
        5,
    );
    assert!(err.contains("need sslrootcert"), "{err}");
    assert!(!err.contains("migrate"), "{err}");

    // A server without TLS: require fails, saying so.
    let plain = shared().create_database().unwrap();
    let err = t.fails_at(
        "2026-03-02T09:00:00Z",
        &["--ledger", &format!("{plain}&sslmode=require"), "verify"],
        5,
    );
    assert!(err.contains("does not support TLS"), "{err}");
    assert!(!err.contains("migrate"), "{err}");
}

/// Runs `verify --json` with `args`, checks the exit code and that standard output is
/// exactly one JSON object with `ok: false` and `error: {kind, message, exit_code}`;
/// returns the object.
fn verify_json_fails(t: &TestLedger, args: &[&str], code: i32, kind: &str) -> serde_json::Value {
    let out = t.run(&[&["verify", "--json"][..], args].concat());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["error"]["kind"], kind, "{v}");
    assert_eq!(v["error"]["exit_code"], code, "{v}");
    assert!(!v["error"]["message"].as_str().unwrap().is_empty(), "{v}");
    v
}

#[test]
fn verify_json_on_a_missing_ledger() {
    let t = TestLedger::at("unused");
    let missing = t.path("nothing-here");
    let v = verify_json_fails(&t, &["--ledger", missing.to_str().unwrap()], 4, "not_found");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no ledger"),
        "{v}"
    );
    // No ledger given at all.
    let out = t
        .cmd()
        .env_remove("PLANLEDGER_LEDGER")
        .args(["verify", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["ok"].clone(), v["error"]["kind"].clone()),
        (false.into(), "bad_input".into())
    );
}

#[test]
fn verify_json_on_a_bad_command_line() {
    let t = TestLedger::new();
    // --since-checkpoint needs --witness; --witness needs --pubkey.
    verify_json_fails(&t, &["--since-checkpoint"], 2, "bad_input");
    verify_json_fails(&t, &["--no-such-flag"], 2, "bad_input");
}

#[test]
fn verify_json_on_a_bad_key_file() {
    let t = TestLedger::new();
    let witness = t.path("witness");
    std::fs::create_dir(&witness).unwrap();
    let bad = t.write("bad.pub", "this is not a verifier key\n");
    verify_json_fails(
        &t,
        &[
            "--witness",
            witness.to_str().unwrap(),
            "--pubkey",
            bad.to_str().unwrap(),
        ],
        2,
        "bad_input",
    );
    let missing = t.path("missing.pub");
    verify_json_fails(
        &t,
        &[
            "--witness",
            witness.to_str().unwrap(),
            "--pubkey",
            missing.to_str().unwrap(),
        ],
        4,
        "not_found",
    );
}

#[test]
fn verify_json_on_a_bad_witness_directory() {
    let t = TestLedger::new();
    let key = t.path("ledger.key");
    let public = t.ok(&[
        "keygen",
        "--name",
        "exempel.se/planledger",
        "--out",
        key.to_str().unwrap(),
    ]);
    let pubkey = t.write("ledger.pub", &public);
    // A file where the witness directory belongs.
    let not_a_dir = t.write("witness", "not a directory");
    verify_json_fails(
        &t,
        &[
            "--witness",
            not_a_dir.to_str().unwrap(),
            "--pubkey",
            pubkey.to_str().unwrap(),
        ],
        1,
        "verification",
    );
    // A directory with something in it that is not a checkpoint.
    let dir = t.path("witness-dir");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("00000000000000000001-1.checkpoint"),
        [0u8, 159, 146, 150],
    )
    .unwrap();
    verify_json_fails(
        &t,
        &[
            "--witness",
            dir.to_str().unwrap(),
            "--pubkey",
            pubkey.to_str().unwrap(),
        ],
        1,
        "verification",
    );
}

#[test]
fn verify_json_on_a_corrupt_store() {
    // A file that is not a redb database at all.
    let t = TestLedger::new();
    std::fs::write(t.redb_file(), b"garbage, not a database").unwrap();
    verify_json_fails(&t, &[], 5, "storage");

    // A store whose records were changed behind its back: a finding, with the report.
    let t = TestLedger::new();
    t.ok(&[
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
        "19640823-3234",
        "--received-on",
        "2026-03-02",
    ]);
    {
        let db = redb::Database::open(t.redb_file()).unwrap();
        let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
        let records: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("records");
        let mut bytes = txn
            .open_table(records)
            .unwrap()
            .get(0)
            .unwrap()
            .unwrap()
            .value()
            .to_vec();
        drop(txn);
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let txn = db.begin_write().unwrap();
        txn.open_table(records)
            .unwrap()
            .insert(0, bytes.as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let v = verify_json_fails(&t, &[], 1, "verification");
    assert!(v["violation"]["position"].is_number(), "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("FAILED"),
        "{v}"
    );
}

#[test]
fn completions_and_man_page_are_generated_from_the_cli() {
    let t = TestLedger::at("unused");
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef planledger"),
        ("fish", "complete -c planledger"),
    ] {
        let out = t.ok(&["completions", shell]);
        assert!(out.contains(marker), "{shell}: {out}");
        assert!(
            out.contains("verify") && out.contains("--witness"),
            "{shell}"
        );
    }
    t.fails_at("2026-03-02T09:00:00Z", &["completions", "cmd.exe"], 2);
    let man = t.ok(&["man"]);
    assert!(
        man.starts_with(".ie") || man.starts_with(".TH"),
        "{}",
        &man[..80]
    );
    assert!(man.contains(".TH planledger 1"), "{}", &man[..200]);
    assert!(man.contains("verify") && man.contains("PLANLEDGER_LEDGER"));
}

fn prom_metrics(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once(' ').expect("name value");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// `verify --prom FILE` writes a Prometheus textfile on success and on every failure.
#[test]
fn verify_writes_a_prometheus_textfile_on_every_outcome() {
    let t = TestLedger::new();
    let prom = t.path("planledger.prom");
    let prom_arg = prom.to_str().unwrap();
    t.ok_at("2026-03-02T09:00:00Z", &["verify", "--prom", prom_arg]);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("# TYPE planledger_verify_ok gauge"), "{text}");
    let m = prom_metrics(&text);
    assert_eq!(m["planledger_verify_ok"], "1", "{text}");
    assert_eq!(m["planledger_verify_exit_code"], "0");
    assert_eq!(m["planledger_verify_records"], "0");
    // When it ran by the clock (never a claimed time).
    let ran: i64 = m["planledger_verify_last_run_timestamp_seconds"]
        .parse()
        .unwrap();
    assert!((chrono::Utc::now().timestamp() - ran).abs() < 600, "{text}");
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("prom"))
        .collect();
    assert_eq!(names, ["planledger.prom"]);

    // A ledger that cannot be opened: ok 0, its exit code, no record count.
    let missing = t.path("missing");
    t.fails_at(
        "2026-03-03T09:00:00Z",
        &[
            "--ledger",
            missing.to_str().unwrap(),
            "verify",
            "--prom",
            prom_arg,
        ],
        4,
    );
    let m = prom_metrics(&std::fs::read_to_string(&prom).unwrap());
    assert_eq!(m["planledger_verify_ok"], "0");
    assert_eq!(m["planledger_verify_exit_code"], "4");
    assert!(!m.contains_key("planledger_verify_records"));
    let again: i64 = m["planledger_verify_last_run_timestamp_seconds"]
        .parse()
        .unwrap();
    assert!(again >= ran, "the time of the later run");

    // A textfile directory that does not exist fails a good run (exit 4, not found).
    let nowhere = t.path("no-such-dir/planledger.prom");
    let err = t.fails_at(
        "2026-03-02T09:00:00Z",
        &["verify", "--prom", nowhere.to_str().unwrap()],
        4,
    );
    assert!(err.contains("Prometheus textfile"), "{err}");
}

/// The systemd units in contrib/ pass `systemd-analyze verify` (with ExecStart pointing
/// at the built binary, which the analyser requires to exist). `.ci/run` installs
/// systemd when the machine lacks it; without it this test fails, it never skips.
#[test]
fn the_systemd_units_pass_systemd_analyze_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let units = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/systemd");
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(&units).unwrap() {
        let entry = entry.unwrap();
        let text = std::fs::read_to_string(entry.path()).unwrap().replace(
            "/usr/local/bin/planledger",
            env!("CARGO_BIN_EXE_planledger"),
        );
        let path = tmp.path().join(entry.file_name());
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    paths.sort();
    assert_eq!(paths.len(), 3, "{paths:?}");
    let analyse = |paths: &[std::path::PathBuf]| {
        let out = std::process::Command::new("systemd-analyze")
            .arg("verify")
            .args(paths)
            .output()
            .expect(
                "systemd-analyze runs (install systemd: `apt-get install systemd`; .ci/run does)",
            );
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stderr) = analyse(&paths);
    assert!(
        ok && stderr.trim().is_empty(),
        "systemd-analyze verify: {stderr}"
    );
    // And the analyser does catch a broken unit (so the check above can fail).
    let service = tmp.path().join("planledger-nightly.service");
    let text = std::fs::read_to_string(&service).unwrap();
    std::fs::write(&service, text.replace("Type=oneshot", "Type=simple")).unwrap();
    let (ok, stderr) = analyse(&paths);
    assert!(
        !ok,
        "a simple service with two ExecStart= must be refused: {stderr}"
    );
}

/// One command of a README block marked runnable.
#[derive(Debug)]
struct ReadmeCommand {
    line: String,
    /// The exit code its comment states (`# exits N: …`), 0 otherwise.
    exits: i32,
}

/// The shell blocks of the README marked `<!-- readme-test -->`, in order, as commands
/// (continuation lines joined, comment lines dropped).
fn runnable_readme_blocks(readme: &str) -> Vec<Vec<ReadmeCommand>> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "<!-- readme-test -->" {
            continue;
        }
        assert_eq!(
            lines.next().map(str::trim),
            Some("```sh"),
            "a readme-test marker must be followed by a ```sh block"
        );
        let mut commands = Vec::new();
        let mut pending = String::new();
        for line in lines.by_ref() {
            if line.trim() == "```" {
                break;
            }
            if let Some(start) = line.strip_suffix('\\') {
                pending.push_str(start);
                continue;
            }
            pending.push_str(line);
            let full = std::mem::take(&mut pending);
            let trimmed = full.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let exits = full
                .split_once("# exits ")
                .map(|(_, rest)| {
                    rest.split(|c: char| !c.is_ascii_digit())
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap()
                })
                .unwrap_or(0);
            commands.push(ReadmeCommand {
                line: trimmed.to_owned(),
                exits,
            });
        }
        blocks.push(commands);
    }
    blocks
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Every README block marked `<!-- readme-test -->` runs as printed, in order, in a
/// fresh directory on today's date (the real clock), each command exiting as documented.
#[test]
fn the_readme_examples_run_as_printed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = runnable_readme_blocks(&readme);
    assert!(blocks.len() >= 5, "{} runnable blocks", blocks.len());
    let commands = blocks.iter().map(Vec::len).sum::<usize>();
    assert!(commands >= 20, "{commands} runnable commands");

    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("checkout");
    copy_dir(&root.join("examples"), &work.join("examples"));
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_planledger"), bin.join("planledger")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env: std::collections::BTreeMap<String, String> = Default::default();
    for (b, block) in blocks.iter().enumerate() {
        for command in block {
            let line = command.line.replace("cargo run --release --", "planledger");
            let statement = line.split(" #").next().unwrap().trim();
            if let Some(assignment) = statement.strip_prefix("export ") {
                let (name, value) = assignment.split_once('=').expect("export NAME=VALUE");
                env.insert(name.to_owned(), value.to_owned());
                continue;
            }
            if let Some(name) = statement.strip_prefix("unset ") {
                env.remove(name.trim());
                continue;
            }
            let out = std::process::Command::new("bash")
                .args(["-c", &line])
                .current_dir(&work)
                .env_clear()
                .env("PATH", &path)
                .envs(&env)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(command.exits),
                "README block {} `{line}`: stdout {} stderr {}",
                b + 1,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // What the examples made is there.
    assert!(work.join("demo-ledger/ledger.redb").exists());
    assert!(work.join("dossier.json").exists());
}
