//! Evidence bundles: one client's records with the proofs that they are in a signed
//! ledger, checkable offline by anyone who holds the ledger's public key.
//!
//! `planledger export` writes a bundle; an inspector (IVO) or a complaint handler runs
//! `verify-bundle BUNDLE --pubkey KEY` on a machine of their own. Nothing in a bundle is
//! taken on trust: the checkpoint's signature is checked against the key given on the
//! command line, every record's hash is computed from its stored bytes, and every
//! record's inclusion proof must lead from that hash to the signed root. Only then are
//! the payloads decoded into the plan history they prove.
//!
//! A bundle is one JSON object (see `FORMAT.md`, "Evidence bundles"):
//!
//! ```json
//! {
//!   "format": "planledger-evidence-bundle/1",
//!   "checkpoint": "<the signed note text of one checkpoint>",
//!   "records": [
//!     { "position": 0, "record": "<base64 of the stored record bytes>",
//!       "proof": ["<hex of each sibling hash, from the leaf up>"] }
//!   ]
//! }
//! ```
//!
//! The records of each plan must run from stream version 1 without a gap, so that a
//! bundle cannot leave out an unwelcome version unnoticed.
//!
//! A weeded client's records (FORMAT.md §9) are ciphertext whose key is destroyed: the
//! bundle carries them as stored (their hashes and proofs verify as any record's) with
//! the `client_weeded` record that destroyed their key, proven too, in `weedings`; the
//! verifier then says the plan was weeded, when and under what rule. A sealed record
//! without its weeding is refused.
//!
//! An encrypted client who is not weeded has their records stored as ciphertext as
//! well: the bundle carries those as stored and the client's data key in `data_keys`;
//! each record is proven as stored, then opened (XChaCha20-Poly1305 bound to its
//! stream, version and event type) and decoded like a plaintext record. A key that
//! does not open its record, or opens none, is refused.
//!
//! A checkpoint with a `map` line also commits a map of the ledger (`FORMAT.md` §12); a
//! bundle proven against one carries `completeness`: the client, the client's plans and
//! each plan's length and last record, each with its map proof. Then the bundle proves
//! it holds *all* of the client's records up to the checkpoint and *only* the client's
//! ([`Proven::complete`]); every plan cut short, left out, or foreign is named.

pub mod report;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use planledger_ledger::{
    Checkpoint, CheckpointError, CheckpointVerifier, ConsistencyProof, Cosignature,
    CosignatureError, Hash, InclusionProof, InvalidProof, MapProof, Record, WitnessPolicy,
    client_key, client_value, payload_ad, stream_key, stream_value,
};
use planledger_plan::retention::{self, CLIENT_WEEDED, RETENTION_STREAM};
use planledger_plan::{Event, Personnummer};
use serde::{Deserialize, Serialize};

/// Bytes of a key id in a record's envelope (FORMAT.md §9).
const KEY_ID_LEN: usize = 16;
/// Bytes of a data key.
const DATA_KEY_LEN: usize = 32;
/// Bytes of an XChaCha20-Poly1305 nonce.
const NONCE_LEN: usize = 24;

/// The `format` value of the bundles this crate reads and writes.
pub const BUNDLE_FORMAT: &str = "planledger-evidence-bundle/1";

/// A bundle as stored (the JSON shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    /// The signed note text of the checkpoint every proof leads to.
    pub checkpoint: String,
    pub records: Vec<BundleRecord>,
    /// A consistency proof from an earlier checkpoint of the same log (one the inspector
    /// already holds) to `checkpoint`, when the exporter was given one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<BundleConsistency>,
    /// The map proofs that the records are all of one client's records up to the
    /// checkpoint, and only the client's (`FORMAT.md` §11, §12). Present exactly when the
    /// checkpoint commits a map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completeness: Option<BundleCompleteness>,
    /// The `client_weeded` records (FORMAT.md §9) of the clients whose sealed records
    /// the bundle holds, each with its inclusion proof; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weedings: Vec<BundleRecord>,
    /// The data keys of the client's encrypted records that are not weeded (FORMAT.md
    /// §9, §11): key id (32 hex digits) to key (64 hex digits), lowercase; absent when
    /// none. Whoever holds the bundle can read exactly the records sealed under these
    /// keys, the client's, as they could a plaintext ledger's bundle.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data_keys: BTreeMap<String, String>,
}

