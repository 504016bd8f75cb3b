//! Hostile and broken input through the binary (issue 14): per-line rejection of every
//! malformed import line with the summary always printed, limits that name themselves,
//! strict JSON, files that are whole or absent after a full disk, odd witness
//! directories, and messages that say what to do.

use std::path::Path;

use crate::e2e::{home_care_content, order_home_care};
use crate::e2e_integrity::keys;
use crate::util::TestLedger;

const ORDER: &str = r#"{"actor":{"user":"h7","role":"case_officer"},"at":"2026-03-02T09:00:00Z","command":"receive_order","plan":"PLAN","order":"o-1","unit":"hemtjanst-norr","act":"home_care","client":"196408233234","received_on":"2026-03-02"}"#;

fn order_line(plan: &str) -> String {
    ORDER.replace("PLAN", plan)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn invalid_utf8_in_the_middle_line_rejects_only_that_line_and_the_summary_is_printed() {
    let t = TestLedger::new();
    let mut bytes = format!("\u{feff}{}\n", order_line("p-1")).into_bytes();
    bytes.extend_from_slice(b"{\"actor\":\"\xff\"}\n");
    bytes.extend_from_slice(order_line("p-3").as_bytes());
    let file = t.path("lines.jsonl");
    std::fs::write(&file, bytes).unwrap();
    let out = t.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "imported 2 of 3 lines (2 records); 0 already recorded (skipped); 1 rejected\n"
    );
    assert!(
        stderr(&out).contains("line 2: the line is not UTF-8"),
        "{}",
        stderr(&out)
    );
    assert_eq!(t.head()["size"], 2);
}

