//! Independent witnesses (`FORMAT.md` §13): cosignatures in the C2SP `tlog-cosignature`
//! form (`cosignature/v1`, Ed25519), the request a log sends a witness in the C2SP
//! `tlog-witness` `add-checkpoint` form (with our blake3 tree's consistency proof), the
//! witness's rule for cosigning, and the witness policy a verifier applies ("these
//! witness keys, at least K of them").
//!
//! A cosignature is one more signature line on a checkpoint note:
//!
//! ```text
//! — <witness name> <base64(key id (4) || timestamp (u64, big-endian) || ed25519 signature (64))>
//! ```
//!
//! signed over `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint's note
//! text. The key id is the first four bytes of `SHA-256(name || "\n" || 0x04 || public
//! key)`. No I/O here: the witness's state and files belong to the application.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::checkpoint::{
    NoteSignature, SIG_PREFIX, SignedNote, bad_key, check_key_name, key_id_of,
    parse_private_key_text, private_key_text, split_key_text,
};
use crate::{CheckpointError, ConsistencyProof, Hash, TreeHead, empty_root};

/// The signature algorithm byte of a `cosignature/v1` Ed25519 key (C2SP
/// `tlog-cosignature`): it enters the key id, so a witness key never matches a log's
/// signature line, nor a log key a cosignature line.
pub(crate) const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The first line of the message a witness signs (domain separation).
pub const COSIGNATURE_V1: &str = "cosignature/v1";

/// The largest timestamp a cosignature may carry (C2SP: at most 2^63 - 1).
pub const MAX_COSIGNATURE_TIME: u64 = i64::MAX as u64;

/// A request may carry at most this many consistency proof lines (C2SP `tlog-witness`).
pub const MAX_PROOF_LINES: usize = 63;

/// Bytes of a cosignature after the key id: the timestamp and the Ed25519 signature.
const COSIGNATURE_BYTES: usize = 8 + 64;

/// What a witness signs: `cosignature/v1\ntime <timestamp>\n` and the checkpoint's note
/// text (`body`, ending in `\n`, without the blank line and signatures).
pub fn cosigned_message(body: &str, timestamp: u64) -> String {
    format!("{COSIGNATURE_V1}\ntime {timestamp}\n{body}")
}

/// Why a cosignature, a witness policy or a witness request is not accepted. Each
/// variant names the part and the rule; none repeats a value read from the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignatureError {
    /// The note (or a key text) is malformed.
    #[error(transparent)]
    Note(#[from] CheckpointError),
    #[error(
        "line {line} of the checkpoint: the cosignature by witness key {key_name} is not {} bytes (key id, 8-byte timestamp, 64-byte signature)",
        4 + COSIGNATURE_BYTES
    )]
    MalformedCosignature { line: usize, key_name: String },
    #[error(
        "line {line} of the checkpoint: the cosignature by witness key {key_name} has a timestamp beyond 2^63 - 1 seconds"
    )]
    TimeOutOfRange { line: usize, key_name: String },
    #[error(
        "the cosignature by witness key {key_name} does not verify: the checkpoint or the cosignature was altered"
    )]
    BadCosignature { key_name: String },
    #[error(
        "the checkpoint carries valid cosignatures by {found} of the {keys} witness keys of the policy; the policy needs at least {threshold}"
    )]
    TooFew {
        found: usize,
        threshold: usize,
        keys: usize,
    },
    #[error("witness policy: {reason}")]
    BadPolicy { reason: String },
    #[error("the body text to cosign is empty or does not end with a newline")]
    BadBody,
}

/// A valid cosignature: by which witness key, and when the witness made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    pub key_name: String,
    pub key_id: u32,
    /// POSIX seconds (C2SP `timestamped_signature.timestamp`).
    pub timestamp: u64,
}

/// A witness's private key: cosigns checkpoints. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct WitnessSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for WitnessSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitnessSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id()))
            .finish_non_exhaustive()
    }
}

/// A witness's public key: verifies its cosignatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessVerifier {
    name: String,
    key: VerifyingKey,
    key_id: u32,
}