/// The client's part of the checkpoint's map: who the client is, the client's plans,
/// and each plan's length and last record, each with its map inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleCompleteness {
    /// The client's personnummer, 12 digits.
    pub client: String,
    /// The client's salt (`FORMAT.md` §12.3), lowercase hex.
    pub salt: String,
    /// The client's plan (stream) ids in ascending byte order.
    pub plans: Vec<String>,
    /// The map inclusion proof of the client's leaf, siblings from the root down.
    pub client_proof: Vec<String>,
    /// One per plan, in the order of `plans`.
    pub streams: Vec<BundleStream>,
}

/// A plan's length and last record at the checkpoint, with the map proof of both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleStream {
    pub plan: String,
    pub length: u64,
    /// The record hash of version `length`, lowercase hex.
    pub last: String,
    /// The map inclusion proof of the plan's leaf, siblings from the root down.
    pub proof: Vec<String>,
}

/// The proof that the log `checkpoint` signs extends an earlier checkpoint of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleConsistency {
    /// The earlier checkpoint's signed note text.
    pub from: String,
    /// The consistency proof's hashes (RFC 9162 §2.1.4), lowercase hex.
    pub proof: Vec<String>,
}

/// One record and its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleRecord {
    pub position: u64,
    /// The stored record bytes, base64 (standard alphabet, padded).
    pub record: String,
    /// The inclusion proof's sibling hashes from the leaf up, lowercase hex.
    pub proof: Vec<String>,
}

impl BundleRecord {
    /// A bundle entry for `record` with its inclusion `proof`.
    pub fn new(record: &Record, proof: &InclusionProof) -> BundleRecord {
        BundleRecord {
            position: record.position(),
            record: B64.encode(record.bytes()),
            proof: proof.path.iter().map(Hash::to_hex).collect(),
        }
    }
}