#[test]
fn an_over_long_line_is_rejected_naming_the_limit_and_the_rest_is_imported() {
    let t = TestLedger::new();
    let long = format!(r#"{{"note":"{}"}}"#, "x".repeat(5000));
    let file = t.write("l.jsonl", &format!("{long}\n{}\n", order_line("p-2")));
    let out = t.run(&["--max-line-bytes", "1000", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("line 1: the line is longer than the limit of 1000 bytes (--max-line-bytes)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(t.head()["size"], 1);
}

#[test]
fn import_reports_progress_off_a_terminal() {
    let t = TestLedger::new();
    // Rejected lines cost no fsync, so 10,001 of them make a fast test of the progress
    // line that a log of a long run shows (standard error is a pipe here).
    let file = t.write("many.jsonl", &"{}\n".repeat(10_001));
    let out = t.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("imported 10000 lines so far (up to line 10000): 0 records, 10000 rejected"),
        "{}",
        &err[err.len().saturating_sub(500)..]
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "imported 0 of 10001 lines (0 records); 0 already recorded (skipped); 10001 rejected\n"
    );
}

#[test]
fn a_duplicate_key_in_a_line_or_a_content_file_is_refused_by_name() {
    let t = TestLedger::new();
    let dup = order_line("p-1").replace(r#""order":"o-1""#, r#""order":"o-1","order":"o-2""#);
    let file = t.write("dup.jsonl", &format!("{dup}\n"));
    let out = t.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the key `order` appears twice"),
        "{}",
        stderr(&out)
    );
    assert_eq!(t.head()["size"], 0);

    order_home_care(&t);
    let content = home_care_content(&["Dusch"]).replacen('{', r#"{"act":"lss_daily_activity","#, 1);
    let content = t.write("c.json", &content);
    let err = t.fails_at(
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
            content.to_str().unwrap(),
        ],
        2,
    );
    assert!(err.contains("the key `act` appears twice"), "{err}");
}

#[test]
fn a_text_field_over_its_limit_is_refused_naming_the_limit() {
    let t = TestLedger::new();
    order_home_care(&t);
    let before = t.head();
    let err = t.fails_at(
        "2026-03-10T09:00:00Z",
        &[
            "--max-text-bytes",
            "20",
            "deviation",
            "--as",
            "kim",
            "--role",
            "key_worker",
            "--plan",
            "plan-0001",
            "--occurred-on",
            "2026-03-09",
            "--description",
            "Duschen uteblev, personalbrist",
        ],
        2,
    );
    assert!(
        err.contains("`description`") && err.contains("limit is 20 bytes (--max-text-bytes)"),
        "{err}"
    );
    assert!(!err.contains("personalbrist"), "{err}");
    assert_eq!(t.head(), before);
}

#[test]
fn a_date_that_does_not_exist_names_its_field() {
    let t = TestLedger::new();
    let line = order_line("p-1").replace(
        r#""received_on":"2026-03-02""#,
        r#""received_on":"2026-02-30""#,
    );
    let file = t.write("d.jsonl", &format!("{line}\n"));
    let out = t.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`received_on`"), "{}", stderr(&out));
}

#[test]
fn a_conflict_says_how_many_records_the_plan_has_and_how_many_were_expected() {
    let t = TestLedger::new();
    order_home_care(&t);
    let err = t.fails_at(
        "2026-03-02T10:00:00Z",
        &[
            "deviation",
            "--as",
            "kim",
            "--role",
            "key_worker",
            "--plan",
            "plan-0001",
            "--occurred-on",
            "2026-03-02",
            "--description",
            "Duschen uteblev",
            "--expect-version",
            "3",
        ],
        3,
    );
    assert!(
        err.contains("the plan plan-0001 has 1 records now, you expected 3"),
        "{err}"
    );
    assert!(!err.contains("Exact"), "{err}");
}

#[test]
fn init_on_a_file_exits_2_with_a_clear_message() {
    let t = TestLedger::at("unused");
    let file = t.write("a-file", "not a directory");
    let out = t.run(&["--ledger", file.to_str().unwrap(), "init"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is a file, not a directory"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_embedded_stores_lock_says_another_process_is_writing() {
    let t = TestLedger::new();
    // This process holds the redb file open, as a running import would.
    let _held = redb::Database::open(t.redb_file()).unwrap();
    let err = t.fails_at("2026-03-02T09:00:00Z", &["head"], 5);
    assert!(
        err.contains("another planledger process is writing; retry"),
        "{err}"
    );
}

/// A ledger with one plan, a key pair, and a witness directory with one checkpoint.
fn witnessed() -> (TestLedger, String, String, std::path::PathBuf) {
    let t = TestLedger::new();
    order_home_care(&t);
    let (secret, public) = keys(&t);
    let witness = t.path("witness");
    t.ok(&[
        "checkpoint",
        "--key",
        &secret,
        "--witness",
        witness.to_str().unwrap(),
    ]);
    (t, secret, public, witness)
}

fn verify_witness(t: &TestLedger, witness: &Path, public: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "verify",
        "--witness",
        witness.to_str().unwrap(),
        "--pubkey",
        public,
    ];
    args.extend_from_slice(extra);
    let out = t.run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    stderr(&out)
}

#[test]
fn every_witness_directory_oddity_exits_1_naming_the_file() {
    let (t, _, public, witness) = witnessed();
    t.ok(&[
        "verify",
        "--witness",
        witness.to_str().unwrap(),
        "--pubkey",
        &public,
    ]);

    let odd = witness.join("00000000000000000009-1.checkpoint");
    std::fs::write(&odd, b"\xff\xfe\x00binary").unwrap();
    let err = verify_witness(&t, &witness, &public, &[]);
    assert!(
        err.contains(&odd.display().to_string()) && err.contains("not text"),
        "{err}"
    );
    std::fs::remove_file(&odd).unwrap();

    std::fs::create_dir(&odd).unwrap();
    let err = verify_witness(&t, &witness, &public, &[]);
    assert!(
        err.contains(&odd.display().to_string()) && err.contains("is a directory"),
        "{err}"
    );
    std::fs::remove_dir(&odd).unwrap();

    // A symlink to an endless device is refused, not read until memory runs out.
    std::os::unix::fs::symlink("/dev/zero", &odd).unwrap();
    let err = verify_witness(&t, &witness, &public, &[]);
    assert!(
        err.contains(&odd.display().to_string()) && err.contains("not a regular file"),
        "{err}"
    );
    std::fs::remove_file(&odd).unwrap();

    // A regular file over the limit is read only up to it.
    std::fs::write(&odd, "x".repeat(70_000)).unwrap();
    let err = verify_witness(&t, &witness, &public, &[]);
    assert!(
        err.contains("limit of 65536 bytes (--max-file-bytes)"),
        "{err}"
    );
    let err = verify_witness(&t, &witness, &public, &["--max-file-bytes", "1000"]);
    assert!(err.contains("limit of 1000 bytes"), "{err}");
    std::fs::remove_file(&odd).unwrap();

    let file = t.write("not-a-dir", "x");
    let err = verify_witness(&t, &file, &public, &[]);
    assert!(
        err.contains(&file.display().to_string()) && err.contains("not a directory"),
        "{err}"
    );
}

/// Whether this process runs as root (it can mount a tmpfs). Read from
/// /proc/self/status ("Uid:\t<real>\t<effective>…"): the workspace forbids unsafe code.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            line.split_whitespace().nth(2)?.parse::<u32>().ok()
        })
        == Some(0)
}

/// A tmpfs of `size` mounted on `dir`, unmounted when dropped.
struct Tmpfs<'a>(&'a Path);

