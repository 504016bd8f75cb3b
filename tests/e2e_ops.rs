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
            .args(["--now", "2026-03-03T09:00:00Z"])
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
                assert!(!line.contains(secret), "{secret} logged: {line}");
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