/// Why a bundle does not prove what it claims. Each variant says which part failed;
/// none repeats record content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    #[error("the bundle is not valid bundle JSON: {reason}")]
    Malformed { reason: String },
    /// The format found is kept for callers but not shown: a malformed bundle's strings
    /// are never repeated (they may be personal data).
    #[error("the bundle's `format` is not {BUNDLE_FORMAT:?}, the only one this verifier reads")]
    UnknownFormat { found: String },
    #[error("the checkpoint does not verify with the given key: {}", checkpoint_message(.0))]
    Checkpoint(#[from] CheckpointError),
    #[error("the bundle holds no records")]
    Empty,
    /// An encrypted record the bundle cannot show, and no weeding that explains it.
    #[error(
        "record at position {position} is encrypted, and the bundle holds no weeding of its client: a bundle carries readable records, or a weeded client's records with the weeding that destroyed their key"
    )]
    Sealed { position: u64 },
    /// An encrypted record that does not open under the key the bundle carries for it:
    /// the key, the record's ciphertext or its place was changed.
    #[error(
        "record at position {position} does not decrypt under the data key the bundle carries for it (the key or the record was altered)"
    )]
    Undecryptable { position: u64 },
    /// `data_keys` is malformed, or holds a key no record of the bundle is sealed under.
    #[error("the bundle's `data_keys`: {reason}")]
    DataKeys { reason: String },
    /// A record in `weedings` that is not a weeding of a plan the bundle holds.
    #[error("the weeding record at position {position}: {reason}")]
    Weeding { position: u64, reason: String },
    #[error("record at position {position}: {reason}")]
    Record { position: u64, reason: String },
    #[error(
        "record at position {position} is not in the signed ledger (its inclusion proof fails: {source})"
    )]
    Proof {
        position: u64,
        #[source]
        source: InvalidProof,
    },
    #[error(
        "plan {plan}: stream version {missing} is missing from the bundle; a bundle holds every record of a plan up to the checkpoint"
    )]
    Gap { plan: String, missing: u64 },
    /// The bundle's log does not extend the earlier checkpoint it names (or the one the
    /// inspector holds): two histories, or a rewritten ledger.
    #[error(
        "the bundle's checkpoint of {new_size} records does not extend the earlier checkpoint of {old_size} records: {reason}"
    )]
    Inconsistent {
        old_size: u64,
        new_size: u64,
        reason: String,
    },
    /// The checkpoint commits no map, yet the bundle carries a completeness proof.
    #[error(
        "the bundle carries a completeness proof, but its checkpoint commits no map to prove it against"
    )]
    NoMap,
    /// The checkpoint commits a map, and the bundle does not use it.
    #[error(
        "the checkpoint commits a map of the ledger, but the bundle carries no completeness proof: it may leave records out; ask for a new export"
    )]
    NoCompleteness,
    /// The completeness proof itself is malformed or does not lead to the signed map.
    #[error("the bundle does not prove the client's complete history: {reason}")]
    Completeness { reason: String },
    /// A record of a plan that is not one of the client's plans.
    #[error(
        "record at position {position} belongs to plan {plan}, which is not one of the client's plans as of the checkpoint: a foreign record"
    )]
    Foreign { position: u64, plan: String },
    /// A plan of the client of which the bundle holds no record.
    #[error("plan {plan} of the client is missing from the bundle")]
    MissingPlan { plan: String },
    /// A plan of which the bundle holds only the first records.
    #[error(
        "plan {plan}: the bundle holds versions 1 to {holds} of its {length} records as of the checkpoint; from version {} on they are missing",
        .holds + 1
    )]
    Truncated {
        plan: String,
        holds: u64,
        length: u64,
    },
    /// A plan whose records go beyond what the checkpoint's map says, or whose last
    /// record is another than the map's.
    #[error("plan {plan}: {reason}")]
    NotAsMapped { plan: String, reason: String },
    /// A plan whose order names another client than the bundle does.
    #[error(
        "plan {plan} belongs to another client than the one the bundle names (its order names someone else)"
    )]
    OtherClient { plan: String },
    /// `--client` was given, and the bundle is about someone else.
    #[error("the bundle is about another client than the one you asked for")]
    NotTheClient,
    /// The recipient holds a newer checkpoint than the bundle's.
    #[error(
        "the bundle's checkpoint of {size} records is older than the checkpoint of {held} records you hold: a stale export, which cannot show what was recorded since; ask for a new one"
    )]
    Stale { size: u64, held: u64 },
    /// A witness policy was given, and the bundle's checkpoint does not meet it
    /// (`FORMAT.md` §13.5): too few cosignatures, or a forged one.
    #[error("the bundle's checkpoint does not meet the witness policy: {0}")]
    Witnesses(CosignatureError),
    /// `--since` was given, and the bundle carries no proof from that checkpoint.
    #[error(
        "the bundle carries no consistency proof from the checkpoint of {size} records you hold; ask for an export made with `--since` that checkpoint"
    )]
    NoProofSince { size: u64 },
}

/// A record the bundle proved, with its decoded event.
#[derive(Debug, Clone)]
pub struct ProvenRecord {
    pub record: Record,
    pub event: Event,
}

/// A weeded plan the bundle proved: its records, sealed (their content destroyed with
/// the client's key), and the weeding that destroyed the key.
#[derive(Debug, Clone)]
pub struct WeededPlan {
    pub plan: String,
    /// The plan's records as stored, by stream version.
    pub records: Vec<Record>,
    /// The `client_weeded` record, proven included.
    pub weeding: Record,
    /// The Swedish day of the weeding (its claimed time).
    pub on: chrono::NaiveDate,
    /// The retention rule, the decision and the client's last entry it names.
    pub rule: String,
    pub decision: String,
    pub last_entry: String,
}

/// What a verified bundle proves: these records are in the ledger whose tree head the
/// checkpoint signs.
#[derive(Debug, Clone)]
pub struct Proven {
    pub checkpoint: Checkpoint,
    /// By plan, then stream version: the readable records.
    pub records: Vec<ProvenRecord>,
    /// The plans whose records are sealed because their client was weeded.
    pub weeded: Vec<WeededPlan>,
    /// How many of `records` were stored encrypted and opened with the bundle's
    /// `data_keys` (their hashes and proofs are of the ciphertext as stored).
    pub decrypted: usize,
    /// The earlier checkpoint the bundle's log was proven to extend, if it carried a
    /// consistency proof.
    pub extends: Option<Checkpoint>,
    /// With a witness policy: one valid cosignature of the checkpoint per policy witness
    /// that cosigned it (at least the policy's threshold); empty without one.
    pub cosigned_by: Vec<Cosignature>,
    /// Whose complete history the records are, proven by the checkpoint's map; `None`
    /// when the checkpoint predates the map (the records are proven included, not
    /// complete).
    pub complete: Option<Complete>,
}

