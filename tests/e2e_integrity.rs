//! End to end: keys, checkpoints in a witness directory, verification against them,
//! evidence bundles and their offline verification.

use std::os::unix::fs::PermissionsExt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use planledger_ledger::CheckpointVerifier;
use serde_json::Value;

use crate::e2e::{order_home_care, walk_home_care};
use crate::util::TestLedger;

/// Makes a key pair in `t`'s directory; returns (secret key path, verifier key path).
pub fn keys(t: &TestLedger) -> (String, String) {
    let secret = t.path("ledger.key");
    let public = t.ok(&[
        "keygen",
        "--name",
        "exempel.se/planledger",
        "--out",
        secret.to_str().unwrap(),
    ]);
    let pubkey = t.write("ledger.pub", &public);
    (
        secret.to_str().unwrap().to_owned(),
        pubkey.to_str().unwrap().to_owned(),
    )
}

#[test]
fn keygen_writes_a_private_key_file_and_prints_the_verifier_key() {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the secret key is readable by its owner only"
    );
    assert!(
        std::fs::read_to_string(&secret)
            .unwrap()
            .starts_with("PRIVATE+KEY+exempel.se/planledger+")
    );
    let verifier =
        CheckpointVerifier::from_text(&std::fs::read_to_string(&pubkey).unwrap()).unwrap();
    assert_eq!(verifier.name(), "exempel.se/planledger");
    // Never overwritten.
    let before = std::fs::read(&secret).unwrap();
    t.fails_at(
        "2026-03-02T09:00:00Z",
        &["keygen", "--name", "other", "--out", &secret],
        2,
    );
    assert_eq!(std::fs::read(&secret).unwrap(), before);
}

#[test]
fn verify_checks_the_ledger_against_every_witness_checkpoint_and_since_the_latest() {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    let witness = t.path("witness");
    let witness = witness.to_str().unwrap();
    order_home_care(&t);
    t.ok(&["checkpoint", "--key", &secret, "--witness", witness]);
    crate::e2e::walk_home_care_from_draft(&t);
    let out = t.ok_at(
        "2026-05-01T00:00:00Z",
        &["checkpoint", "--key", &secret, "--witness", witness],
    );
    assert!(out.starts_with("checkpoint of 12 records"), "{out}");
    assert_eq!(std::fs::read_dir(witness).unwrap().count(), 2);

    let out = t.ok(&["verify", "--witness", witness, "--pubkey", &pubkey]);
    assert!(out.contains("2 checkpoints matched"), "{out}");
    let report: Value = serde_json::from_str(&t.ok(&[
        "verify",
        "--json",
        "--since-checkpoint",
        "--witness",
        witness,
        "--pubkey",
        &pubkey,
    ]))
    .unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["from"], 12);
    assert_eq!(report["records"], 0);
}

#[test]
fn a_rewritten_or_truncated_ledger_no_longer_matches_an_earlier_checkpoint() {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    let witness = t.path("witness");
    let witness = witness.to_str().unwrap();
    walk_home_care(&t);
    t.ok(&["checkpoint", "--key", &secret, "--witness", witness]);

    // Truncated: the same history less its last records, rebuilt from scratch.
    std::fs::remove_dir_all(t.ledger()).unwrap();
    t.ok(&["init"]);
    order_home_care(&t);
    let stderr = t.fails_at(
        "2026-05-01T00:00:00Z",
        &["verify", "--witness", witness, "--pubkey", &pubkey],
        1,
    );
    assert!(stderr.contains("covers 12 records"), "{stderr}");
    let stderr = t.fails_at(
        "2026-05-01T00:00:00Z",
        &[
            "verify",
            "--since-checkpoint",
            "--witness",
            witness,
            "--pubkey",
            &pubkey,
        ],
        1,
    );
    assert!(
        stderr.contains("FAILED at position 1: the records end here"),
        "{stderr}"
    );

    // Rewritten: the same commands replayed at the same claimed times into a new
    // ledger. It says what the old one said, but the store sealed it at other times:
    // another history, which the checkpoint exposes.
    std::fs::remove_dir_all(t.ledger()).unwrap();
    t.ok(&["init"]);
    walk_home_care(&t);
    let stderr = t.fails_at(
        "2026-05-01T00:00:00Z",
        &["verify", "--witness", witness, "--pubkey", &pubkey],
        1,
    );
    assert!(
        stderr.contains("verification FAILED at position 11"),
        "{stderr}"
    );
    assert!(stderr.contains("checkpoint"), "{stderr}");
}

