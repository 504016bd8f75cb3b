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