/// What a completeness proof established.
#[derive(Debug, Clone)]
pub struct Complete {
    pub client: Personnummer,
    /// How many plans the client has as of the checkpoint (all of them in the bundle).
    pub plans: usize,
}

/// Checks `bundle_json` against `key`: the checkpoint's signature, each record's
/// stored bytes and hash, each inclusion proof against the signed root, that each
/// plan's records run from version 1 without a gap, and that every payload decodes.
pub fn verify(bundle_json: &str, key: &CheckpointVerifier) -> Result<Proven, BundleError> {
    verify_since(bundle_json, key, None)
}

/// [`verify`], and, when the bundle carries a consistency proof, that its log extends
/// the earlier checkpoint the proof starts from (signed by `key` too). With `since`
/// (the note text of a checkpoint the inspector holds, e.g. from an earlier
/// inspection), the bundle must carry the proof from exactly that checkpoint.
pub fn verify_since(
    bundle_json: &str,
    key: &CheckpointVerifier,
    since: Option<&str>,
) -> Result<Proven, BundleError> {
    verify_with(bundle_json, key, since, None)
}

/// [`verify_since`], and with `client`, that the bundle is about that client (its
/// completeness proof names them, or, for a checkpoint without a map, every plan's
/// order does).
pub fn verify_with(
    bundle_json: &str,
    key: &CheckpointVerifier,
    since: Option<&str>,
    client: Option<&Personnummer>,
) -> Result<Proven, BundleError> {
    verify_witnessed(bundle_json, key, since, client, None)
}