#[test]
fn an_altered_witness_checkpoint_fails_verification() {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    let witness = t.path("witness");
    order_home_care(&t);
    t.ok(&[
        "checkpoint",
        "--key",
        &secret,
        "--witness",
        witness.to_str().unwrap(),
    ]);
    let file = std::fs::read_dir(&witness)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let note = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, note.replacen("\n1\n", "\n2\n", 1)).unwrap();
    let stderr = t.fails_at(
        "2026-03-02T09:00:00Z",
        &[
            "verify",
            "--witness",
            witness.to_str().unwrap(),
            "--pubkey",
            &pubkey,
        ],
        1,
    );
    assert!(stderr.contains("does not verify"), "{stderr}");
}

/// A second client's plan, so that a bundle must pick one client's records.
fn order_other_client(t: &TestLedger) {
    t.ok(&[
        "order",
        "--as",
        "h7",
        "--role",
        "case_officer",
        "--plan",
        "plan-0002",
        "--order",
        "best-89",
        "--unit",
        "hemtjanst-norr",
        "--act",
        "home_care",
        "--client",
        "197010632391",
        "--received-on",
        "2026-03-02",
    ]);
}

#[test]
fn an_exported_bundle_verifies_offline_and_proves_the_clients_history_only() {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    order_other_client(&t);
    walk_home_care(&t);
    let bundle = t.path("bundle.json");
    let out = t.ok_at(
        "2026-05-01T00:00:00Z",
        &[
            "export",
            "--client",
            "196408233234",
            "--out",
            bundle.to_str().unwrap(),
            "--key",
            &secret,
            "--witness",
            t.path("witness").to_str().unwrap(),
        ],
    );
    assert!(out.starts_with("wrote 12 records of 1 plans"), "{out}");
    let text = std::fs::read_to_string(&bundle).unwrap();
    let key = CheckpointVerifier::from_text(&std::fs::read_to_string(&pubkey).unwrap()).unwrap();
    let proven = verify_bundle::verify(&text, &key).expect("the bundle verifies");
    assert_eq!(proven.checkpoint.size, 13);
    assert!(
        proven
            .records
            .iter()
            .all(|r| r.record.stream_id() == "plan-0001")
    );
    let history = verify_bundle::render_history(&proven, false);
    assert!(history.contains("version 2 approved"), "{history}");
    assert!(history.contains("19640823-****") && !history.contains("19640823-3234"));
    assert!(verify_bundle::render_history(&proven, true).contains("19640823-3234"));

    // From the latest witness checkpoint instead of a fresh signature.
    let witness = t.path("witness");
    t.ok(&[
        "checkpoint",
        "--key",
        &secret,
        "--witness",
        witness.to_str().unwrap(),
    ]);
    let second = t.path("bundle2.json");
    t.ok(&[
        "export",
        "--client",
        "196408233234",
        "--out",
        second.to_str().unwrap(),
        "--witness",
        witness.to_str().unwrap(),
        "--pubkey",
        &pubkey,
    ]);
    verify_bundle::verify(&std::fs::read_to_string(&second).unwrap(), &key).unwrap();
    // An unknown client is not found.
    t.fails_at(
        "2026-05-01T00:00:00Z",
        &[
            "export",
            "--client",
            "19121212-1212",
            "--out",
            t.path("x.json").to_str().unwrap(),
            "--key",
            &secret,
            "--witness",
            t.path("witness").to_str().unwrap(),
        ],
        4,
    );
}