impl WitnessSigner {
    /// A witness key named `name` from 32 bytes the caller drew from a cryptographic RNG.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<WitnessSigner, CheckpointError> {
        check_key_name(name)?;
        Ok(WitnessSigner {
            name: name.into(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        key_id_of(
            ALG_COSIGNATURE_V1,
            &self.name,
            &self.key.verifying_key().to_bytes(),
        )
    }

    pub fn verifier(&self) -> WitnessVerifier {
        WitnessVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            key_id: self.key_id(),
        }
    }

    /// The key file text: `PRIVATE+KEY+<name>+<key id, 8 hex digits>+<base64(0x04 || seed)>`.
    pub fn to_key_text(&self) -> String {
        private_key_text(
            &self.name,
            self.key_id(),
            ALG_COSIGNATURE_V1,
            &self.key.to_bytes(),
        )
    }

    /// Parses [`to_key_text`](Self::to_key_text)'s form (surrounding whitespace ignored).
    pub fn from_key_text(text: &str) -> Result<WitnessSigner, CheckpointError> {
        let (name, id, seed) = parse_private_key_text(text, ALG_COSIGNATURE_V1)?;
        let signer = WitnessSigner::from_seed(name, seed)?;
        if signer.key_id() != id {
            return Err(bad_key("the key id does not match the name and key"));
        }
        Ok(signer)
    }

    /// The cosignature line (with its final `\n`) over the checkpoint note text `body`
    /// at `timestamp` (POSIX seconds): append it to the note's signature lines.
    pub fn cosign(&self, body: &str, timestamp: u64) -> Result<String, CosignatureError> {
        if body.is_empty() || !body.ends_with('\n') {
            return Err(CosignatureError::BadBody);
        }
        if timestamp > MAX_COSIGNATURE_TIME {
            return Err(CosignatureError::TimeOutOfRange {
                line: 0,
                key_name: self.name.clone(),
            });
        }
        let sig = self.key.sign(cosigned_message(body, timestamp).as_bytes());
        let mut raw = self.key_id().to_be_bytes().to_vec();
        raw.extend_from_slice(&timestamp.to_be_bytes());
        raw.extend_from_slice(&sig.to_bytes());
        Ok(format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw)))
    }
}