/// [`verify_with`], and with `witnesses`, that the bundle's checkpoint meets that witness
/// policy (`FORMAT.md` §13.5): valid cosignatures by at least K of its witnesses, and no
/// forged one by any of them.
pub fn verify_witnessed(
    bundle_json: &str,
    key: &CheckpointVerifier,
    since: Option<&str>,
    client: Option<&Personnummer>,
    witnesses: Option<&WitnessPolicy>,
) -> Result<Proven, BundleError> {
    // A key given twice would be read as its last value by serde_json, silently.
    planledger_plan::json::check_duplicate_keys(bundle_json).map_err(|e| {
        BundleError::Malformed {
            reason: e.to_string(),
        }
    })?;
    let bundle: Bundle = serde_json::from_str(bundle_json).map_err(|e| BundleError::Malformed {
        reason: planledger_plan::json::redact(&e.to_string()),
    })?;
    if bundle.format != BUNDLE_FORMAT {
        return Err(BundleError::UnknownFormat {
            found: bundle.format,
        });
    }
    let checkpoint = Checkpoint::verify(&bundle.checkpoint, std::slice::from_ref(key))?;
    let cosigned_by = match witnesses {
        Some(policy) => policy
            .check(&bundle.checkpoint)
            .map_err(BundleError::Witnesses)?,
        None => Vec::new(),
    };
    let extends = match &bundle.consistency {
        Some(c) => Some(check_consistency(c, &checkpoint, key)?),
        None => None,
    };
    if let Some(since) = since {
        let held = Checkpoint::verify(since, std::slice::from_ref(key))?;
        if held.size > checkpoint.size {
            return Err(BundleError::Stale {
                size: checkpoint.size,
                held: held.size,
            });
        }
        let proven_from = extends.as_ref().map(|e| (e.size, e.root));
        if proven_from != Some((held.size, held.root)) {
            return Err(BundleError::NoProofSince { size: held.size });
        }
    }
    if bundle.records.is_empty() {
        return Err(BundleError::Empty);
    }
    let weedings = prove_weedings(&bundle.weedings, &checkpoint)?;
    let data_keys = parse_data_keys(&bundle.data_keys)?;
    let mut used_keys = std::collections::BTreeSet::new();
    let mut decrypted = 0;
    let mut by_plan: BTreeMap<String, BTreeMap<u64, (Record, Option<Event>)>> = BTreeMap::new();
    for entry in &bundle.records {
        let position = entry.position;
        let bad = |reason: String| BundleError::Record { position, reason };
        // Proven as stored (the ciphertext is what the chain and the proof hash), then
        // opened when the bundle carries its key: the opened record keeps the stored
        // bytes, so every later hash (the map's `last`) is still the stored record's.
        let mut record = prove_record(entry, &checkpoint)?;
        if let Some(key) = data_keys.get(&record.entry().envelope.key_id) {
            let e = record.entry();
            let plain = open_payload(
                key,
                &e.envelope.nonce,
                &e.payload,
                &payload_ad(&e.stream_id, e.stream_version, &e.event_type),
            )
            .ok_or(BundleError::Undecryptable { position })?;
            used_keys.insert(e.envelope.key_id.clone());
            record = record.with_opened_payload(plain);
            decrypted += 1;
        }
        let event = if record.entry().envelope.is_plaintext() {
            let event = Event::decode_versioned(record.entry().schema_version, record.payload())
                .map_err(|e| bad(format!("the payload does not decode: {e}")))?;
            if event.event_type() != record.event_type() {
                return Err(bad(format!(
                    "the record is typed {} but its payload is {}",
                    record.event_type(),
                    event.event_type()
                )));
            }
            Some(event)
        } else {
            // Sealed: shown only as weeded, under a weeding of its key and plan.
            let key = hex(&record.entry().envelope.key_id);
            let covered = weedings
                .iter()
                .any(|(_, w)| w.key_id == key && w.plans.iter().any(|p| p == record.stream_id()));
            if !covered {
                return Err(BundleError::Sealed { position });
            }
            None
        };
        let stream = by_plan.entry(record.stream_id().to_owned()).or_default();
        if stream
            .insert(record.stream_version(), (record, event))
            .is_some()
        {
            return Err(bad(
                "the bundle holds this plan's stream version twice".into()
            ));
        }
    }
    if used_keys.len() != data_keys.len() {
        // A key that opens nothing in the bundle is another client's (or no one's): a
        // bundle discloses the client's records and nothing more.
        return Err(BundleError::DataKeys {
            reason: "it holds a key that no record of the bundle is encrypted under".into(),
        });
    }
    let mut all = Vec::with_capacity(bundle.records.len());
    for (plan, stream) in by_plan {
        for (expected, (version, _)) in (1u64..).zip(&stream) {
            if *version != expected {
                return Err(BundleError::Gap {
                    plan,
                    missing: expected,
                });
            }
        }
        all.extend(stream.into_values());
    }
    let (mut records, mut weeded) = (Vec::new(), Vec::<WeededPlan>::new());
    for (record, event) in &all {
        match event {
            Some(event) => records.push(ProvenRecord {
                record: record.clone(),
                event: event.clone(),
            }),
            None => match weeded.last_mut() {
                Some(w) if w.plan == record.stream_id() => w.records.push(record.clone()),
                _ => {
                    let (weeding, w) = weedings
                        .iter()
                        .find(|(_, w)| w.plans.iter().any(|p| p == record.stream_id()))
                        .expect("every sealed record's weeding was found above");
                    let on =
                        DateTime::<Utc>::from_timestamp_micros(weeding.entry().claimed_at_micros)
                            .map(planledger_plan::swedish_date)
                            .ok_or_else(|| BundleError::Weeding {
                                position: weeding.position(),
                                reason: "its time is out of range".into(),
                            })?;
                    weeded.push(WeededPlan {
                        plan: record.stream_id().to_owned(),
                        records: vec![record.clone()],
                        weeding: weeding.clone(),
                        on,
                        rule: w.rule.clone(),
                        decision: w.decision.clone(),
                        last_entry: w.last_entry.clone(),
                    });
                }
            },
        }
    }
    for (weeding, _) in &weedings {
        if !weeded
            .iter()
            .any(|w| w.weeding.position() == weeding.position())
        {
            return Err(BundleError::Weeding {
                position: weeding.position(),
                reason: "it weeded none of the plans whose records the bundle holds sealed".into(),
            });
        }
    }
    let complete = match (&checkpoint.map_root, &bundle.completeness) {
        (None, None) => None,
        (None, Some(_)) => return Err(BundleError::NoMap),
        (Some(_), None) => return Err(BundleError::NoCompleteness),
        (Some(root), Some(c)) => Some(check_completeness(c, root, &all)?),
    };
    if let Some(wanted) = client {
        let about_wanted = match &complete {
            Some(c) => c.client == *wanted,
            None => records.iter().all(|r| match &r.event {
                Event::OrderReceived(o) => o.client == *wanted,
                _ => true,
            }),
        };
        if !about_wanted {
            return Err(BundleError::NotTheClient);
        }
    }
    Ok(Proven {
        checkpoint,
        records,
        weeded,
        decrypted,
        extends,
        cosigned_by,
        complete,
    })
}

