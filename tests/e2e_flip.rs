//! A damaged embedded ledger file, one flipped byte at a time (a fresh copy per byte):
//! `verify` never panics, never hangs, always answers in JSON, and never says OK when a
//! record's bytes changed.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::util::TestLedger;

#[test]
fn verify_survives_every_flipped_byte_and_finds_every_changed_record() {
    let t = TestLedger::at("unused");
    let original = t.path("original");
    let out = t.run(&[
        "--ledger",
        original.to_str().unwrap(),
        "demo",
        "--clients",
        "3",
        "--months",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = original.join("ledger.redb");
    let data = std::fs::read(&file).unwrap();
    // Where the records' bytes lie in the file: a flip there must be found.
    let records = {
        let store = planledger_store_redb::RedbStore::open(&file).unwrap();
        planledger_store::Store::read_all_bytes(&store, 0, 10_000).unwrap()
    };
    let mut in_record = vec![false; data.len()];
    for bytes in &records {
        let at = data
            .windows(bytes.len())
            .position(|w| w == bytes.as_slice())
            .expect("a record's bytes are stored whole in a small ledger");
        in_record[at..at + bytes.len()].fill(true);
    }
    let offsets: Vec<usize> = (0..data.len())
        .filter(|&i| {
            if in_record[i] {
                i % 13 == 0
            } else {
                i % 131 == 0
            }
        })
        .collect();
    let copy = t.path("copy");
    std::fs::create_dir_all(&copy).unwrap();
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in &offsets {
        let mut damaged = data.clone();
        damaged[i] ^= 0x5a;
        std::fs::write(copy.join("ledger.redb"), &damaged).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_planledger"))
            .env_clear()
            .args(["--ledger", copy.to_str().unwrap(), "verify", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut waited = Duration::ZERO;
        while child.try_wait().unwrap().is_none() {
            assert!(waited < Duration::from_secs(60), "verify hangs on byte {i}");
            std::thread::sleep(Duration::from_millis(5));
            waited += Duration::from_millis(5);
        }
        let out = child.wait_with_output().unwrap();
        let code = out.status.code();
        assert!(
            matches!(code, Some(0..=5)),
            "byte {i}: exit {code:?} (a panic or a signal): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("byte {i}: no JSON report ({e})"));
        if code == Some(0) && in_record[i] {
            // redb writes pages copy-on-write, so a file may hold an old copy of a page
            // beside the live one: an OK is right only if every record is still there,
            // unchanged, somewhere in the file.
            for bytes in &records {
                assert!(
                    damaged.windows(bytes.len()).any(|w| w == bytes.as_slice()),
                    "byte {i} changed a record and no intact copy is left, yet verify says OK"
                );
            }
        }
        let what = match (code, in_record[i]) {
            (Some(0), false) => "harmless (outside the records, verify OK)",
            (Some(0), true) => "harmless (a stale copy of a record's page, verify OK)",
            (Some(1), true) => "record damage found by the chain",
            (Some(1), false) => "store damage found (head, index or tree)",
            (_, _) if report["ok"] == false => "the store refused to open or read",
            _ => "other",
        };
        *outcomes.entry(what).or_default() += 1;
    }
    eprintln!(
        "{} flipped bytes of a {}-byte ledger: {outcomes:?}",
        offsets.len(),
        data.len()
    );
}

/// Runs `planledger` with `args` (and `--claimed-at`), as `t` does, but with at most 2 GiB of
/// address space and 30 s: a damaged file must not take the machine with it. A run
/// that is killed or hangs has no exit code (`None`), which differs from any run of the
/// intact ledger.
fn bounded(args: &[&str]) -> (Option<i32>, Vec<u8>, Vec<u8>) {
    let mut child = Command::new("sh")
        .env_clear()
        .args(["-c", "ulimit -v 2097152; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_planledger"))
        .args(["--claimed-at", "2026-03-03T00:00:00Z"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut waited = Duration::ZERO;
    while child.try_wait().unwrap().is_none() {
        if waited > Duration::from_secs(30) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
        waited += Duration::from_millis(5);
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), out.stdout, out.stderr)
}

/// What a reader is shown of the ledger in `dir`: every client's history and bundle,
/// every plan's current version and history (exit code and output of each command).
fn shown(
    dir: &std::path::Path,
    clients: &[(String, String)],
    keys: (&str, &str, &str),
    out: &std::path::Path,
) -> Vec<(Option<i32>, Vec<u8>)> {
    let ledger = dir.to_str().unwrap();
    let (witness, pubkey, map_key) = keys;
    let mut shown = Vec::new();
    let run = |shown: &mut Vec<_>, args: &[&str]| {
        let mut all = vec!["--ledger", ledger];
        all.extend_from_slice(args);
        let (code, stdout, _) = bounded(&all);
        shown.push((code, stdout));
    };
    for (pnr, plan) in clients {
        let history = [
            "history",
            "--client",
            pnr,
            "--format",
            "json",
            "--show-personnummer",
        ];
        run(&mut shown, &history);
        run(
            &mut shown,
            &[
                "history",
                "--plan",
                plan,
                "--format",
                "json",
                "--show-personnummer",
            ],
        );
        run(
            &mut shown,
            &["show", plan, "--format", "json", "--show-personnummer"],
        );
        let _ = std::fs::remove_file(out);
        let file = out.to_str().unwrap();
        run(
            &mut shown,
            &[
                "export",
                "--client",
                pnr,
                "--out",
                file,
                "--witness",
                witness,
                "--pubkey",
                pubkey,
                "--map-key",
                map_key,
            ],
        );
        shown.push((None, std::fs::read(out).unwrap_or_default()));
    }
    shown
}

/// Issue 12: a flipped byte anywhere in the file (a fresh copy per flip; every page, at
/// a stride: `PLANLEDGER_FLIP_STRIDE`, 1 for every byte) either leaves what `history`,
/// `show` and `export` print unchanged, or `verify` (against the witness, with the map
/// key) finds it. Prints the counts.
#[test]
fn verify_finds_every_flip_that_changes_what_readers_are_shown() {
    let t = TestLedger::at("unused");
    let original = t.path("original");
    let out = t.run(&[
        "--ledger",
        original.to_str().unwrap(),
        "demo",
        "--clients",
        "3",
        "--months",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ledger = original.to_str().unwrap();
    let (secret, pubkey) = (t.path("k"), t.path("k.pub"));
    let public = t.ok(&[
        "keygen",
        "--name",
        "exempel.se/planledger",
        "--out",
        secret.to_str().unwrap(),
    ]);
    std::fs::write(&pubkey, public).unwrap();
    let map_key = t.path("map.key");
    t.ok(&["map-keygen", "--out", map_key.to_str().unwrap()]);
    let witness = t.path("witness");
    t.ok(&[
        "--ledger",
        ledger,
        "checkpoint",
        "--key",
        secret.to_str().unwrap(),
        "--witness",
        witness.to_str().unwrap(),
        "--map-key",
        map_key.to_str().unwrap(),
    ]);
    let csv = t.ok(&[
        "--ledger",
        ledger,
        "audit",
        "overview",
        "--format",
        "csv",
        "--show-personnummer",
    ]);
    let clients: Vec<(String, String)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let mut f = l.split(',');
            (
                f.next().unwrap().replace('-', ""),
                f.next().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(!clients.is_empty());
    let keys = (
        witness.to_str().unwrap(),
        pubkey.to_str().unwrap(),
        map_key.to_str().unwrap(),
    );
    let bundle = t.path("bundle.json");
    let before = shown(&original, &clients, keys, &bundle);
    assert!(
        before
            .iter()
            .all(|(code, _)| matches!(code, None | Some(0))),
        "the original reads"
    );

    let data = std::fs::read(original.join("ledger.redb")).unwrap();
    let stride: usize = std::env::var("PLANLEDGER_FLIP_STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(397);
    let copy = t.path("copy");
    std::fs::create_dir_all(&copy).unwrap();
    let verify = [
        "verify",
        "--json",
        "--witness",
        keys.0,
        "--pubkey",
        keys.1,
        "--map-key",
        keys.2,
    ];
    let (mut unchanged, mut found, mut missed) = (0, 0, Vec::new());
    for i in (0..data.len()).step_by(stride.max(1)) {
        let mut damaged = data.clone();
        damaged[i] ^= 0x5a;
        std::fs::write(copy.join("ledger.redb"), &damaged).unwrap();
        let mut args = vec!["--ledger", copy.to_str().unwrap()];
        args.extend_from_slice(&verify);
        let (code, _, _) = bounded(&args);
        if code != Some(0) {
            found += 1;
            continue;
        }
        // verify says intact: what readers are shown must be what it was.
        std::fs::write(copy.join("ledger.redb"), &damaged).unwrap();
        if shown(&copy, &clients, keys, &bundle) == before {
            unchanged += 1;
        } else {
            missed.push(i);
        }
    }
    eprintln!(
        "{} flipped bytes (every {stride}th) of a {}-byte ledger ({} pages): verify found {found}; \
         {unchanged} left every history, plan and bundle unchanged and verify said OK; \
         {} changed what is shown with verify OK",
        found + unchanged + missed.len(),
        data.len(),
        data.len().div_ceil(4096),
        missed.len()
    );
    assert!(
        missed.is_empty(),
        "verify said OK, yet readers were shown something else, after flipping the bytes at {missed:?}"
    );
}