impl<'a> Tmpfs<'a> {
    fn mount(dir: &'a Path, size: &str) -> Tmpfs<'a> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mount a tmpfs on {}", dir.display());
        Tmpfs(dir)
    }

    /// Fills the file system with one file until it is full; returns the file.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.0.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = [0u8; 512];
        while f.write_all(&chunk).is_ok() {}
        filler
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = walk(self.0);
        names.sort();
        names
    }
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p.display().to_string());
    }
    out
}

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn a_full_disk_leaves_no_partial_checkpoint_bundle_or_key_and_a_later_run_works() {
    if !is_root() {
        // Mounting needs root; CI runs as root, so there this test runs.
        eprintln!("skipped: not root, cannot mount a tmpfs");
        return;
    }
    let (t, secret, public, _) = witnessed();
    let disk = t.path("disk");
    let fs = Tmpfs::mount(&disk, "64k");
    let witness = disk.join("witness");
    std::fs::create_dir(&witness).unwrap();
    let filler = fs.fill();
    let before = fs.entries();

    let bundle = disk.join("dossier.json");
    let key = disk.join("new.key");
    for args in [
        vec![
            "checkpoint",
            "--key",
            &secret,
            "--witness",
            witness.to_str().unwrap(),
        ],
        vec![
            "export",
            "--client",
            "196408233234",
            "--out",
            bundle.to_str().unwrap(),
            "--key",
            &secret,
            "--witness",
            witness.to_str().unwrap(),
        ],
        vec![
            "keygen",
            "--name",
            "exempel.se/full",
            "--out",
            key.to_str().unwrap(),
        ],
    ] {
        let out = t.run_at("2026-03-03T09:00:00Z", &args);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {}", stderr(&out));
        assert_eq!(fs.entries(), before, "{args:?} left something behind");
    }

    // Room again: the same commands work and verify.
    std::fs::remove_file(&filler).unwrap();
    t.ok_at(
        "2026-03-03T09:00:00Z",
        &[
            "checkpoint",
            "--key",
            &secret,
            "--witness",
            witness.to_str().unwrap(),
        ],
    );
    t.ok(&[
        "verify",
        "--witness",
        witness.to_str().unwrap(),
        "--pubkey",
        &public,
    ]);
    t.ok_at(
        "2026-03-03T09:00:01Z",
        &[
            "export",
            "--client",
            "196408233234",
            "--out",
            bundle.to_str().unwrap(),
            "--key",
            &secret,
            "--witness",
            witness.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&bundle).unwrap();
    let key = planledger_ledger::CheckpointVerifier::from_text(
        &std::fs::read_to_string(&public).unwrap(),
    )
    .unwrap();
    verify_bundle::verify(&text, &key).expect("the bundle written after the full disk verifies");
}

#[test]
fn a_storage_failure_during_import_prints_the_summary_of_what_was_done_and_exits_5() {
    if !is_root() {
        eprintln!("skipped: not root, cannot mount a tmpfs");
        return;
    }
    let t = TestLedger::at("unused");
    let disk = t.path("disk");
    let _fs = Tmpfs::mount(&disk, "2m");
    let ledger = disk.join("ledger");
    let loc = ledger.to_str().unwrap();
    t.ok(&["--ledger", loc, "init"]);
    // Deviations with long text until the ledger's file system is full.
    let mut lines = order_line("p-1");
    lines.push('\n');
    let text = "Duschen uteblev. ".repeat(3000);
    for day in 0..400 {
        lines.push_str(&format!(
            r#"{{"actor":{{"user":"kim","role":"key_worker"}},"at":"2026-03-02T10:{:02}:{:02}Z","command":"record_deviation","plan":"p-1","occurred_on":"2026-03-02","description":"{text}"}}"#,
            day / 60,
            day % 60
        ));
        lines.push('\n');
    }
    let file = t.write("big.jsonl", &lines);
    let out = t.run(&["--ledger", loc, "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let recorded: u64 = stdout
        .strip_prefix("imported ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a summary: {stdout}"));
    assert!((1..401).contains(&recorded), "{stdout}");
    assert!(
        stderr(&out).contains("may or may not be"),
        "{}",
        stderr(&out)
    );
}