/// `entry`'s record, once its bytes parse, its position is the one given, and its
/// inclusion proof leads to `checkpoint`'s root.
fn prove_record(entry: &BundleRecord, checkpoint: &Checkpoint) -> Result<Record, BundleError> {
    let position = entry.position;
    let bad = |reason: String| BundleError::Record { position, reason };
    let bytes = B64
        .decode(&entry.record)
        .map_err(|_| bad("the record is not valid base64".into()))?;
    let record =
        Record::decode(bytes).map_err(|e| bad(format!("the bytes are not a record: {e}")))?;
    if record.position() != position {
        return Err(bad(format!(
            "the record's bytes say position {}",
            record.position()
        )));
    }
    let path = entry
        .proof
        .iter()
        .map(|h| Hash::from_hex(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("a proof hash is not a hash: {e}")))?;
    let proof = InclusionProof {
        index: position,
        size: checkpoint.size,
        path,
    };
    proof
        .verify(&record.hash(), &checkpoint.root)
        .map_err(|source| BundleError::Proof { position, source })?;
    Ok(record)
}

/// `data_keys` parsed: key id bytes to key. Only the member's name and rule are said
/// when it is malformed, never a value (a key is a secret).
fn parse_data_keys(
    keys: &BTreeMap<String, String>,
) -> Result<BTreeMap<Vec<u8>, [u8; DATA_KEY_LEN]>, BundleError> {
    let bad = |reason: &str| BundleError::DataKeys {
        reason: reason.to_owned(),
    };
    let mut out = BTreeMap::new();
    for (id, key) in keys {
        let id = unhex(id)
            .filter(|b| b.len() == KEY_ID_LEN)
            .ok_or_else(|| bad("a key id is not 32 lowercase hex digits"))?;
        let key: [u8; DATA_KEY_LEN] = unhex(key)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("a key is not 64 lowercase hex digits"))?;
        out.insert(id, key);
    }
    Ok(out)
}

/// Lowercase hex to bytes; `None` for anything else (upper case included, so that one
/// key id has one spelling).
fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// An encrypted payload opened (FORMAT.md §9: XChaCha20-Poly1305, the record's nonce,
/// the associated data of its stream, version and event type); `None` when the tag does
/// not verify.
fn open_payload(key: &[u8; DATA_KEY_LEN], nonce: &[u8], ct: &[u8], ad: &[u8]) -> Option<Vec<u8>> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    if nonce.len() != NONCE_LEN {
        return None;
    }
    chacha20poly1305::XChaCha20Poly1305::new(key.into())
        .decrypt(
            chacha20poly1305::XNonce::from_slice(nonce),
            Payload { msg: ct, aad: ad },
        )
        .ok()
}