impl WitnessVerifier {
    /// Parses a witness verifier key: `<name>+<key id, 8 hex digits>+<base64(0x04 ||
    /// public key)>` (a C2SP vkey of signature type 0x04).
    pub fn from_text(text: &str) -> Result<WitnessVerifier, CheckpointError> {
        let (name, id, raw) = split_key_text(text.trim(), ALG_COSIGNATURE_V1)?;
        let public: [u8; 32] = raw
            .try_into()
            .map_err(|_| bad_key("an ed25519 public key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| bad_key("not a valid ed25519 public key"))?;
        if key_id_of(ALG_COSIGNATURE_V1, name, &public) != id {
            return Err(bad_key("the key id does not match the name and key"));
        }
        Ok(WitnessVerifier {
            name: name.into(),
            key,
            key_id: id,
        })
    }

    pub fn to_text(&self) -> String {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Whether `sig` (a signature line of a note whose text is `body`) is by this key
    /// (same name and key id): `None` if it is not; the cosignature if it is and
    /// verifies (strict Ed25519 verification); an error if it is and does not.
    pub fn check(
        &self,
        body: &str,
        sig: &NoteSignature<'_>,
    ) -> Result<Option<Cosignature>, CosignatureError> {
        if sig.name != self.name || sig.key_id != self.key_id {
            return Ok(None);
        }
        let raw: &[u8; COSIGNATURE_BYTES] = sig.signature.as_slice().try_into().map_err(|_| {
            CosignatureError::MalformedCosignature {
                line: sig.line_number,
                key_name: self.name.clone(),
            }
        })?;
        let (time, signature) = raw.split_at(8);
        let timestamp = u64::from_be_bytes(time.try_into().expect("8 bytes"));
        if timestamp > MAX_COSIGNATURE_TIME {
            return Err(CosignatureError::TimeOutOfRange {
                line: sig.line_number,
                key_name: self.name.clone(),
            });
        }
        let signature =
            Signature::from_bytes(&signature.try_into().expect("64 bytes after the timestamp"));
        self.key
            .verify_strict(cosigned_message(body, timestamp).as_bytes(), &signature)
            .map_err(|_| CosignatureError::BadCosignature {
                key_name: self.name.clone(),
            })?;
        Ok(Some(Cosignature {
            key_name: self.name.clone(),
            key_id: self.key_id,
            timestamp,
        }))
    }

    /// This key's valid cosignature on `note`, if it carries one (the first, if it
    /// carries several); an error if a line by this key does not verify.
    pub fn cosignature_on(&self, note: &str) -> Result<Option<Cosignature>, CosignatureError> {
        let parsed = SignedNote::parse(note)?;
        let mut found = None;
        for sig in &parsed.signatures {
            if let Some(c) = self.check(parsed.body, sig)? {
                found.get_or_insert(c);
            }
        }
        Ok(found)
    }
}

/// A witness policy: these witness keys, and at least `threshold` of them must have
/// cosigned a checkpoint for a verifier to accept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPolicy {
    keys: Vec<WitnessVerifier>,
    threshold: usize,
}

impl WitnessPolicy {
    /// `keys` (at least one, no public key twice: a `cosignature/v1` signature does not
    /// commit to the key name, so one key under two names would count twice) and
    /// `threshold`, between 1 and the number of keys.
    pub fn new(keys: Vec<WitnessVerifier>, threshold: usize) -> Result<Self, CosignatureError> {
        let bad = |reason: String| CosignatureError::BadPolicy { reason };
        if keys.is_empty() {
            return Err(bad("give at least one witness key".into()));
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.key == k.key) {
                return Err(bad(format!(
                    "witness key {} is given twice (the same public key); each witness counts once",
                    i + 1
                )));
            }
        }
        if threshold == 0 || threshold > keys.len() {
            return Err(bad(format!(
                "the threshold must be between 1 and the number of witness keys ({})",
                keys.len()
            )));
        }
        Ok(WitnessPolicy { keys, threshold })
    }

    pub fn keys(&self) -> &[WitnessVerifier] {
        &self.keys
    }

    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// Checks the cosignatures of `note` (a checkpoint, whose log signature the caller
    /// verifies with [`Checkpoint::verify`](crate::Checkpoint::verify)): every
    /// signature line by a policy key must verify, and at least `threshold` distinct
    /// policy keys must have cosigned. Returns one valid cosignature per key that
    /// cosigned, in the policy's key order. Lines by other keys are ignored.
    pub fn check(&self, note: &str) -> Result<Vec<Cosignature>, CosignatureError> {
        let parsed = SignedNote::parse(note)?;
        let mut by_key: Vec<Option<Cosignature>> = vec![None; self.keys.len()];
        for sig in &parsed.signatures {
            for (key, found) in self.keys.iter().zip(by_key.iter_mut()) {
                if let Some(c) = key.check(parsed.body, sig)? {
                    found.get_or_insert(c);
                }
            }
        }
        let valid: Vec<Cosignature> = by_key.into_iter().flatten().collect();
        if valid.len() < self.threshold {
            return Err(CosignatureError::TooFew {
                found: valid.len(),
                threshold: self.threshold,
                keys: self.keys.len(),
            });
        }
        Ok(valid)
    }
}

/// A request for a cosignature: the C2SP `tlog-witness` `add-checkpoint` body. The
/// consistency proof is our tree's (RFC 9162 with blake3, `FORMAT.md` §4, §5), from the
/// tree of `old_size` records (the checkpoint the witness last cosigned) to the
/// checkpoint's.
///
/// ```text
/// old <old size>\n
/// <base64 of a proof hash>\n        (0 to 63 lines)
/// \n
/// <the checkpoint's signed note>
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    /// The checkpoint's signed note, signature lines included.
    pub note: String,
}

/// Why a request text is not an `add-checkpoint` body. Line numbers count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("line {line} of the witness request is malformed: {reason}")]
    Malformed { line: usize, reason: &'static str },
}

impl AddCheckpoint {
    /// The request's text.
    pub fn encode(&self) -> String {
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            out.push_str(&B64.encode(h.0));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.note);
        out
    }

    /// Parses a request's text (the note is not verified here).
    pub fn parse(text: &str) -> Result<AddCheckpoint, RequestError> {
        let bad = |line, reason| RequestError::Malformed { line, reason };
        let (first, mut rest) = text.split_once('\n').ok_or(bad(
            1,
            "the request does not start with an 'old <size>' line",
        ))?;
        let old = first
            .strip_prefix("old ")
            .ok_or(bad(1, "the first line is 'old <size>'"))?;
        let canonical = !old.is_empty()
            && old.bytes().all(|b| b.is_ascii_digit())
            && (old.len() == 1 || !old.starts_with('0'));
        let old_size = old.parse::<u64>().ok().filter(|_| canonical).ok_or(bad(
            1,
            "the old size is not a decimal u64 without leading zeros",
        ))?;
        let mut proof = Vec::new();
        let mut line = 1;
        loop {
            line += 1;
            let (l, after) = rest.split_once('\n').ok_or(bad(
                line,
                "the proof lines must end with an empty line before the checkpoint",
            ))?;
            rest = after;
            if l.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad(line, "more than 63 consistency proof lines"));
            }
            let hash = B64
                .decode(l)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .filter(|b| B64.encode(b) == l)
                .ok_or(bad(
                    line,
                    "a proof line is one 32-byte hash in padded base64",
                ))?;
            proof.push(Hash(hash));
        }
        if rest.is_empty() {
            return Err(bad(
                line + 1,
                "the checkpoint is missing after the empty line",
            ));
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            note: rest.to_owned(),
        })
    }
}

