//! The `verify-bundle` binary on bundles built here from the ledger and domain crates:
//! what it prints, and its exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{TimeZone, Utc};
use planledger_ledger::{
    Checkpoint, CheckpointSigner, Entry, Envelope, Hash, Map, MemoryTree, client_key, client_salt,
    client_value, inclusion_proof, seal, stream_key, stream_value,
};
use planledger_plan::{Actor, PlanState, Role, SCHEMA_VERSION, UserId, decide};
use verify_bundle::{BUNDLE_FORMAT, Bundle, BundleCompleteness, BundleRecord, BundleStream};

/// Two plans' orders sealed as positions 0 and 1; the bundle holds plan-1's only.
/// Returns the bundle's JSON and the verifier key text.
fn bundle() -> (Bundle, String) {
    let officer = Actor::new(UserId::new("h7").unwrap(), Role::CaseOfficer);
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let mut tree = MemoryTree::new();
    let mut prev = Hash::ZERO;
    let mut records = Vec::new();
    for (position, (plan, client)) in [("plan-1", "196408233234"), ("plan-2", "197010632391")]
        .into_iter()
        .enumerate()
    {
        let command = serde_json::from_str(&format!(
            r#"{{"command":"receive_order","plan":"{plan}","order":"o-{position}","unit":"hemtjanst-norr",
                "act":"home_care","client":"{client}","received_on":"2026-03-02"}}"#
        ))
        .unwrap();
        let event = decide(&PlanState::new(), &command, &officer, now)
            .unwrap()
            .remove(0);
        let entry = Entry {
            stream_id: plan.into(),
            stream_version: 1,
            claimed_at_micros: now.timestamp_micros(),
            command_id: String::new(),
            actor: (&officer).into(),
            event_type: event.event_type().into(),
            schema_version: SCHEMA_VERSION,
            envelope: Envelope::plaintext(),
            payload: event.encode(),
        };
        let record = seal(position as u64, prev, now.timestamp_micros(), &entry).unwrap();
        prev = record.hash();
        tree.push(record.hash());
        records.push(record);
    }
    let signer = CheckpointSigner::from_seed("test.example/log", [7; 32]).unwrap();
    let note = signer
        .sign(&Checkpoint {
            origin: "test.example/log".into(),
            size: tree.size(),
            root: tree.root(),
            time_micros: now.timestamp_micros(),
            map_root: None,
        })
        .unwrap();
    let proof = inclusion_proof(&tree, 0, tree.size()).unwrap();
    (
        Bundle {
            format: BUNDLE_FORMAT.into(),
            checkpoint: note,
            records: vec![BundleRecord::new(&records[0], &proof)],
            consistency: None,
            completeness: None,
            weedings: Vec::new(),
            data_keys: Default::default(),
        },
        signer.verifier().to_text(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(args: &[&Path], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verify-bundle"))
        .args(args)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_valid_bundle_exits_0_and_prints_the_history_with_personnummer_masked() {
    let dir = tempfile::tempdir().unwrap();
    let (b, key) = bundle();
    let file = write(dir.path(), "b.json", &serde_json::to_string(&b).unwrap());
    let key = write(dir.path(), "k.pub", &key);
    let out = run(&[&file, Path::new("--pubkey"), &key], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("plan plan-1"), "{stdout}");
    assert!(stdout.contains("client 19640823-****"), "{stdout}");
    assert!(!stdout.contains("plan-2"));
    assert!(stdout.contains("OK: the bundle verifies"));
    // A checkpoint without the map line proves inclusion, and says it proves no more.
    assert!(
        stdout.contains("inclusion only: the checkpoint commits no map"),
        "{stdout}"
    );
    assert!(!stdout.contains("complete history"), "{stdout}");
    let out = run(
        &[&file, Path::new("--pubkey"), &key],
        &["--show-personnummer"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("client 19640823-3234"));
}

#[test]
fn a_tampered_bundle_or_another_key_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let (mut b, key) = bundle();
    let key = write(dir.path(), "k.pub", &key);
    // A proof hash changed.
    let good = b.records[0].proof[0].clone();
    b.records[0].proof[0] = Hash([9; 32]).to_hex();
    let file = write(dir.path(), "t.json", &serde_json::to_string(&b).unwrap());
    let out = run(&[&file, Path::new("--pubkey"), &key], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not in the signed ledger"));
    // Another key.
    b.records[0].proof[0] = good;
    let file = write(dir.path(), "g.json", &serde_json::to_string(&b).unwrap());
    let other = CheckpointSigner::from_seed("test.example/log", [8; 32])
        .unwrap()
        .verifier()
        .to_text();
    let other = write(dir.path(), "other.pub", &other);
    let out = run(&[&file, Path::new("--pubkey"), &other], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checkpoint does not verify"));
}

#[test]
fn usage_errors_and_unreadable_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[dir.path()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--pubkey"));
    let missing = dir.path().join("missing.json");
    let key = write(dir.path(), "k.pub", &bundle().1);
    let out = run(&[&missing, Path::new("--pubkey"), &key], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_key_given_twice_in_the_bundle_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (b, key) = bundle();
    let key = write(dir.path(), "k.pub", &key);
    // serde_json would keep the last `format` and verify the bundle; strict JSON refuses.
    let text = serde_json::to_string(&b)
        .unwrap()
        .replacen('{', r#"{"format":"other","#, 1);
    let file = write(dir.path(), "dup.json", &text);
    let out = run(&[&file, Path::new("--pubkey"), &key], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the key `format` appears twice"),
        "{stderr}"
    );
}

#[test]
fn a_malformed_bundle_is_refused_without_repeating_its_strings() {
    let dir = tempfile::tempdir().unwrap();
    let (b, key) = bundle();
    let key = write(dir.path(), "k.pub", &key);
    let good = serde_json::to_string(&b).unwrap();
    let probes = [
        // A wrong format string, a wrongly typed field, a checkpoint that is a name.
        good.replace(BUNDLE_FORMAT, "Testperson Ett 19640823-3234"),
        good.replace(
            r#""position":0"#,
            r#""position":"Testperson Ett 196408233234""#,
        ),
        serde_json::to_string(&Bundle {
            checkpoint: "Testperson Ett\n196408233234\n".into(),
            ..b.clone()
        })
        .unwrap(),
        r#"{"format":"planledger-evidence-bundle/1","Testperson Ett":1}"#.into(),
    ];
    for (i, text) in probes.iter().enumerate() {
        let file = write(dir.path(), &format!("bad{i}.json"), text);
        let out = run(&[&file, Path::new("--pubkey"), &key], &[]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{all}");
        for leak in ["Testperson", "3234"] {
            assert!(!all.contains(leak), "probe {i} leaked: {all}");
        }
    }
}

#[test]
fn a_bundle_over_the_limit_is_refused_naming_it_and_never_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (b, key) = bundle();
    let key = write(dir.path(), "k.pub", &key);
    let file = write(dir.path(), "b.json", &serde_json::to_string(&b).unwrap());
    let out = run(
        &[&file, Path::new("--pubkey"), &key],
        &["--max-bundle-bytes", "100"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("limit of 100 bytes"), "{stderr}");
    // An endless file: the default limit stops the read (this would otherwise run until
    // memory runs out).
    let zero = dir.path().join("zero.json");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let out = run(
        &[&zero, Path::new("--pubkey"), &key],
        &["--max-bundle-bytes", "1000000"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit of 1000000 bytes"));
}

/// Three plans' orders sealed at positions 0, 1, 2: plan-1 and plan-3 of client
/// 196408233234, plan-2 of 197010632391. Returns the orders as records, and a signed
/// checkpoint with the map (test map key `[3; 32]`) at `size`, as the exporter makes them.
fn map_ledger(size: u64) -> (Vec<planledger_ledger::Record>, MemoryTree, String, Map) {
    let officer = Actor::new(UserId::new("h7").unwrap(), Role::CaseOfficer);
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let (mut tree, mut prev, mut records) = (MemoryTree::new(), Hash::ZERO, Vec::new());
    let orders = [
        ("plan-1", "196408233234"),
        ("plan-2", "197010632391"),
        ("plan-3", "196408233234"),
    ];
    for (position, (plan, client)) in orders.into_iter().enumerate() {
        let command = serde_json::from_str(&format!(
            r#"{{"command":"receive_order","plan":"{plan}","order":"o-{position}","unit":"hemtjanst-norr",
                "act":"home_care","client":"{client}","received_on":"2026-03-02"}}"#
        ))
        .unwrap();
        let event = decide(&PlanState::new(), &command, &officer, now)
            .unwrap()
            .remove(0);
        let entry = Entry {
            stream_id: plan.into(),
            stream_version: 1,
            claimed_at_micros: now.timestamp_micros(),
            command_id: String::new(),
            actor: (&officer).into(),
            event_type: event.event_type().into(),
            schema_version: SCHEMA_VERSION,
            envelope: Envelope::plaintext(),
            payload: event.encode(),
        };
        let record = seal(position as u64, prev, now.timestamp_micros(), &entry).unwrap();
        prev = record.hash();
        if (position as u64) < size {
            tree.push(record.hash());
        }
        records.push(record);
    }
    let mut leaves = Vec::new();
    let mut plans_of: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (r, (plan, client)) in records.iter().zip(orders).take(size as usize) {
        leaves.push((stream_key(plan), stream_value(1, &r.hash())));
        plans_of.entry(client).or_default().push(plan);
    }
    for (client, plans) in &plans_of {
        let salt = client_salt(&[3; 32], client);
        leaves.push((client_key(&salt, client), client_value(plans).unwrap()));
    }
    let map = Map::new(leaves).unwrap();
    let note = CheckpointSigner::from_seed("test.example/log", [7; 32])
        .unwrap()
        .sign(&Checkpoint {
            origin: "test.example/log".into(),
            size,
            root: tree.root(),
            time_micros: now.timestamp_micros() + size as i64,
            map_root: Some(map.root()),
        })
        .unwrap();
    (records, tree, note, map)
}

/// The bundle of `client`'s plans `plans` (positions) against the map checkpoint of `size`.
fn map_bundle(size: u64, client: &str, positions: &[usize]) -> Bundle {
    let (records, tree, note, map) = map_ledger(size);
    let hex = |p: planledger_ledger::MapProof| p.siblings.iter().map(|h| h.to_hex()).collect();
    let salt = client_salt(&[3; 32], client);
    let plans: Vec<String> = positions
        .iter()
        .map(|&p| records[p].stream_id().to_owned())
        .collect();
    Bundle {
        format: BUNDLE_FORMAT.into(),
        checkpoint: note,
        records: positions
            .iter()
            .map(|&p| {
                BundleRecord::new(
                    &records[p],
                    &inclusion_proof(&tree, p as u64, size).unwrap(),
                )
            })
            .collect(),
        consistency: None,
        completeness: Some(BundleCompleteness {
            client: client.into(),
            salt: salt.to_hex(),
            client_proof: hex(map.prove(&client_key(&salt, client))),
            streams: positions
                .iter()
                .map(|&p| BundleStream {
                    plan: records[p].stream_id().into(),
                    length: 1,
                    last: records[p].hash().to_hex(),
                    proof: hex(map.prove(&stream_key(records[p].stream_id()))),
                })
                .collect(),
            plans,
        }),
        weedings: Vec::new(),
        data_keys: Default::default(),
    }
}

#[test]
fn a_map_checkpoint_bundle_proves_the_complete_history_and_tampers_exit_1_naming_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let key = write(
        dir.path(),
        "k.pub",
        &CheckpointSigner::from_seed("test.example/log", [7; 32])
            .unwrap()
            .verifier()
            .to_text(),
    );
    let pubkey = [Path::new("--pubkey"), key.as_path()];
    let verify = |b: &Bundle, extra: &[&str]| {
        let file = write(dir.path(), "b.json", &serde_json::to_string(b).unwrap());
        let out = run(&[file.as_path(), pubkey[0], pubkey[1]], extra);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    // Honest: both of the client's plans as of size 3.
    let honest = map_bundle(3, "196408233234", &[0, 2]);
    let (code, text) = verify(&honest, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("complete history of 2 plans as of checkpoint 3 (client 19640823-****)"),
        "{text}"
    );
    assert!(!text.contains("19640823-3234"), "{text}");
    // Asked for that client: fine; for another: exit 1.
    let mine = write(dir.path(), "mine", "19640823-3234\n");
    let theirs = write(dir.path(), "theirs", "197010632391\n");
    assert_eq!(
        verify(&honest, &["--client", mine.to_str().unwrap()]).0,
        Some(0)
    );
    let (code, text) = verify(&honest, &["--client", theirs.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("another client than the one you asked for"),
        "{text}"
    );
    assert!(!text.contains("2391"), "{text}");
    // One of the client's plans left out.
    let mut t = honest.clone();
    t.records.remove(1);
    let (code, text) = verify(&t, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("plan plan-3 of the client is missing"),
        "{text}"
    );
    // Another client's plan added.
    let other = map_bundle(3, "197010632391", &[1]);
    let mut t = honest.clone();
    t.records.push(other.records[0].clone());
    let (code, text) = verify(&t, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("plan-2") && text.contains("foreign record"),
        "{text}"
    );
    // A stale export: the bundle as of size 2 (plan-3 did not exist yet) verifies as the
    // complete history then, but not for someone holding the checkpoint of size 3.
    let old = map_bundle(2, "196408233234", &[0]);
    let (code, text) = verify(&old, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("complete history of 1 plan as of checkpoint 2"),
        "{text}"
    );
    let newer = write(dir.path(), "newer.checkpoint", &honest.checkpoint);
    let (code, text) = verify(&old, &["--since", newer.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("older than the checkpoint of 3 records you hold: a stale export"),
        "{text}"
    );
    // The completeness proof stripped from a map checkpoint's bundle.
    let mut t = honest.clone();
    t.completeness = None;
    let (code, text) = verify(&t, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("carries no completeness proof"), "{text}");
}

#[test]
fn a_witness_policy_needs_k_valid_cosignatures_on_the_bundles_checkpoint() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    use planledger_ledger::{SignedNote, WitnessSigner};

    let dir = tempfile::tempdir().unwrap();
    let (mut b, key) = bundle();
    let key = write(dir.path(), "k.pub", &key);
    let witnesses = [
        WitnessSigner::from_seed("arkiv.example/witness", [1; 32]).unwrap(),
        WitnessSigner::from_seed("ivo.example/witness", [2; 32]).unwrap(),
    ];
    let wkeys: Vec<PathBuf> = witnesses
        .iter()
        .enumerate()
        .map(|(i, w)| write(dir.path(), &format!("w{i}.pub"), &w.verifier().to_text()))
        .collect();
    let plain = b.checkpoint.clone();
    let body = SignedNote::parse(&plain).unwrap().body.to_owned();
    let lines: Vec<String> = witnesses
        .iter()
        .map(|w| w.cosign(&body, 1_772_442_000).unwrap())
        .collect();
    let check = |checkpoint: &str, extra: &[&str]| {
        let mut b = b.clone();
        b.checkpoint = checkpoint.to_owned();
        let file = write(dir.path(), "b.json", &serde_json::to_string(&b).unwrap());
        let mut args = vec![
            "--witness-key",
            wkeys[0].to_str().unwrap(),
            "--witness-key",
            wkeys[1].to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&[&file, Path::new("--pubkey"), &key], &args)
    };
    let both = format!("{plain}{}{}", lines[0], lines[1]);
    let out = check(&both, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("OK: the checkpoint is cosigned by 2 of the 2 witnesses you trust (arkiv.example/witness, ivo.example/witness; at least 2 needed)"),
        "{stdout}"
    );
    // One removed: 1 of 2 fails a 2-of-2 policy and meets a 1-of-2 one.
    let one = format!("{plain}{}", lines[0]);
    let out = check(&one, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("does not meet the witness policy: the checkpoint carries valid cosignatures by 1 of the 2 witness keys of the policy; the policy needs at least 2"),
        "{stderr}"
    );
    assert_eq!(
        check(&one, &["--witness-threshold", "1"]).status.code(),
        Some(0)
    );
    // None.
    assert_eq!(
        check(&plain, &["--witness-threshold", "1"]).status.code(),
        Some(1)
    );
    // Forged: a byte of the second cosignature changed.
    let b64 = lines[1].trim_end().rsplit_once(' ').unwrap().1;
    let mut raw = B64.decode(b64).unwrap();
    raw[70] ^= 1;
    let forged = format!(
        "{plain}{}{}",
        lines[0],
        lines[1].replacen(b64, &B64.encode(&raw), 1)
    );
    let out = check(&forged, &["--witness-threshold", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the cosignature by witness key ivo.example/witness does not verify"),
        "{stderr}"
    );
    // A policy that cannot be met, or a threshold without keys, is a usage error.
    assert_eq!(
        check(&both, &["--witness-threshold", "3"]).status.code(),
        Some(2)
    );
    b.checkpoint = both;
    let file = write(dir.path(), "b.json", &serde_json::to_string(&b).unwrap());
    let out = run(
        &[&file, Path::new("--pubkey"), &key],
        &["--witness-threshold", "1"],
    );
    assert_eq!(out.status.code(), Some(2));
    // The log's key given as a witness key is refused by name.
    let out = run(
        &[
            &file,
            Path::new("--pubkey"),
            &key,
            Path::new("--witness-key"),
            &key,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a witness verifier key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One plan from order to closing, sealed at positions 0..5: the order (case officer),
/// version 1 with content (key worker), the client's signature, submission, and the plan
/// closed because the client moved. Returns the bundle's JSON and the verifier key text.
fn plan_bundle() -> (String, String) {
    let officer = Actor::new(UserId::new("h7").unwrap(), Role::CaseOfficer);
    let kim = Actor::new(UserId::new("kim").unwrap(), Role::KeyWorker);
    // 09:00 UTC on 2 March is 10:00 in Stockholm (CET).
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let lines = [
        (
            &officer,
            r#"{"command":"receive_order","plan":"plan-0001","order":"best-88","unit":"hemtjanst-norr","act":"home_care","client":"196408233234","received_on":"2026-03-02","granted_services":["dusch"]}"#,
        ),
        (
            &kim,
            r#"{"command":"draft","plan":"plan-0001","content":{"provider":"Hemtjänst Norr","unit":"hemtjanst-norr","act":"home_care","client":{"name":"Testperson Ett","personnummer":"196408233234"},"drawn_up_on":"2026-03-03","services":[{"what":"Dusch","when":{"days":["tuesday"],"start":"09:00","end":"09:45"},"how":"Två personal <b>","who":"Hemtjänstgrupp Norr","goal":"Kunden känner sig trygg i duschen"}],"goals":["Bo kvar hemma tryggt"]}}"#,
        ),
        (
            &kim,
            r#"{"command":"sign","plan":"plan-0001","version":1,"signer":"client"}"#,
        ),
        (
            &kim,
            r#"{"command":"submit","plan":"plan-0001","version":1}"#,
        ),
        (
            &kim,
            r#"{"command":"close","plan":"plan-0001","reason":"moved","closed_on":"2026-03-06"}"#,
        ),
    ];
    let mut state = PlanState::new();
    let mut tree = MemoryTree::new();
    let mut prev = Hash::ZERO;
    let mut records = Vec::new();
    for (i, (actor, line)) in lines.into_iter().enumerate() {
        let now = t0 + chrono::Duration::days(i as i64);
        let command = serde_json::from_str(line).unwrap();
        let event = decide(&state, &command, actor, now).unwrap().remove(0);
        state.apply(&event, now, actor);
        let entry = Entry {
            stream_id: "plan-0001".into(),
            stream_version: i as u64 + 1,
            claimed_at_micros: now.timestamp_micros(),
            command_id: String::new(),
            actor: actor.into(),
            event_type: event.event_type().into(),
            schema_version: SCHEMA_VERSION,
            envelope: Envelope::plaintext(),
            payload: event.encode(),
        };
        let record = seal(i as u64, prev, now.timestamp_micros(), &entry).unwrap();
        prev = record.hash();
        tree.push(record.hash());
        records.push(record);
    }
    let signer = CheckpointSigner::from_seed("test.example/log", [7; 32]).unwrap();
    let note = signer
        .sign(&Checkpoint {
            origin: "test.example/log".into(),
            size: tree.size(),
            root: tree.root(),
            time_micros: (t0 + chrono::Duration::days(10)).timestamp_micros(),
            map_root: None,
        })
        .unwrap();
    let bundle = Bundle {
        format: BUNDLE_FORMAT.into(),
        checkpoint: note,
        records: records
            .iter()
            .map(|r| {
                let proof = inclusion_proof(&tree, r.position(), tree.size()).unwrap();
                BundleRecord::new(r, &proof)
            })
            .collect(),
        consistency: None,
        completeness: None,
        weedings: Vec::new(),
        data_keys: Default::default(),
    };
    (
        serde_json::to_string(&bundle).unwrap(),
        signer.verifier().to_text(),
    )
}

fn run_plan(extra: &[&str]) -> (Output, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (b, key) = plan_bundle();
    let file = write(dir.path(), "b.json", &b);
    let key = write(dir.path(), "k.pub", &key);
    let out = run(&[&file, Path::new("--pubkey"), &key], extra);
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

#[test]
fn text_in_english_shows_the_plan_content_in_local_time_without_enum_names() {
    let (out, stdout, stderr) = run_plan(&["--format", "text", "--lang", "en"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The content of version 1 in full, not counts.
    for want in [
        "version 1 drawn up",
        "Provider: Hemtjänst Norr",
        "What: Dusch",
        "Days: Tuesday",
        "How: Två personal <b>",
        "Goals: Bo kvar hemma tryggt",
        "Type of service: home care",
        "version 1 signed by the client",
        "version 1 submitted to the authority",
        "plan closed 2026-03-06 (moved)",
        "kim (key worker)",
        "h7 (case officer)",
        // 09:00 UTC is 10:00 in Stockholm in March (CET, +01:00).
        "2026-03-02 10:00 +01:00",
        "OK: the bundle verifies",
    ] {
        assert!(stdout.contains(want), "{want:?} missing from:\n{stdout}");
    }
    assert!(
        !stdout.contains("(Moved)") && !stdout.contains("services,"),
        "{stdout}"
    );
    assert!(!stdout.contains("09:00:00Z"), "{stdout}");
    assert!(
        stdout.contains("19640823-****") && !stdout.contains("3234"),
        "{stdout}"
    );
    // English is the default.
    let (_, default, _) = run_plan(&[]);
    assert_eq!(default, stdout);
}

#[test]
fn text_in_swedish_names_events_and_fields_in_swedish() {
    let (out, stdout, stderr) = run_plan(&["--lang", "sv"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for want in [
        "kontrollpunkt: test.example/log vid storlek 5, signerad 2026-03-12 10:00 +01:00",
        "beställning best-88 mottagen 2026-03-02 för enhet hemtjanst-norr, hemtjänst, den enskilde 19640823-****; beviljat: dusch",
        "version 1 upprättad",
        "Utförare: Hemtjänst Norr",
        "Insatser:",
        "Vad: Dusch",
        "Dagar: tisdag",
        "version 1 undertecknad av den enskilde",
        "version 1 avgiven till myndigheten",
        "planen avslutad 2026-03-06 (flyttat)",
        "kim (kontaktperson)",
        "h7 (biståndshandläggare)",
        "endast inkludering",
        "OK: paketet är verifierat",
    ] {
        assert!(stdout.contains(want), "{want:?} missing from:\n{stdout}");
    }
    assert!(
        !stdout.contains("moved") && !stdout.contains("drawn up"),
        "{stdout}"
    );
    let (_, shown, _) = run_plan(&["--lang", "sv", "--show-personnummer"]);
    assert!(shown.contains("Personnummer: 196408233234"), "{shown}");
}

#[test]
fn html_is_one_escaped_page_in_the_language_asked_for() {
    for (lang, want) in [
        (
            "sv",
            [
                "<html lang=\"sv\">",
                "Utförare",
                "planen avslutad 2026-03-06 (flyttat)",
                "OK: paketet är verifierat",
            ],
        ),
        (
            "en",
            [
                "<html lang=\"en\">",
                "Provider",
                "plan closed 2026-03-06 (moved)",
                "OK: the bundle verifies",
            ],
        ),
    ] {
        let (out, stdout, stderr) = run_plan(&["--format=html", "--lang", lang]);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stdout.starts_with("<!DOCTYPE html>"), "{stdout}");
        for w in want {
            assert!(stdout.contains(w), "{w:?} missing from:\n{stdout}");
        }
        // Text from the bundle is escaped; the page has no script.
        assert!(stdout.contains("Två personal &lt;b&gt;"), "{stdout}");
        assert!(
            !stdout.contains("<b>") && !stdout.contains("<script"),
            "{stdout}"
        );
        assert!(stdout.contains("2026-03-02 10:00 +01:00"), "{stdout}");
        assert!(!stdout.contains("3234"), "{stdout}");
        assert!(stdout.trim_end().ends_with("</html>"));
    }
}

#[test]
fn json_is_a_machine_readable_report_and_failures_are_json_too() {
    let (out, stdout, stderr) = run_plan(&["--format", "json", "--lang", "sv"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(v["ok"], true);
    assert_eq!(v["lang"], "sv");
    assert_eq!(v["checkpoint"]["size"], 5);
    assert_eq!(v["records"], 5);
    assert!(v["complete"].is_null());
    let records = v["plans"][0]["records"].as_array().unwrap();
    assert_eq!(v["plans"][0]["plan"], "plan-0001");
    assert_eq!(records.len(), 5);
    assert_eq!(records[0]["claimed_at"], "2026-03-02T09:00:00.000000Z");
    assert_eq!(records[0]["claimed_at_local"], "2026-03-02 10:00 +01:00");
    assert_eq!(records[0]["actor"]["role"], "case_officer");
    assert_eq!(records[0]["event"]["client"], "19640823-****");
    assert_eq!(records[1]["event_type"], "plan_drafted");
    assert_eq!(
        records[1]["event"]["content"]["services"][0]["what"],
        "Dusch"
    );
    assert_eq!(
        records[1]["event"]["content"]["client"]["personnummer"],
        "19640823-****"
    );
    assert_eq!(
        records[4]["summary"],
        "planen avslutad 2026-03-06 (flyttat)"
    );
    assert_eq!(records[4]["event"]["reason"], "moved");
    assert_eq!(records[1]["hash"].as_str().unwrap().len(), 64);
    assert!(!stdout.contains("3234"), "{stdout}");

    // A failure is one JSON object on standard output too, with the same exit code.
    let dir = tempfile::tempdir().unwrap();
    let (b, _) = plan_bundle();
    let file = write(dir.path(), "b.json", &b);
    let other = CheckpointSigner::from_seed("test.example/log", [8; 32])
        .unwrap()
        .verifier()
        .to_text();
    let other = write(dir.path(), "other.pub", &other);
    let out = run(
        &[&file, Path::new("--pubkey"), &other],
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["kind"], "verification");
    assert_eq!(v["error"]["exit_code"], 1);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("checkpoint does not verify")
    );
    let missing = dir.path().join("missing.json");
    let out = run(
        &[&missing, Path::new("--pubkey"), &other],
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "bad_input");
}

#[test]
fn version_and_bad_format_or_language() {
    let out = Command::new(env!("CARGO_BIN_EXE_verify-bundle"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "verify-bundle {} (reads {BUNDLE_FORMAT})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    for bad in [["--format", "pdf"], ["--lang", "de"]] {
        let (out, _, stderr) = run_plan(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(stderr.contains(bad[0]), "{stderr}");
    }
}

/// A bundle of one plan of an encrypted client (FORMAT.md §9): its order sealed under
/// `key` as planledger seals it (XChaCha20-Poly1305, the payload's associated data), and
/// the key in `data_keys`. Returns the bundle, the verifier key text and the key id (hex).
fn encrypted_bundle(key: [u8; 32]) -> (Bundle, String, String) {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let officer = Actor::new(UserId::new("h7").unwrap(), Role::CaseOfficer);
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let command = serde_json::from_str(
        r#"{"command":"receive_order","plan":"plan-1","order":"o-1","unit":"hemtjanst-norr",
            "act":"home_care","client":"196408233234","received_on":"2026-03-02"}"#,
    )
    .unwrap();
    let event = decide(&PlanState::new(), &command, &officer, now)
        .unwrap()
        .remove(0);
    let (id, nonce) = ([0x5a; 16], [0x11; 24]);
    let ad = planledger_ledger::payload_ad("plan-1", 1, event.event_type());
    let ct = chacha20poly1305::XChaCha20Poly1305::new(&key.into())
        .encrypt(
            chacha20poly1305::XNonce::from_slice(&nonce),
            Payload {
                msg: &event.encode(),
                aad: &ad,
            },
        )
        .unwrap();
    let entry = Entry {
        stream_id: "plan-1".into(),
        stream_version: 1,
        claimed_at_micros: now.timestamp_micros(),
        command_id: String::new(),
        actor: (&officer).into(),
        event_type: event.event_type().into(),
        schema_version: SCHEMA_VERSION,
        envelope: Envelope {
            key_id: id.to_vec(),
            nonce: nonce.to_vec(),
        },
        payload: ct,
    };
    let record = seal(0, Hash::ZERO, now.timestamp_micros(), &entry).unwrap();
    let mut tree = MemoryTree::new();
    tree.push(record.hash());
    let signer = CheckpointSigner::from_seed("test.example/log", [7; 32]).unwrap();
    let note = signer
        .sign(&Checkpoint {
            origin: "test.example/log".into(),
            size: 1,
            root: tree.root(),
            time_micros: now.timestamp_micros(),
            map_root: None,
        })
        .unwrap();
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let proof = inclusion_proof(&tree, 0, 1).unwrap();
    (
        Bundle {
            format: BUNDLE_FORMAT.into(),
            checkpoint: note,
            records: vec![BundleRecord::new(&record, &proof)],
            consistency: None,
            completeness: None,
            weedings: Vec::new(),
            data_keys: [(hex(&id), hex(&key))].into(),
        },
        signer.verifier().to_text(),
        hex(&id),
    )
}

#[test]
fn an_encrypted_record_opens_with_the_bundles_key_and_a_wrong_or_missing_key_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let (b, pubkey, id) = encrypted_bundle([0x42; 32]);
    let pubkey = write(dir.path(), "k.pub", &pubkey);
    let file = write(dir.path(), "b.json", &serde_json::to_string(&b).unwrap());
    let out = run(&[&file, Path::new("--pubkey"), &pubkey], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for expected in [
        "plan plan-1",
        "client 19640823-****",
        "1 records are encrypted in the ledger: they were opened with the client's data key",
        "OK: the bundle verifies",
    ] {
        assert!(stdout.contains(expected), "{expected}: {stdout}");
    }
    let out = run(
        &[&file, Path::new("--pubkey"), &pubkey],
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["decrypted"], 1);
    let out = run(
        &[&file, Path::new("--pubkey"), &pubkey],
        &["--format", "html"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("19640823-****"));

    let failure = |bundle: &Bundle, name: &str| {
        let file = write(dir.path(), name, &serde_json::to_string(bundle).unwrap());
        let out = run(&[&file, Path::new("--pubkey"), &pubkey], &[]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // Another key (what an altered key is): the record does not open, and says which.
    let (other, _, _) = encrypted_bundle([0x43; 32]);
    let mut wrong = b.clone();
    wrong.data_keys = other.data_keys.clone();
    let err = failure(&wrong, "wrong.json");
    assert!(
        err.contains(
            "record at position 0 does not decrypt under the data key the bundle carries for it"
        ),
        "{err}"
    );
    assert!(!err.contains(&"43".repeat(32)), "a key is never printed");
    // No key: the sealed record is explained by nothing.
    let mut none = b.clone();
    none.data_keys.clear();
    let err = failure(&none, "none.json");
    assert!(
        err.contains(
            "record at position 0 is encrypted, and the bundle holds no weeding of its client"
        ),
        "{err}"
    );
    // A key for no record of the bundle (another client's) is refused.
    let mut extra = b.clone();
    extra.data_keys.insert("77".repeat(16), "88".repeat(32));
    let err = failure(&extra, "extra.json");
    assert!(
        err.contains("`data_keys`: it holds a key that no record of the bundle is encrypted under"),
        "{err}"
    );
    // A malformed key names the member and the rule, never the value.
    let mut upper = b.clone();
    upper.data_keys.insert(id, "AB".repeat(32));
    let err = failure(&upper, "upper.json");
    assert!(
        err.contains("`data_keys`: a key is not 64 lowercase hex digits"),
        "{err}"
    );
    assert!(!err.contains(&"AB".repeat(32)), "{err}");
}