/// The bundle's weedings, each proven included and a plaintext `client_weeded` record
/// of the retention stream.
fn prove_weedings(
    entries: &[BundleRecord],
    checkpoint: &Checkpoint,
) -> Result<Vec<(Record, retention::Weeded)>, BundleError> {
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let record = prove_record(entry, checkpoint)?;
        let e = record.entry();
        if e.stream_id != RETENTION_STREAM
            || e.event_type != CLIENT_WEEDED
            || !e.envelope.is_plaintext()
        {
            return Err(BundleError::Weeding {
                position: entry.position,
                reason:
                    "it is not a weeding (a plaintext client_weeded record of the retention stream)"
                        .into(),
            });
        }
        let w = retention::decode_weeded(&e.payload).ok_or_else(|| BundleError::Weeding {
            position: entry.position,
            reason: "its payload does not decode".into(),
        })?;
        out.push((record, w));
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes written as lowercase hex, or why not.
fn parse_hashes(hex: &[String], what: &str) -> Result<Vec<Hash>, BundleError> {
    hex.iter()
        .map(|h| Hash::from_hex(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| BundleError::Completeness {
            reason: format!("a hash of {what} is not 64 hex digits"),
        })
}

/// Checks `c` against the signed map `root` and the verified `records` (by plan, then
/// stream version, each plan from version 1 without a gap): `FORMAT.md` §11, step 7.
fn check_completeness(
    c: &BundleCompleteness,
    root: &Hash,
    records: &[(Record, Option<Event>)],
) -> Result<Complete, BundleError> {
    let bad = |reason: &str| BundleError::Completeness {
        reason: reason.to_owned(),
    };
    // The number is never repeated in a message, whatever is wrong with it.
    let client = Personnummer::parse(&c.client)
        .ok()
        .filter(|p| p.digits() == c.client)
        .ok_or_else(|| bad("`client` is not a valid personnummer of 12 digits"))?;
    if c.plans.is_empty() {
        return Err(bad("`plans` is empty"));
    }
    if c.plans
        .windows(2)
        .any(|w| w[0].as_bytes() >= w[1].as_bytes())
    {
        return Err(bad(
            "`plans` is not in ascending byte order without repeats",
        ));
    }
    if c.streams.len() != c.plans.len() || c.streams.iter().zip(&c.plans).any(|(s, p)| s.plan != *p)
    {
        return Err(bad(
            "`streams` does not name exactly the plans of `plans`, in order",
        ));
    }
    let salt = Hash::from_hex(&c.salt).map_err(|_| bad("`salt` is not 64 hex digits"))?;
    let value = client_value(&c.plans).map_err(|e| bad(&e.to_string()))?;
    MapProof::verify_inclusion(
        &parse_hashes(&c.client_proof, "`client_proof`")?,
        &client_key(&salt, &client.digits()),
        &value,
        root,
    )
    .map_err(|e| BundleError::Completeness {
        reason: format!(
            "the checkpoint's map does not give the client exactly these plans (a plan of the client left out of `plans`, or another added: {e})"
        ),
    })?;
    let mut lengths = BTreeMap::new();
    for s in &c.streams {
        let last =
            Hash::from_hex(&s.last).map_err(|_| bad("a stream's `last` is not 64 hex digits"))?;
        MapProof::verify_inclusion(
            &parse_hashes(&s.proof, "a stream's `proof`")?,
            &stream_key(&s.plan),
            &stream_value(s.length, &last),
            root,
        )
        .map_err(|e| BundleError::NotAsMapped {
            plan: s.plan.clone(),
            reason: format!(
                "its length and last record are not those the checkpoint's map holds ({e})"
            ),
        })?;
        lengths.insert(s.plan.as_str(), (s.length, last));
    }
    // What the bundle holds of each plan: (records, last version, its hash, first event).
    let mut held: BTreeMap<&str, (u64, Hash, Option<&Event>)> = BTreeMap::new();
    for (record, event) in records {
        let plan = record.stream_id();
        if !lengths.contains_key(plan) {
            return Err(BundleError::Foreign {
                position: record.position(),
                plan: plan.to_owned(),
            });
        }
        let entry = held
            .entry(plan)
            .or_insert((0, record.hash(), event.as_ref()));
        entry.0 = record.stream_version();
        entry.1 = record.hash();
    }
    for (plan, (length, last)) in &lengths {
        let Some((holds, last_held, first)) = held.get(plan) else {
            return Err(BundleError::MissingPlan {
                plan: (*plan).to_owned(),
            });
        };
        if holds < length {
            return Err(BundleError::Truncated {
                plan: (*plan).to_owned(),
                holds: *holds,
                length: *length,
            });
        }
        if holds > length {
            return Err(BundleError::NotAsMapped {
                plan: (*plan).to_owned(),
                reason: format!(
                    "the bundle holds {holds} records, the checkpoint's map says the plan had {length}"
                ),
            });
        }
        if last_held != last {
            return Err(BundleError::NotAsMapped {
                plan: (*plan).to_owned(),
                reason: format!(
                    "its record at version {length} is not the one the checkpoint's map holds"
                ),
            });
        }
        match first {
            Some(Event::OrderReceived(o)) if o.client == client => {}
            // A weeded plan's order is sealed (its weeding was checked): the map's proof
            // that the plan is the client's stands alone.
            None => {}
            _ => {
                return Err(BundleError::OtherClient {
                    plan: (*plan).to_owned(),
                });
            }
        }
    }
    Ok(Complete {
        client,
        plans: lengths.len(),
    })
}

/// The earlier checkpoint `c` starts from, once its signature and the proof that
/// `checkpoint`'s log extends it are checked.
fn check_consistency(
    c: &BundleConsistency,
    checkpoint: &Checkpoint,
    key: &CheckpointVerifier,
) -> Result<Checkpoint, BundleError> {
    let old = Checkpoint::verify(&c.from, std::slice::from_ref(key))?;
    let inconsistent = |reason: String| BundleError::Inconsistent {
        old_size: old.size,
        new_size: checkpoint.size,
        reason,
    };
    let path = (c.proof.iter())
        .map(|h| Hash::from_hex(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| inconsistent("a proof hash is not 64 hex digits".into()))?;
    let proof = ConsistencyProof {
        old_size: old.size,
        new_size: checkpoint.size,
        path,
    };
    proof
        .verify(&old.root, &checkpoint.root)
        .map_err(|e| inconsistent(e.to_string()))?;
    Ok(old)
}

/// A checkpoint error without the strings of an unverified note: the signer names of a
/// note that no given key signed come from the bundle, so they are not repeated.
pub fn checkpoint_message(e: &CheckpointError) -> String {
    match e {
        CheckpointError::UnknownKey { signers } => format!(
            "it has no signature by the given key ({} signatures by other keys)",
            signers.len()
        ),
        e => planledger_plan::json::redact(&e.to_string()),
    }
}

/// A UTC timestamp in µs as RFC 3339 (seconds precision).
pub fn format_micros(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| format!("{micros}µs"))
}

/// One line saying what an event recorded, in English ([`report::event_line`] for
/// Swedish). Personnummer are masked (`19640823-****`) unless `show_personnummer`.
pub fn describe_event(event: &Event, show_personnummer: bool) -> String {
    report::event_line(event, report::Lang::En, show_personnummer)
}

/// The plan history a verified bundle proves, as English text for people: the
/// checkpoint, every record with its time in Swedish local time, who and what, each
/// version's content in full, and whether the history is proven complete.
/// [`report::text`], [`report::html`] and [`report::json`] give every form.
pub fn render_history(proven: &Proven, show_personnummer: bool) -> String {
    let o = report::Options {
        show_personnummer,
        ..report::Options::default()
    };
    let mut out = report::history_text(proven, &o);
    for line in report::summary_lines(proven, &o).into_iter().take(2) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The id of the `<script type="application/json">` element that carries the bundle in
/// an HTML complaint dossier (`planledger dossier --out FILE.html`).
pub const DOSSIER_BUNDLE_ID: &str = "planledger-evidence-bundle";

/// The bundle text of `text`: `text` itself, or, when it is an HTML complaint dossier,
/// the bundle embedded in it (`None` for HTML that embeds none). The dossier escapes
/// `</` in the JSON as `<\/`, which is still the same JSON.
pub fn bundle_text(text: &str) -> Option<&str> {
    if !text.trim_start().starts_with('<') {
        return Some(text);
    }
    let open = format!("<script type=\"application/json\" id=\"{DOSSIER_BUNDLE_ID}\">");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find("</script>")?;
    Some(&text[start..end])
}

#[cfg(test)]
mod dossier_tests {
    use super::*;

    #[test]
    fn a_bundle_is_found_in_a_dossier_and_plain_json_is_itself() {
        let html = format!(
            "<!DOCTYPE html><html><body><p>x</p><script type=\"application/json\" id=\"{DOSSIER_BUNDLE_ID}\">{{\"a\":\"<\\/b>\"}}</script></body></html>"
        );
        let json = bundle_text(&html).unwrap();
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["a"], "</b>");
        assert_eq!(bundle_text("{\"x\":1}"), Some("{\"x\":1}"));
        assert_eq!(bundle_text("<html></html>"), None);
    }
}
