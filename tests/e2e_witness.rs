//! End to end: independent witnesses (FORMAT.md §13). Two witnesses, each with its own
//! key and state directory, cosign the operator's checkpoint; `verify` and bundles hold
//! under a "2 of 2" witness policy and fail with a cosignature removed or forged; a
//! witness refuses a fork and its state does not move.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use planledger_ledger::{CheckpointVerifier, WitnessPolicy, WitnessVerifier};
use serde_json::Value;

use crate::e2e::{order_home_care_at, walk_home_care, walk_home_care_from_draft};
use crate::e2e_integrity::keys;
use crate::util::TestLedger;

/// A witness: its name, secret key, verifier key file and state directory, all in
/// `t`'s temporary directory.
struct Witness {
    name: &'static str,
    /// The stem of its files.
    file: &'static str,
    key: String,
    public: String,
    state: String,
}

fn witness(t: &TestLedger, name: &'static str, file: &'static str) -> Witness {
    let key = t.path(&format!("{file}.key"));
    let public = t.ok(&[
        "witness",
        "keygen",
        "--name",
        name,
        "--out",
        key.to_str().unwrap(),
    ]);
    let public = t.write(&format!("{file}.pub"), &public);
    Witness {
        name,
        file,
        key: key.to_str().unwrap().to_owned(),
        public: public.to_str().unwrap().to_owned(),
        state: t
            .path(&format!("{file}-state"))
            .to_str()
            .unwrap()
            .to_owned(),
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `witness request --old N` against the latest checkpoint in `dir`, written to `file`.
fn request(t: &TestLedger, dir: &Path, pubkey: &str, old: u64, file: &str) -> PathBuf {
    let text = t.ok(&[
        "witness",
        "request",
        "--witness",
        s(dir),
        "--pubkey",
        pubkey,
        "--old",
        &old.to_string(),
    ]);
    t.write(file, &text)
}

/// The arguments of `witness cosign` for `w` on `request`.
fn cosign_args<'a>(w: &'a Witness, log_pub: &'a str, request: &'a Path) -> Vec<&'a str> {
    vec![
        "witness",
        "cosign",
        "--key",
        &w.key,
        "--state",
        &w.state,
        "--log-key",
        log_pub,
        s(request),
    ]
}

/// The bytes of `w`'s state (its one state file), for checking it did not move.
fn state_of(w: &Witness) -> Vec<u8> {
    let files: Vec<_> = std::fs::read_dir(&w.state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cosigned"))
        .collect();
    assert_eq!(files.len(), 1, "one log, one state file: {files:?}");
    std::fs::read(&files[0]).unwrap()
}

/// The one checkpoint file in `dir`.
fn only_checkpoint(dir: &Path) -> PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "checkpoint"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// A ledger walked through seed 001, checkpointed, and cosigned by two witnesses whose
/// answers are attached: (ledger, log pubkey, witness dir, witnesses).
fn cosigned_ledger() -> (TestLedger, String, PathBuf, [Witness; 2]) {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    walk_home_care(&t);
    let dir = t.path("witness");
    t.ok(&["checkpoint", "--key", &secret, "--witness", s(&dir)]);
    let arkiv = witness(&t, "arkiv.example/witness", "arkiv");
    let ivo = witness(&t, "ivo.example/witness", "ivo");
    let req = request(&t, &dir, &pubkey, 0, "request.txt");
    assert!(
        std::fs::read_to_string(&req)
            .unwrap()
            .starts_with("old 0\n\n")
    );
    let mut answers = Vec::new();
    for w in [&arkiv, &ivo] {
        let line = t.ok_at("2026-03-03T10:00:00Z", &cosign_args(w, &pubkey, &req));
        assert!(line.starts_with(&format!("\u{2014} {} ", w.name)), "{line}");
        answers.push(t.write(&format!("{}.cosig", w.file), &line));
    }
    // The two answers in one file, as a witness answering for several keys would give.
    let both = format!(
        "{}{}",
        std::fs::read_to_string(&answers[0]).unwrap(),
        std::fs::read_to_string(&answers[1]).unwrap()
    );
    let both = t.write("answers.cosig", &both);
    let out = t.ok(&[
        "witness",
        "attach",
        "--witness",
        s(&dir),
        "--pubkey",
        &pubkey,
        "--witness-key",
        &arkiv.public,
        "--witness-key",
        &ivo.public,
        s(&both),
    ]);
    assert_eq!(
        out.matches("attached the cosignature by").count(),
        2,
        "{out}"
    );
    (t, pubkey, dir, [arkiv, ivo])
}

fn verify_args<'a>(dir: &'a Path, pubkey: &'a str, ws: &'a [Witness; 2]) -> Vec<&'a str> {
    vec![
        "verify",
        "--witness",
        s(dir),
        "--pubkey",
        pubkey,
        "--witness-key",
        &ws[0].public,
        "--witness-key",
        &ws[1].public,
    ]
}

