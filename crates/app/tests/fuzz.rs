//! Fuzzing on stable Rust: every decoder planledger has gets random bytes and mutated
//! valid inputs and must answer with an error, never a panic. The budget is proptest's
//! `PROPTEST_CASES` (256 by default here, so CI stays fast); for a long run:
//! `PROPTEST_CASES=1000000 cargo test -p planledger-app --test fuzz --release`.

use planledger_app::import::parse_line;
use planledger_ledger::{
    AddCheckpoint, Checkpoint, CheckpointSigner, CheckpointVerifier, Hash, Record, SignedNote,
    TreeHead, WitnessPolicy, WitnessSigner, WitnessVerifier,
};
use planledger_plan::{DeadlinePolicy, Event};
use proptest::prelude::*;

/// Valid inputs of each decoder, for mutation.
const LINE: &str = r#"{"actor":{"user":"kim","role":"key_worker"},"at":"2026-03-10T09:00:00Z","command":"draft","plan":"plan-0001","content":{"provider":"P","unit":"u","act":"home_care","client":{"name":"N","personnummer":"196408233234"},"drawn_up_on":"2026-03-10","services":[{"what":"Dusch","when":{"days":["tuesday"],"start":"09:00","end":"09:45"}}],"goals":["Bo kvar"]}}"#;
const POLICY: &str =
    "organisation = \"X\"\n[all]\nreview_every_months = 1\n[home_care]\ndraw_up_days = 14\n";

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed("exempel.se/fuzz", [3; 32]).unwrap()
}

fn note() -> String {
    signer()
        .sign(&Checkpoint {
            origin: "exempel.se/fuzz".into(),
            size: 3,
            root: planledger_ledger::Hash([5; 32]),
            time_micros: 1_770_000_000_000_000,
            map_root: None,
        })
        .unwrap()
}

fn witness() -> WitnessSigner {
    WitnessSigner::from_seed("exempel.se/witness", [4; 32]).unwrap()
}

/// [`note`] with a witness's cosignature, in a request to a witness (FORMAT.md §13.3).
fn witness_request() -> String {
    let note = note();
    let body = SignedNote::parse(&note).unwrap().body.to_owned();
    AddCheckpoint {
        old_size: 1,
        proof: vec![Hash([1; 32]), Hash([2; 32])],
        note: format!("{note}{}", witness().cosign(&body, 1_770_000_000).unwrap()),
    }
    .encode()
}

/// A store holding one plan's order, recorded through the application's write path.
fn one_order() -> planledger_store::MemoryStore {
    use chrono::TimeZone;
    let store = planledger_store::MemoryStore::new();
    let order = parse_line(r#"{"actor":{"user":"h7","role":"case_officer"},"command":"receive_order","plan":"p","order":"o","unit":"u","act":"home_care","client":"196408233234","received_on":"2026-03-02"}"#).unwrap();
    let now = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    planledger_app::Recorder::new(&store, planledger_plan::DeadlinePolicy::default())
        .record(&order.command, &order.actor, now, None)
        .unwrap();
    store
}

/// A sealed record's bytes.
fn record_bytes() -> Vec<u8> {
    use planledger_store::Store;
    one_order().read_all(0, 1).unwrap().remove(0).into_bytes()
}

/// `valid` with a few bytes changed, inserted or cut.
fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len().max(1);
    (
        prop::collection::vec((0..len, any::<u8>(), 0u8..3), 1..8),
        0..=len,
    )
        .prop_map(move |(edits, cut)| {
            let mut b = valid.clone();
            for (at, byte, how) in edits {
                let at = at.min(b.len().saturating_sub(1));
                match how {
                    0 if !b.is_empty() => b[at] = byte,
                    1 => b.insert(at, byte),
                    _ if !b.is_empty() => {
                        b.remove(at);
                    }
                    _ => {}
                }
            }
            if cut < b.len() && cut % 3 == 0 {
                b.truncate(cut);
            }
            b
        })
}

/// Random bytes, or a mutation of `valid`.
fn input(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..512), mutated(valid)]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn record_decode_never_panics(b in input(record_bytes())) {
        let _ = Record::decode(b.clone());
        if let Ok(r) = Record::decode(b) {
            let _ = Event::decode_versioned(r.entry().schema_version, r.payload());
        }
    }

    #[test]
    fn event_payload_decode_never_panics(b in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Event::decode(&b);
    }

    #[test]
    fn checkpoint_note_parse_never_panics(b in input(note().into_bytes())) {
        let t = text(&b);
        let _ = Checkpoint::parse_body(&t);
        let _ = Checkpoint::verify(&t, &[signer().verifier()]);
    }

    #[test]
    fn key_text_never_panics(b in input(signer().to_key_text().into_bytes()), v in input(signer().verifier().to_text().into_bytes())) {
        let _ = CheckpointSigner::from_key_text(&text(&b));
        let _ = CheckpointVerifier::from_text(&text(&v));
    }

    #[test]
    fn witness_request_and_cosignatures_never_panic(b in input(witness_request().into_bytes())) {
        let t = text(&b);
        if let Ok(r) = AddCheckpoint::parse(&t) {
            let head = TreeHead { size: 3, root: Hash([5; 32]) };
            let _ = planledger_ledger::check_request(Some(TreeHead { size: 1, root: Hash([6; 32]) }), &r, head);
            let _ = Checkpoint::verify(&r.note, &[signer().verifier()]);
            let _ = WitnessPolicy::new(vec![witness().verifier()], 1).unwrap().check(&r.note);
        }
        let _ = WitnessPolicy::new(vec![witness().verifier()], 1).unwrap().check(&t);
        for (i, line) in t.lines().enumerate() {
            let _ = planledger_ledger::NoteSignature::parse(line, i + 1);
        }
    }

    #[test]
    fn witness_key_text_never_panics(b in input(witness().to_key_text().into_bytes()), v in input(witness().verifier().to_text().into_bytes())) {
        let _ = WitnessSigner::from_key_text(&text(&b));
        let _ = WitnessVerifier::from_text(&text(&v));
    }

    #[test]
    fn bundle_json_never_panics(b in input(format!(r#"{{"format":"planledger-evidence-bundle/1","checkpoint":{:?},"records":[{{"position":0,"record":"AAAA","proof":["00"]}}]}}"#, note()).into_bytes())) {
        let _ = verify_bundle::verify(&text(&b), &signer().verifier());
    }

    #[test]
    fn import_line_parse_never_panics(b in input(LINE.as_bytes().to_vec())) {
        let _ = parse_line(&text(&b));
        let _ = planledger_plan::json::check_duplicate_keys(&text(&b));
    }

    #[test]
    fn policy_toml_never_panics(b in input(POLICY.as_bytes().to_vec())) {
        let _ = DeadlinePolicy::from_toml(&text(&b));
    }
}

/// `PROPTEST_CASES`, or 256.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256)
}