/// Why a witness refuses to cosign a checkpoint whose log signature verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The request's old size is larger than the checkpoint's (C2SP: 400).
    #[error(
        "the request's old size ({old_size}) is larger than the checkpoint's size ({size}); a request proves a later checkpoint from an earlier one"
    )]
    OldSizeTooLarge { old_size: u64, size: u64 },
    /// The request is made from another size than the witness last cosigned (C2SP: 409).
    #[error(
        "this witness last cosigned the checkpoint of {latest} records of this log, and the request proves the checkpoint from {old_size} records; ask for a request made with --old {latest}"
    )]
    OldSizeMismatch { old_size: u64, latest: u64 },
    /// Two histories: the same size with another root (C2SP: 409), or a consistency proof
    /// that does not lead from the cosigned root to the new one (C2SP: 422).
    #[error("refusing a fork of the log: {reason}")]
    Fork { reason: String },
}

/// The witness's rule (C2SP `tlog-witness`): given the tree head it last cosigned for the
/// log (`None` if it never cosigned one) and a request whose checkpoint `new` has a
/// verified log signature, it may cosign only if the request starts from exactly the
/// cosigned size and the proof shows the new tree extends the cosigned one. A witness
/// never moves back: `new.size` is then at least the cosigned size.
pub fn check_request(
    latest: Option<TreeHead>,
    request: &AddCheckpoint,
    new: TreeHead,
) -> Result<(), Refusal> {
    let latest = latest.unwrap_or(TreeHead {
        size: 0,
        root: empty_root(),
    });
    if request.old_size > new.size {
        return Err(Refusal::OldSizeTooLarge {
            old_size: request.old_size,
            size: new.size,
        });
    }
    if request.old_size != latest.size {
        return Err(Refusal::OldSizeMismatch {
            old_size: request.old_size,
            latest: latest.size,
        });
    }
    if new.size == latest.size && new.root != latest.root {
        return Err(Refusal::Fork {
            reason: format!(
                "the checkpoint has the size this witness cosigned ({} records) with another root: two histories of one log",
                new.size
            ),
        });
    }
    let proof = ConsistencyProof {
        old_size: latest.size,
        new_size: new.size,
        path: request.proof.clone(),
    };
    proof.verify(&latest.root, &new.root).map_err(|e| Refusal::Fork {
        reason: format!(
            "the consistency proof from the cosigned checkpoint of {} records to this one of {} does not verify ({e}): this log is not an extension of what this witness cosigned",
            latest.size, new.size
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Checkpoint, CheckpointSigner, MemoryTree, consistency_proof};

    fn log() -> CheckpointSigner {
        CheckpointSigner::from_seed("example.org/ledger", [7; 32]).unwrap()
    }

    fn witness(n: u8) -> WitnessSigner {
        WitnessSigner::from_seed(&format!("witness{n}.example"), [n; 32]).unwrap()
    }

    fn tree(size: u64, salt: u8) -> MemoryTree {
        let mut t = MemoryTree::new();
        for i in 0..size {
            let mut b = i.to_le_bytes().to_vec();
            b.push(salt);
            t.push(Hash(*blake3::hash(&b).as_bytes()));
        }
        t
    }

    fn note_of(t: &MemoryTree) -> String {
        log()
            .sign(&Checkpoint {
                origin: "example.org/ledger".into(),
                size: t.size(),
                root: t.root(),
                time_micros: 1_767_225_600_000_000,
                map_root: None,
            })
            .unwrap()
    }

    fn body(note: &str) -> &str {
        SignedNote::parse(note).unwrap().body
    }

    fn cosigned(note: &str, witnesses: &[WitnessSigner], time: u64) -> String {
        let mut out = note.to_owned();
        for w in witnesses {
            out.push_str(&w.cosign(body(note), time).unwrap());
        }
        out
    }

    #[test]
    fn cosignature_round_trips_and_the_log_signature_still_verifies() {
        let note = note_of(&tree(5, 0));
        let w = witness(1);
        let both = cosigned(&note, std::slice::from_ref(&w), 1_767_225_700);
        let c = w.verifier().cosignature_on(&both).unwrap().unwrap();
        assert_eq!(c.timestamp, 1_767_225_700);
        assert_eq!(c.key_name, "witness1.example");
        // The log's own verification ignores the witness line.
        Checkpoint::verify(&both, &[log().verifier()]).unwrap();
        // The line is '— name base64' of 76 bytes.
        let line = both.lines().last().unwrap();
        let b64 = line.rsplit_once(' ').unwrap().1;
        assert_eq!(B64.decode(b64).unwrap().len(), 76);
        // The key id is that of algorithm 4, not 1.
        let raw = B64.decode(b64).unwrap();
        assert_eq!(u32::from_be_bytes(raw[..4].try_into().unwrap()), w.key_id());
        assert_ne!(
            w.key_id(),
            crate::checkpoint::key_id_of(
                crate::checkpoint::ALG_ED25519,
                w.name(),
                &w.verifier().public_key()
            )
        );
    }

    #[test]
    fn keys_round_trip_and_are_not_confused_with_log_keys() {
        let w = witness(3);
        let t = w.to_key_text();
        assert_eq!(
            WitnessSigner::from_key_text(&t).unwrap().verifier(),
            w.verifier()
        );
        let v = w.verifier().to_text();
        assert_eq!(WitnessVerifier::from_text(&v).unwrap(), w.verifier());
        // A log key is not a witness key, and the other way round.
        let err = WitnessVerifier::from_text(&log().verifier().to_text()).unwrap_err();
        assert!(err.to_string().contains("a log's checkpoint key"), "{err}");
        assert!(crate::CheckpointVerifier::from_text(&v).is_err());
        assert!(CheckpointSigner::from_key_text(&t).is_err());
        assert!(WitnessSigner::from_key_text(&log().to_key_text()).is_err());
    }

    #[test]
    fn a_policy_counts_distinct_valid_keys_and_refuses_a_forged_one() {
        let note = note_of(&tree(5, 0));
        let (a, b, c) = (witness(1), witness(2), witness(3));
        let policy = WitnessPolicy::new(vec![a.verifier(), b.verifier()], 2).unwrap();
        let two = cosigned(&note, &[a.clone(), b.clone()], 100);
        assert_eq!(policy.check(&two).unwrap().len(), 2);
        // One removed.
        let one = cosigned(&note, std::slice::from_ref(&a), 100);
        assert_eq!(
            policy.check(&one).unwrap_err(),
            CosignatureError::TooFew {
                found: 1,
                threshold: 2,
                keys: 2
            }
        );
        // The same witness twice counts once; an unknown witness not at all.
        let twice = cosigned(&one, &[a.clone(), c.clone()], 200);
        assert!(matches!(
            policy.check(&twice),
            Err(CosignatureError::TooFew { found: 1, .. })
        ));
        // A byte changed in a cosignature: it fails by name.
        let line = b.cosign(body(&note), 100).unwrap();
        let b64 = line.trim_end().rsplit_once(' ').unwrap().1;
        let mut raw = B64.decode(b64).unwrap();
        raw[40] ^= 1;
        let forged = format!("{one}{}", line.replacen(b64, &B64.encode(&raw), 1));
        assert_eq!(
            policy.check(&forged).unwrap_err(),
            CosignatureError::BadCosignature {
                key_name: "witness2.example".into()
            }
        );
        // Its timestamp changed: the signature covers it.
        let mut raw = B64.decode(b64).unwrap();
        raw[11] ^= 1;
        let retimed = format!("{one}{}", line.replacen(b64, &B64.encode(&raw), 1));
        assert!(matches!(
            policy.check(&retimed),
            Err(CosignatureError::BadCosignature { .. })
        ));
        // A cosignature of another checkpoint does not carry over.
        let other = note_of(&tree(6, 0));
        let moved = format!("{one}{}", b.cosign(body(&other), 100).unwrap());
        assert!(matches!(
            policy.check(&moved),
            Err(CosignatureError::BadCosignature { .. })
        ));
        // 1 of 2 accepts one.
        let lenient = WitnessPolicy::new(vec![a.verifier(), b.verifier()], 1).unwrap();
        assert_eq!(lenient.check(&one).unwrap()[0].key_name, "witness1.example");
    }

    #[test]
    fn a_policy_must_be_satisfiable_and_count_each_key_once() {
        let (a, b) = (witness(1), witness(2));
        assert!(WitnessPolicy::new(vec![], 1).is_err());
        assert!(WitnessPolicy::new(vec![a.verifier()], 0).is_err());
        assert!(WitnessPolicy::new(vec![a.verifier()], 2).is_err());
        assert!(WitnessPolicy::new(vec![a.verifier(), a.verifier()], 1).is_err());
        // The same public key under another name would count twice.
        let renamed = WitnessSigner::from_seed("other.example", [1; 32]).unwrap();
        assert!(WitnessPolicy::new(vec![a.verifier(), renamed.verifier()], 2).is_err());
        assert!(WitnessPolicy::new(vec![a.verifier(), b.verifier()], 2).is_ok());
    }

    #[test]
    fn requests_round_trip_and_malformed_ones_are_named_by_line() {
        let t = tree(7, 0);
        let req = AddCheckpoint {
            old_size: 3,
            proof: consistency_proof(&t, 3, 7).unwrap().path,
            note: note_of(&t),
        };
        let text = req.encode();
        assert!(text.starts_with("old 3\n"));
        assert_eq!(AddCheckpoint::parse(&text).unwrap(), req);
        let line_of = |text: &str| match AddCheckpoint::parse(text) {
            Err(RequestError::Malformed { line, .. }) => line,
            Ok(_) => panic!("accepted {text:?}"),
        };
        assert_eq!(line_of(&text.replacen("old 3", "old 03", 1)), 1);
        assert_eq!(line_of(&text.replacen("old 3", "size 3", 1)), 1);
        assert_eq!(line_of("old 3"), 1);
        assert_eq!(line_of(&text.replacen("=\n", "\n", 1)), 2);
        assert_eq!(line_of("old 0\n"), 2);
        assert_eq!(line_of("old 0\n\n"), 3);
        let many = format!(
            "old 1\n{}\n{}",
            format!("{}\n", B64.encode([0u8; 32])).repeat(64),
            req.note
        );
        assert_eq!(line_of(&many), 65);
    }

    #[test]
    fn a_witness_cosigns_extensions_only_and_never_moves_back() {
        let (a7, a9) = (tree(7, 0), tree(9, 0));
        let head = |t: &MemoryTree| TreeHead {
            size: t.size(),
            root: t.root(),
        };
        let req = |old: u64, t: &MemoryTree, from: &MemoryTree| AddCheckpoint {
            old_size: old,
            proof: consistency_proof(from, old, t.size()).unwrap().path,
            note: note_of(t),
        };
        // First contact: from 0, an empty proof.
        check_request(None, &req(0, &a7, &a7), head(&a7)).unwrap();
        // An extension.
        check_request(Some(head(&a7)), &req(7, &a9, &a9), head(&a9)).unwrap();
        // The same checkpoint again.
        check_request(Some(head(&a7)), &req(7, &a7, &a7), head(&a7)).unwrap();
        // From another size than cosigned.
        assert_eq!(
            check_request(Some(head(&a7)), &req(0, &a9, &a9), head(&a9)),
            Err(Refusal::OldSizeMismatch {
                old_size: 0,
                latest: 7
            })
        );
        // Backwards: the request's old size is above the checkpoint's.
        let mut back = req(7, &a7, &a7);
        back.old_size = 9;
        assert!(matches!(
            check_request(Some(head(&a9)), &back, head(&a7)),
            Err(Refusal::OldSizeTooLarge { .. })
        ));
        // A fork of the same size.
        let b7 = tree(7, 1);
        assert!(matches!(
            check_request(Some(head(&a7)), &req(7, &b7, &b7), head(&b7)),
            Err(Refusal::Fork { .. })
        ));
        // A fork of a larger size: its own proof is consistent with its own history,
        // not with what the witness cosigned.
        let b9 = tree(9, 1);
        let err = check_request(Some(head(&a7)), &req(7, &b9, &b9), head(&b9)).unwrap_err();
        assert!(err.to_string().contains("does not verify"), "{err}");
        // A proof with a hash changed.
        let mut bent = req(7, &a9, &a9);
        bent.proof[0].0[0] ^= 1;
        assert!(matches!(
            check_request(Some(head(&a7)), &bent, head(&a9)),
            Err(Refusal::Fork { .. })
        ));
    }
}