#[test]
fn a_checkpoint_cosigned_by_two_witnesses_meets_two_of_two_and_fails_with_one_removed_or_forged() {
    let (t, pubkey, dir, ws) = cosigned_ledger();
    let args = verify_args(&dir, &pubkey, &ws);
    let out = t.ok(&args);
    assert!(
        out.contains("cosigned by 2 of the 2 witnesses given (arkiv.example/witness, ivo.example/witness; at least 2 needed)"),
        "{out}"
    );
    let report: Value = serde_json::from_str(&t.ok(&[&args[..], &["--json"]].concat())).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["witnesses"]["found"], 2);
    assert_eq!(report["witnesses"]["threshold"], 2);
    assert_eq!(report["witnesses"]["checkpoint_size"], 12);

    let file = only_checkpoint(&dir);
    let cosigned = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        cosigned
            .lines()
            .filter(|l| l.starts_with('\u{2014}'))
            .count(),
        3
    );
    // The log's own checks still read it.
    t.ok(&["verify", "--witness", s(&dir), "--pubkey", &pubkey]);

    // One cosignature removed: 1 of 2.
    let ivo_line = cosigned
        .lines()
        .find(|l| l.contains("ivo.example/witness"))
        .unwrap()
        .to_owned();
    std::fs::write(&file, cosigned.replace(&format!("{ivo_line}\n"), "")).unwrap();
    let stderr = t.fails_at("2026-03-02T09:00:00Z", &args, 1);
    assert!(
        stderr.contains("valid cosignatures by 1 of the 2 witness keys of the policy; the policy needs at least 2"),
        "{stderr}"
    );
    let out = t.run(&[&args[..], &["--json"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["witnesses"]["found"], 1);
    assert_eq!(report["error"]["exit_code"], 1);
    // "1 of 2" accepts it.
    t.ok(&[&args[..], &["--witness-threshold", "1"]].concat());

    // Forged: one byte changed in the signature, then in the timestamp.
    for byte in [40, 8] {
        let b64 = ivo_line.rsplit_once(' ').unwrap().1;
        let mut raw = B64.decode(b64).unwrap();
        raw[byte] ^= 1;
        let forged = ivo_line.replacen(b64, &B64.encode(&raw), 1);
        std::fs::write(&file, cosigned.replace(&ivo_line, &forged)).unwrap();
        let stderr = t.fails_at("2026-03-02T09:00:00Z", &args, 1);
        assert!(
            stderr.contains(
                "the cosignature by witness key ivo.example/witness does not verify: the checkpoint or the cosignature was altered"
            ),
            "{stderr}"
        );
        // Even a "1 of 2" policy refuses a forged cosignature by one of its keys.
        t.fails_at(
            "2026-03-02T09:00:00Z",
            &[&args[..], &["--witness-threshold", "1"]].concat(),
            1,
        );
    }
    std::fs::write(&file, &cosigned).unwrap();
    t.ok(&args);

    // A policy that cannot be met, or counts one witness twice, is a usage error.
    let twice = [
        "verify",
        "--witness",
        s(&dir),
        "--pubkey",
        &pubkey,
        "--witness-key",
        &ws[0].public,
        "--witness-key",
        &ws[0].public,
    ];
    let stderr = t.fails_at("2026-03-02T09:00:00Z", &twice, 2);
    assert!(stderr.contains("given twice"), "{stderr}");
    let stderr = t.fails_at(
        "2026-03-02T09:00:00Z",
        &[&args[..], &["--witness-threshold", "3"]].concat(),
        2,
    );
    assert!(
        stderr.contains("between 1 and the number of witness keys (2)"),
        "{stderr}"
    );
    // A log key is not a witness key.
    let stderr = t.fails_at(
        "2026-03-02T09:00:00Z",
        &[
            "verify",
            "--witness",
            s(&dir),
            "--pubkey",
            &pubkey,
            "--witness-key",
            &pubkey,
        ],
        2,
    );
    assert!(stderr.contains("a log's checkpoint key"), "{stderr}");
    // --witness-key needs the checkpoints it is about.
    t.fails_at(
        "2026-03-02T09:00:00Z",
        &["verify", "--witness-key", &ws[0].public],
        2,
    );
}

#[test]
fn a_newer_checkpoint_without_cosignatures_fails_the_policy_until_the_witnesses_cosign_it() {
    let (t, pubkey, dir, ws) = cosigned_ledger();
    let secret = t.path("ledger.key");
    t.ok_at(
        "2026-03-04T09:00:00Z",
        &[
            "deviation",
            "--as",
            "anna",
            "--role",
            "staff",
            "--plan",
            "plan-0001",
            "--occurred-on",
            "2026-03-04",
            "--description",
            "Duschen uteblev",
        ],
    );
    t.ok_at(
        "2026-03-05T09:00:00Z",
        &["checkpoint", "--key", s(&secret), "--witness", s(&dir)],
    );
    let args = verify_args(&dir, &pubkey, &ws);
    let stderr = t.fails_at("2026-03-05T09:00:00Z", &args, 1);
    assert!(
        stderr.contains("the latest checkpoint (13 records)") && stderr.contains("by 0 of the 2"),
        "{stderr}"
    );
    // Asked from 0, a witness that cosigned 12 records refuses with exit 3 and names 12.
    let wrong = request(&t, &dir, &pubkey, 0, "wrong.txt");
    let before = state_of(&ws[0]);
    let stderr = t.fails_at(
        "2026-03-05T10:00:00Z",
        &cosign_args(&ws[0], &pubkey, &wrong),
        3,
    );
    assert!(
        stderr.contains("this witness last cosigned the checkpoint of 12 records")
            && stderr.contains("--old 12"),
        "{stderr}"
    );
    assert_eq!(state_of(&ws[0]), before);
    // From 12, both cosign; their answers attach to the newer checkpoint.
    let req = request(&t, &dir, &pubkey, 12, "request13.txt");
    let mut answers = Vec::new();
    for w in &ws {
        let line = t.ok_at("2026-03-05T10:00:00Z", &cosign_args(w, &pubkey, &req));
        answers.push(t.write(&format!("{}-13.cosig", w.file), &line));
        assert_ne!(state_of(w), before);
    }
    // One answer at a time, each witness's key given.
    for (w, answer) in ws.iter().zip(&answers) {
        let attach = [
            "witness",
            "attach",
            "--witness",
            s(&dir),
            "--pubkey",
            &pubkey,
            "--witness-key",
            &w.public,
            s(answer),
        ];
        let out = t.ok(&attach);
        assert!(
            out.contains(&format!(
                "attached the cosignature by {} to the checkpoint of 13 records",
                w.name
            )),
            "{out}"
        );
        // Attaching again changes nothing.
        let before = std::fs::read_dir(&dir).unwrap().count();
        let out = t.ok(&attach);
        assert!(out.starts_with("kept (already there)"), "{out}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), before);
    }
    let out = t.ok(&args);
    assert!(
        out.contains("the latest, of 13 records, cosigned by 2 of the 2"),
        "{out}"
    );
    // A cosignature attached to the wrong witness key, or a line for no checkpoint here.
    let other = TestLedger::new();
    let stranger = witness(&other, "stranger.example/witness", "stranger");
    let stderr = t.fails_at(
        "2026-03-05T10:00:00Z",
        &[
            "witness",
            "attach",
            "--witness",
            s(&dir),
            "--pubkey",
            &pubkey,
            "--witness-key",
            &stranger.public,
            s(&answers[0]),
        ],
        1,
    );
    assert!(
        stderr.contains("holds no cosignature by the witness keys given"),
        "{stderr}"
    );
}

#[test]
fn a_witness_refuses_a_fork_of_the_same_or_a_larger_size_and_its_state_does_not_move() {
    // Ledger A: the order on 2 March; checkpointed and cosigned.
    let a = TestLedger::new();
    let (secret, pubkey) = keys(&a);
    order_home_care_at(&a, "2026-03-02T09:00:00Z");
    let dir_a = a.path("witness");
    a.ok(&["checkpoint", "--key", &secret, "--witness", s(&dir_a)]);
    let w = witness(&a, "arkiv.example/witness", "arkiv");
    let req = request(&a, &dir_a, &pubkey, 0, "a1.txt");
    a.ok(&cosign_args(&w, &pubkey, &req));
    let cosigned = state_of(&w);

    // Ledger B, signed with the same key: the same order recorded a day later, so the
    // same size (1) with another root.
    let b = TestLedger::new();
    order_home_care_at(&b, "2026-03-03T09:00:00Z");
    let dir_b = b.path("witness");
    b.ok_at(
        "2026-03-03T10:00:00Z",
        &["checkpoint", "--key", &secret, "--witness", s(&dir_b)],
    );
    let fork = request(&b, &dir_b, &pubkey, 1, "b1.txt");
    let stderr = a.fails_at("2026-03-04T09:00:00Z", &cosign_args(&w, &pubkey, &fork), 1);
    assert!(
        stderr.contains("refusing a fork of the log: the checkpoint has the size this witness cosigned (1 records) with another root"),
        "{stderr}"
    );
    assert_eq!(state_of(&w), cosigned, "the state did not move");

    // B grows to 12 records: larger, and still not an extension of A.
    walk_home_care_from_draft(&b);
    b.ok_at(
        "2026-05-01T00:00:00Z",
        &["checkpoint", "--key", &secret, "--witness", s(&dir_b)],
    );
    let fork = request(&b, &dir_b, &pubkey, 1, "b12.txt");
    let stderr = a.fails_at("2026-05-02T09:00:00Z", &cosign_args(&w, &pubkey, &fork), 1);
    assert!(
        stderr.contains("refusing a fork of the log: the consistency proof from the cosigned checkpoint of 1 records to this one of 12 does not verify"),
        "{stderr}"
    );
    assert_eq!(state_of(&w), cosigned, "the state did not move");
    // Nor does B's request from 0 move it: the witness names what it holds.
    let from0 = request(&b, &dir_b, &pubkey, 0, "b0.txt");
    a.fails_at("2026-05-02T09:00:00Z", &cosign_args(&w, &pubkey, &from0), 3);
    assert_eq!(state_of(&w), cosigned);
    // A request whose checkpoint another key signed is not the log's (C2SP: 403).
    let other = TestLedger::new();
    let (_, other_pub) = keys(&other);
    let stderr = a.fails_at(
        "2026-05-02T09:00:00Z",
        &cosign_args(&w, &other_pub, &req),
        1,
    );
    assert!(
        stderr.contains("the request's checkpoint does not verify with the log's key"),
        "{stderr}"
    );
    // A malformed request is bad input, named by line.
    let bad = a.write("bad.txt", "old 01\n\n");
    let stderr = a.fails_at("2026-05-02T09:00:00Z", &cosign_args(&w, &pubkey, &bad), 2);
    assert!(stderr.contains("line 1 of the witness request"), "{stderr}");

    // A itself grows: the witness cosigns the extension, and its state moves forward.
    walk_home_care_from_draft(&a);
    a.ok_at(
        "2026-05-01T00:00:00Z",
        &["checkpoint", "--key", &secret, "--witness", s(&dir_a)],
    );
    let next = request(&a, &dir_a, &pubkey, 1, "a12.txt");
    let out = a.run_at("2026-05-02T09:00:00Z", &cosign_args(&w, &pubkey, &next));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("cosigned the checkpoint of 12 records (this witness had cosigned 1 before)")
    );
    let moved = state_of(&w);
    assert_ne!(moved, cosigned);
    assert!(String::from_utf8_lossy(&moved).contains("\n12\n"));
    // Never backwards: the old request of 1 record, replayed, is refused.
    a.fails_at("2026-05-02T09:00:00Z", &cosign_args(&w, &pubkey, &req), 3);
    // Nor the same again with another old size claimed above the checkpoint (C2SP: 400).
    let replay = a.write(
        "replay.txt",
        &std::fs::read_to_string(&req)
            .unwrap()
            .replacen("old 0", "old 12", 1),
    );
    a.fails_at(
        "2026-05-02T09:00:00Z",
        &cosign_args(&w, &pubkey, &replay),
        2,
    );
    assert_eq!(state_of(&w), moved);
    // The same checkpoint again is cosigned again (the witness answer may be lost).
    let again = request(&a, &dir_a, &pubkey, 12, "a12-again.txt");
    a.ok_at("2026-05-03T09:00:00Z", &cosign_args(&w, &pubkey, &again));
    assert_eq!(state_of(&w), moved);
    // A state edited behind the witness's back (another root, or its own cosignature
    // gone) is refused: the witness cosigns nothing until it is restored.
    let state_file = std::fs::read_dir(&w.state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cosigned"))
        .unwrap();
    let text = String::from_utf8(moved.clone()).unwrap();
    let own = text.lines().last().unwrap().to_owned();
    for edited in [
        text.replacen("\n12\n", "\n13\n", 1),
        text.replace(&format!("{own}\n"), ""),
    ] {
        std::fs::write(&state_file, &edited).unwrap();
        let stderr = a.fails_at("2026-05-03T09:00:00Z", &cosign_args(&w, &pubkey, &again), 1);
        assert!(stderr.contains("the witness state"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&state_file).unwrap(), edited);
    }
    std::fs::write(&state_file, &moved).unwrap();
    a.ok_at("2026-05-03T09:00:00Z", &cosign_args(&w, &pubkey, &again));
    // The state directory is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&w.state).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let mode = std::fs::metadata(&w.key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_bundle_carries_the_cosignatures_and_verifies_under_the_witness_policy() {
    let (t, pubkey, dir, ws) = cosigned_ledger();
    let bundle = t.path("bundle.json");
    t.ok(&[
        "export",
        "--client",
        "196408233234",
        "--out",
        s(&bundle),
        "--witness",
        s(&dir),
        "--pubkey",
        &pubkey,
    ]);
    let text = std::fs::read_to_string(&bundle).unwrap();
    let log = CheckpointVerifier::from_text(&std::fs::read_to_string(&pubkey).unwrap()).unwrap();
    let keys: Vec<WitnessVerifier> = ws
        .iter()
        .map(|w| WitnessVerifier::from_text(&std::fs::read_to_string(&w.public).unwrap()).unwrap())
        .collect();
    let two_of_two = WitnessPolicy::new(keys.clone(), 2).unwrap();
    let proven =
        verify_bundle::verify_witnessed(&text, &log, None, None, Some(&two_of_two)).unwrap();
    assert_eq!(proven.cosigned_by.len(), 2);
    assert_eq!(proven.records.len(), 12);

    // The checkpoint in the bundle with one cosignature removed.
    let mut b: Value = serde_json::from_str(&text).unwrap();
    let note = b["checkpoint"].as_str().unwrap().to_owned();
    let ivo = note
        .lines()
        .find(|l| l.contains("ivo.example/witness"))
        .unwrap()
        .to_owned();
    b["checkpoint"] = note.replace(&format!("{ivo}\n"), "").into();
    let err = verify_bundle::verify_witnessed(&b.to_string(), &log, None, None, Some(&two_of_two))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("does not meet the witness policy: the checkpoint carries valid cosignatures by 1 of the 2"),
        "{err}"
    );
    // Without a policy it still verifies: the log's signature is intact.
    verify_bundle::verify(&b.to_string(), &log).unwrap();
    // Forged.
    let b64 = ivo.rsplit_once(' ').unwrap().1;
    let mut raw = B64.decode(b64).unwrap();
    raw[50] ^= 1;
    b["checkpoint"] = note.replace(b64, &B64.encode(&raw)).into();
    let err = verify_bundle::verify_witnessed(&b.to_string(), &log, None, None, Some(&two_of_two))
        .unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}