#[test]
fn a_tampered_bundle_fails_offline_verification() {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    walk_home_care(&t);
    let bundle = t.path("bundle.json");
    t.ok(&[
        "export",
        "--client",
        "196408233234",
        "--out",
        bundle.to_str().unwrap(),
        "--key",
        &secret,
        "--witness",
        t.path("witness").to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&bundle).unwrap();
    let key = CheckpointVerifier::from_text(&std::fs::read_to_string(&pubkey).unwrap()).unwrap();
    let original: Value = serde_json::from_str(&text).unwrap();
    let check = |edit: &dyn Fn(&mut Value), says: &str| {
        let mut b = original.clone();
        edit(&mut b);
        let err = verify_bundle::verify(&b.to_string(), &key).expect_err("tampering is found");
        assert!(err.to_string().contains(says), "expected {says:?} in {err}");
    };
    // A byte of a record (the drafted version's content).
    check(
        &|b| {
            let r = &mut b["records"][1]["record"];
            let mut bytes = B64.decode(r.as_str().unwrap()).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            *r = B64.encode(bytes).into();
        },
        "record at position 1 is not in the signed ledger",
    );
    // A proof hash.
    check(
        &|b| {
            let h = &mut b["records"][0]["proof"][0];
            let s = h.as_str().unwrap().to_owned();
            *h = format!("{}{}", if s.starts_with('0') { '1' } else { '0' }, &s[1..]).into();
        },
        "position 0 is not in the signed ledger",
    );
    // A record left out (the supplement request).
    check(
        &|b| {
            b["records"].as_array_mut().unwrap().remove(4);
        },
        "stream version 5 is missing",
    );
    // The checkpoint's size.
    check(
        &|b| {
            let cp = b["checkpoint"]
                .as_str()
                .unwrap()
                .replacen("\n12\n", "\n13\n", 1);
            b["checkpoint"] = cp.into();
        },
        "does not verify",
    );
    // Another key.
    let other = TestLedger::new();
    let (_, other_pub) = keys(&other);
    let other_key =
        CheckpointVerifier::from_text(&std::fs::read_to_string(other_pub).unwrap()).unwrap();
    assert!(verify_bundle::verify(&text, &other_key).is_err());
}

#[test]
fn a_copied_ledger_has_the_same_head_and_matches_the_originals_checkpoints() {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    let witness = t.path("witness");
    let witness = witness.to_str().unwrap();
    walk_home_care(&t);
    t.ok(&["checkpoint", "--key", &secret, "--witness", witness]);
    let copy = t.path("copy");
    let out = t.ok(&[
        "copy",
        "--from",
        t.ledger().to_str().unwrap(),
        "--to",
        copy.to_str().unwrap(),
    ]);
    assert!(out.starts_with("copied 12 records"), "{out}");
    let original = t.head();
    let copied: Value =
        serde_json::from_str(&t.ok(&["--ledger", copy.to_str().unwrap(), "head", "--json"]))
            .unwrap_or_else(|_| panic!("head of the copy"));
    assert_eq!(copied, original);
    // Copying into a ledger that holds records is refused.
    t.fails_at(
        "2026-03-02T09:00:00Z",
        &[
            "copy",
            "--from",
            t.ledger().to_str().unwrap(),
            "--to",
            copy.to_str().unwrap(),
        ],
        2,
    );
    // The original's checkpoint holds for the copy: same records, same tree.
    let out = t.ok(&[
        "--ledger",
        copy.to_str().unwrap(),
        "verify",
        "--witness",
        witness,
        "--pubkey",
        &pubkey,
    ]);
    assert!(out.contains("1 checkpoints matched"), "{out}");
}

#[test]
fn since_checkpoint_finds_a_record_altered_after_the_checkpoint() {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    let witness = t.path("witness");
    let witness = witness.to_str().unwrap();
    order_home_care(&t);
    t.ok(&["checkpoint", "--key", &secret, "--witness", witness]);
    crate::e2e::walk_home_care_from_draft(&t);
    crate::e2e::tamper(&t, 5, |b| {
        let last = b.len() - 1;
        b[last] ^= 0x02;
    });
    let stderr = t.fails_at(
        "2026-05-01T00:00:00Z",
        &[
            "verify",
            "--since-checkpoint",
            "--witness",
            witness,
            "--pubkey",
            &pubkey,
        ],
        1,
    );
    assert!(stderr.contains("FAILED at position 5"), "{stderr}");
}

#[test]
fn a_map_checkpoint_makes_the_exported_bundle_prove_the_clients_complete_history() {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    let map_key = t.path("map.key");
    let map_key = map_key.to_str().unwrap();
    t.ok(&["map-keygen", "--out", map_key]);
    let mode = std::fs::metadata(map_key).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the map key is readable by its owner only"
    );
    order_other_client(&t);
    walk_home_care(&t);
    let witness = t.path("witness");
    let witness = witness.to_str().unwrap();
    let out = t.ok_at(
        "2026-05-01T00:00:00Z",
        &[
            "checkpoint",
            "--key",
            &secret,
            "--witness",
            witness,
            "--map-key",
            map_key,
        ],
    );
    assert!(out.contains(", map root "), "{out}");
    let note = std::fs::read_dir(witness)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .next()
        .unwrap();
    assert!(note.lines().nth(4).unwrap().starts_with("map "), "{note}");
    // Export needs the map key against a map checkpoint.
    let stderr = t.fails_at(
        "2026-05-01T00:00:00Z",
        &[
            "export",
            "--client",
            "196408233234",
            "--out",
            t.path("no.json").to_str().unwrap(),
            "--witness",
            witness,
            "--pubkey",
            &pubkey,
        ],
        2,
    );
    assert!(stderr.contains("--map-key"), "{stderr}");
    let bundle = t.path("bundle.json");
    let out = t.ok_at(
        "2026-05-01T00:00:00Z",
        &[
            "export",
            "--client",
            "196408233234",
            "--out",
            bundle.to_str().unwrap(),
            "--witness",
            witness,
            "--pubkey",
            &pubkey,
            "--map-key",
            map_key,
        ],
    );
    assert!(out.contains("all of the client's records"), "{out}");
    let text = std::fs::read_to_string(&bundle).unwrap();
    let key = CheckpointVerifier::from_text(&std::fs::read_to_string(&pubkey).unwrap()).unwrap();
    let proven = verify_bundle::verify(&text, &key).expect("the bundle verifies");
    let complete = proven.complete.as_ref().expect("it proves completeness");
    assert_eq!(complete.plans, 1);
    let history = verify_bundle::render_history(&proven, false);
    assert!(
        history.contains("complete history of 1 plan as of checkpoint 13 (client 19640823-****)"),
        "{history}"
    );
    // The last record dropped: the bundle says which plan lacks what.
    let mut b: Value = serde_json::from_str(&text).unwrap();
    b["records"].as_array_mut().unwrap().pop();
    let err = verify_bundle::verify(&b.to_string(), &key).unwrap_err();
    assert!(
        err.to_string()
            .contains("plan plan-0001: the bundle holds versions 1 to 11 of its 12 records"),
        "{err}"
    );
    // verify rebuilds the signed map from the records; with another map key it differs.
    let out = t.ok(&[
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
    let other = t.path("other.key");
    t.ok(&["map-keygen", "--out", other.to_str().unwrap()]);
    let stderr = t.fails_at(
        "2026-05-01T00:00:00Z",
        &[
            "verify",
            "--witness",
            witness,
            "--pubkey",
            &pubkey,
            "--map-key",
            other.to_str().unwrap(),
        ],
        1,
    );
    assert!(
        stderr.contains("the map of the checkpoint of 13 records"),
        "{stderr}"
    );
    // The client's number in any of its forms (a bare "3234" also occurs in the
    // microsecond clock readings a message may hold).
    for form in ["196408233234", "19640823-3234", "6408233234", "640823-3234"] {
        assert!(!stderr.contains(form), "{stderr}");
    }

    // The next checkpoint reads only the record after the last one: the map's leaves
    // were kept, and their map has the root the last checkpoint signs.
    crate::e2e_app::deviation(&t, "2026-05-02T09:00:00Z", "2026-05-02", "Besöket uteblev");
    let out = t.ok_at(
        "2026-05-03T00:00:00Z",
        &[
            "checkpoint",
            "--key",
            &secret,
            "--witness",
            witness,
            "--map-key",
            map_key,
        ],
    );
    assert!(out.contains("(read 1 of 14 records:"), "{out}");
    let bundle = t.path("bundle2.json");
    t.ok_at(
        "2026-05-03T00:00:00Z",
        &[
            "export",
            "--client",
            "196408233234",
            "--out",
            bundle.to_str().unwrap(),
            "--witness",
            witness,
            "--pubkey",
            &pubkey,
            "--map-key",
            map_key,
        ],
    );
    let proven = verify_bundle::verify(&std::fs::read_to_string(&bundle).unwrap(), &key)
        .expect("the bundle verifies");
    assert_eq!(proven.complete.expect("complete").plans, 1);
    // And verify, which rebuilds every signed map from every record, agrees.
    let out = t.ok(&[
        "verify",
        "--witness",
        witness,
        "--pubkey",
        &pubkey,
        "--map-key",
        map_key,
    ]);
    assert!(
        out.contains("the maps of 2 checkpoints rebuilt from the records"),
        "{out}"
    );
}
