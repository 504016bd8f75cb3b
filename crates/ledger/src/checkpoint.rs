//! Checkpoints: signed tree heads in the C2SP `tlog-checkpoint` format, carried in a
//! C2SP `signed-note` with ed25519 signatures (`FORMAT.md` §5 is normative).
//!
//! ```text
//! <origin>\n
//! <tree size, decimal>\n
//! <root hash, base64>\n
//! time <YYYY-MM-DDTHH:MM:SS.ffffffZ>\n
//! \n
//! — <key name> <base64(key id (4 bytes, big-endian) || ed25519 signature (64 bytes))>\n
//! ```
//!
//! The signature covers the note text: the four body lines with their newlines. The key
//! id is the first four bytes of `SHA-256(key name || "\n" || 0x01 || public key)`, as in
//! the signed-note specification; keys are written in the Go `note` package's text
//! forms (`name+hash+base64`). Key generation takes 32 random bytes from the caller:
//! this crate has no randomness of its own.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::Hash;

/// The signature algorithm byte of ed25519 in the signed-note specification.
pub(crate) const ALG_ED25519: u8 = 0x01;

/// The line that starts a signature (U+2014 EM DASH, then a space).
pub(crate) const SIG_PREFIX: &str = "\u{2014} ";

/// A note carries at most this many signatures; more is a malformed note (as in Go's
/// `note` package), which bounds the work an attacker can cause.
const MAX_SIGNATURES: usize = 100;

/// A tree head: the size of the tree and its root. What a checkpoint signs, and what
/// the range verifier checks its recomputed tree against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub root: Hash,
}

/// The body of a checkpoint: whose log, which tree head, and when it was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, conventionally a schema-less URL; also the key name.
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// When the checkpoint was made, µs since 1970-01-01T00:00Z (UTC), from the
    /// caller's clock. Written as the `time` extension line.
    pub time_micros: i64,
    /// The root of the authenticated map of streams and clients (`FORMAT.md` §12) at
    /// `size`, written as the `map` extension line. `None` in checkpoints made before
    /// the map existed: they prove inclusion, not completeness.
    pub map_root: Option<Hash>,
}

/// Why a checkpoint, a signed note or a key is not accepted. Each variant says which
/// part is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    #[error("line {line} of the checkpoint is malformed: {reason}")]
    MalformedLine { line: usize, reason: String },
    #[error("the signed note is malformed: {reason}")]
    MalformedNote { reason: String },
    #[error("the checkpoint has no signature by a known key (signed by: {})", .signers.join(", "))]
    UnknownKey { signers: Vec<String> },
    #[error(
        "the signature by key {key_name} does not verify: the checkpoint or the signature was altered"
    )]
    BadSignature { key_name: String },
    #[error("checkpoint time {time_micros} µs is outside the years 1970 to 9999")]
    TimeOutOfRange { time_micros: i64 },
    #[error("the origin must be non-empty and contain no newline")]
    BadOrigin,
    #[error("key name {name:?} is not allowed: names are non-empty, without spaces or '+'")]
    BadKeyName { name: String },
    #[error("the key text is malformed: {reason}")]
    MalformedKey { reason: String },
}

fn malformed(line: usize, reason: impl Into<String>) -> CheckpointError {
    CheckpointError::MalformedLine {
        line,
        reason: reason.into(),
    }
}

pub(crate) fn bad_key(reason: impl Into<String>) -> CheckpointError {
    CheckpointError::MalformedKey {
        reason: reason.into(),
    }
}

/// Key names as the signed-note specification allows them.
pub(crate) fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '+') {
        return Err(CheckpointError::BadKeyName { name: name.into() });
    }
    Ok(())
}

/// The signed-note key id of an ed25519 public key.
fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    key_id_of(ALG_ED25519, name, public)
}

/// A signed-note key id: the first four bytes of `SHA-256(name || "\n" || alg ||
/// public key)`, big-endian.
pub(crate) fn key_id_of(alg: u8, name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The private half: signs checkpoints. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct CheckpointSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id()))
            .finish_non_exhaustive()
    }
}

/// The public half: verifies checkpoints signed by one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointVerifier {
    name: String,
    key: VerifyingKey,
    key_id: u32,
}

impl CheckpointSigner {
    /// A key named `name` from 32 bytes the caller drew from a cryptographic RNG.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<CheckpointSigner, CheckpointError> {
        check_key_name(name)?;
        Ok(CheckpointSigner {
            name: name.into(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        key_id(&self.name, &self.key.verifying_key().to_bytes())
    }

    pub fn verifier(&self) -> CheckpointVerifier {
        let key = self.key.verifying_key();
        CheckpointVerifier {
            name: self.name.clone(),
            key_id: key_id(&self.name, &key.to_bytes()),
            key,
        }
    }

    /// The key file text: `PRIVATE+KEY+<name>+<key id, 8 hex digits>+<base64(0x01 || seed)>`.
    pub fn to_key_text(&self) -> String {
        private_key_text(&self.name, self.key_id(), ALG_ED25519, &self.key.to_bytes())
    }

    /// Parses [`to_key_text`](Self::to_key_text)'s form (surrounding whitespace ignored).
    pub fn from_key_text(text: &str) -> Result<CheckpointSigner, CheckpointError> {
        let (name, id, seed) = parse_private_key_text(text, ALG_ED25519)?;
        let signer = CheckpointSigner::from_seed(name, seed)?;
        if signer.key_id() != id {
            return Err(bad_key("the key id does not match the name and key"));
        }
        Ok(signer)
    }

    /// Signs `checkpoint`: the signed-note text, ready to publish.
    pub fn sign(&self, checkpoint: &Checkpoint) -> Result<String, CheckpointError> {
        let body = checkpoint.body()?;
        let sig = self.key.sign(body.as_bytes());
        let mut raw = self.key_id().to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{body}\n{SIG_PREFIX}{} {}\n",
            self.name,
            B64.encode(raw)
        ))
    }
}

/// A private key file's text: `PRIVATE+KEY+<name>+<key id, 8 hex digits>+<base64(alg ||
/// seed)>`, for a checkpoint key and a witness key alike.
pub(crate) fn private_key_text(name: &str, key_id: u32, alg: u8, seed: &[u8; 32]) -> String {
    let mut raw = vec![alg];
    raw.extend_from_slice(seed);
    format!("PRIVATE+KEY+{name}+{key_id:08x}+{}", B64.encode(raw))
}

/// Parses [`private_key_text`]'s form for `alg` (surrounding whitespace ignored): the
/// name, the key id it states (the caller checks it against the key) and the seed.
pub(crate) fn parse_private_key_text(
    text: &str,
    alg: u8,
) -> Result<(&str, u32, [u8; 32]), CheckpointError> {
    let rest = text
        .trim()
        .strip_prefix("PRIVATE+KEY+")
        .ok_or_else(|| bad_key("a private key starts with PRIVATE+KEY+"))?;
    let (name, id, raw) = split_key_text(rest, alg)?;
    let seed: [u8; 32] = raw
        .try_into()
        .map_err(|_| bad_key("an ed25519 private key is 32 bytes"))?;
    Ok((name, id, seed))
}

/// `name+hash+base64` → (name, key id, decoded key bytes after the algorithm byte), for a
/// key of the algorithm `alg`.
pub(crate) fn split_key_text(text: &str, alg: u8) -> Result<(&str, u32, Vec<u8>), CheckpointError> {
    // At most three parts: base64 itself may contain '+'.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad_key("a key is written name+hash+base64"));
    };
    check_key_name(name)?;
    if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(bad_key("the key id is 8 lowercase hex digits"));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| bad_key("key id is not hex"))?;
    let raw = B64
        .decode(b64)
        .map_err(|_| bad_key("the key is not valid base64"))?;
    let kind = |a: u8| match a {
        ALG_ED25519 => "a log's checkpoint key (ed25519, algorithm 1)",
        crate::witness::ALG_COSIGNATURE_V1 => {
            "a witness key (cosignature/v1 with ed25519, algorithm 4)"
        }
        _ => "of an algorithm planledger does not know",
    };
    match raw.split_first() {
        Some((&found, key)) if found == alg => Ok((name, id, key.to_vec())),
        Some((&found, _)) => Err(bad_key(format!(
            "the key is {}, where {} is needed",
            kind(found),
            kind(alg)
        ))),
        None => Err(bad_key("the key is empty")),
    }
}

impl CheckpointVerifier {
    /// Parses a verifier key: `<name>+<key id, 8 hex digits>+<base64(0x01 || public key)>`.
    pub fn from_text(text: &str) -> Result<CheckpointVerifier, CheckpointError> {
        let (name, id, raw) = split_key_text(text.trim(), ALG_ED25519)?;
        let public: [u8; 32] = raw
            .try_into()
            .map_err(|_| bad_key("an ed25519 public key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| bad_key("not a valid ed25519 public key"))?;
        if key_id(name, &public) != id {
            return Err(bad_key("the key id does not match the name and key"));
        }
        Ok(CheckpointVerifier {
            name: name.into(),
            key,
            key_id: id,
        })
    }

    pub fn to_text(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }
}

impl Checkpoint {
    pub fn tree_head(&self) -> TreeHead {
        TreeHead {
            size: self.size,
            root: self.root,
        }
    }

    /// The note text the signature covers: four lines (five with the map root), each
    /// ending in `\n`.
    pub fn body(&self) -> Result<String, CheckpointError> {
        if self.origin.is_empty() || self.origin.contains('\n') {
            return Err(CheckpointError::BadOrigin);
        }
        let map = match &self.map_root {
            Some(root) => format!("map {}\n", B64.encode(root.0)),
            None => String::new(),
        };
        Ok(format!(
            "{}\n{}\n{}\ntime {}\n{map}",
            self.origin,
            self.size,
            B64.encode(self.root.0),
            format_time(self.time_micros)?
        ))
    }

    /// Parses the note text (the body) of a checkpoint. Line numbers in errors count
    /// from 1.
    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let Some(text) = body.strip_suffix('\n') else {
            return Err(CheckpointError::MalformedNote {
                reason: "the note text does not end with a newline".into(),
            });
        };
        let lines: Vec<&str> = text.split('\n').collect();
        let origin = lines[0];
        if origin.is_empty() {
            return Err(malformed(1, "the origin is empty"));
        }
        let size_line = lines
            .get(1)
            .ok_or_else(|| malformed(2, "missing tree size"))?;
        let canonical_decimal = !size_line.is_empty()
            && size_line.bytes().all(|b| b.is_ascii_digit())
            && (size_line.len() == 1 || !size_line.starts_with('0'));
        let size = size_line
            .parse::<u64>()
            .ok()
            .filter(|_| canonical_decimal)
            .ok_or_else(|| {
                malformed(
                    2,
                    "the tree size is not a decimal u64 without leading zeros",
                )
            })?;
        let root_line = lines
            .get(2)
            .ok_or_else(|| malformed(3, "missing root hash"))?;
        let root = B64
            .decode(root_line)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .filter(|b| B64.encode(b) == *root_line)
            .map(Hash)
            .ok_or_else(|| malformed(3, "the root hash is not 32 bytes in padded base64"))?;
        let time_line = lines
            .get(3)
            .ok_or_else(|| malformed(4, "missing time extension line"))?;
        let time_micros = time_line
            .strip_prefix("time ")
            .and_then(parse_time)
            .ok_or_else(|| malformed(4, "expected 'time YYYY-MM-DDTHH:MM:SS.ffffffZ' (UTC)"))?;
        let map_root = match lines.get(4) {
            None => None,
            Some(line) => Some(
                line.strip_prefix("map ")
                    .and_then(|b| B64.decode(b).ok().map(|raw| (b, raw)))
                    .and_then(|(b, raw)| {
                        <[u8; 32]>::try_from(raw)
                            .ok()
                            .filter(|r| B64.encode(r) == b)
                    })
                    .map(Hash)
                    .ok_or_else(|| {
                        malformed(
                            5,
                            "expected 'map <root>', the map root as 32 bytes in padded base64",
                        )
                    })?,
            ),
        };
        if lines.len() > 5 {
            return Err(malformed(6, "unexpected extension line"));
        }
        Ok(Checkpoint {
            origin: origin.into(),
            size,
            root,
            time_micros,
            map_root,
        })
    }

    /// Opens a signed checkpoint: checks the note's form, that at least one signature
    /// is by one of `verifiers` and that every such signature verifies, then parses the
    /// body. Signatures by other keys (witnesses, say) are allowed and ignored.
    pub fn verify(
        note: &str,
        verifiers: &[CheckpointVerifier],
    ) -> Result<Checkpoint, CheckpointError> {
        let note = SignedNote::parse(note)?;
        let mut verified = false;
        for sig in &note.signatures {
            let Some(v) = verifiers
                .iter()
                .find(|v| v.name == sig.name && v.key_id == sig.key_id)
            else {
                continue;
            };
            let bad = || CheckpointError::BadSignature {
                key_name: sig.name.into(),
            };
            let bytes = <[u8; 64]>::try_from(sig.signature.as_slice()).map_err(|_| bad())?;
            v.key
                .verify_strict(note.body.as_bytes(), &Signature::from_bytes(&bytes))
                .map_err(|_| bad())?;
            verified = true;
        }
        if !verified {
            return Err(CheckpointError::UnknownKey {
                signers: note.signatures.iter().map(|s| s.name.into()).collect(),
            });
        }
        Checkpoint::parse_body(note.body)
    }
}

/// A signed note (C2SP `signed-note`, FORMAT.md §6.2) split into the text its signatures
/// cover and its signature lines, with the note's form checked and no signature
/// verified: what [`Checkpoint::verify`] and the witness cosignatures (§13) both read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote<'a> {
    /// The note text, with its final newline (what every signature covers).
    pub body: &'a str,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature<'a>>,
}

/// One signature line of a [`SignedNote`]: `— <name> <base64(key id || signature)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature<'a> {
    /// The key name.
    pub name: &'a str,
    /// The 4-byte key id (big-endian).
    pub key_id: u32,
    /// The bytes after the key id: the signature (for a cosignature, the timestamp and
    /// the signature).
    pub signature: Vec<u8>,
    /// The whole line, without its newline.
    pub line: &'a str,
    /// The line's number in the note, counting from 1.
    pub line_number: usize,
}

impl<'a> NoteSignature<'a> {
    /// Parses one signature line (without its newline), `line_number` being its number
    /// in the note or file it comes from (for the error).
    pub fn parse(line: &'a str, line_number: usize) -> Result<NoteSignature<'a>, CheckpointError> {
        let n = line_number;
        if let Some(c) = line.chars().find(|c| c.is_control()) {
            return Err(malformed(
                n,
                format!(
                    "control character U+{:04X} in a signature line",
                    u32::from(c)
                ),
            ));
        }
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| malformed(n, "a signature line starts with '\u{2014} '"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| malformed(n, "a signature line is '\u{2014} <name> <base64>'"))?;
        check_key_name(name).map_err(|_| malformed(n, "bad key name"))?;
        let raw = B64
            .decode(b64)
            .map_err(|_| malformed(n, "the signature is not valid base64"))?;
        if raw.len() < 5 {
            return Err(malformed(n, "the signature is too short"));
        }
        Ok(NoteSignature {
            name,
            key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            signature: raw[4..].to_vec(),
            line,
            line_number: n,
        })
    }
}

impl<'a> SignedNote<'a> {
    /// Splits `note` at its last blank line and parses the signature lines. A note is
    /// malformed if it holds a control character other than `\n`, if its signature
    /// block does not end with `\n`, if a signature line does not have the form above
    /// (a key name without whitespace or `+`, standard padded base64 of at least 5
    /// bytes), or if it has more than 100 signatures.
    pub fn parse(note: &'a str) -> Result<SignedNote<'a>, CheckpointError> {
        if let Some(c) = note.chars().find(|&c| c.is_control() && c != '\n') {
            return Err(CheckpointError::MalformedNote {
                reason: format!("control character U+{:04X} in the note", u32::from(c)),
            });
        }
        let Some(split) = note.rfind("\n\n") else {
            return Err(CheckpointError::MalformedNote {
                reason: "no blank line separates the text from the signatures".into(),
            });
        };
        let (body, sigs) = (&note[..split + 1], &note[split + 2..]);
        let body_lines = body.matches('\n').count();
        let Some(sigs) = sigs.strip_suffix('\n') else {
            return Err(CheckpointError::MalformedNote {
                reason: "the signatures do not end with a newline".into(),
            });
        };
        let mut signatures = Vec::new();
        for (i, line) in sigs.split('\n').enumerate() {
            // Body lines, the blank line, then this one.
            let n = body_lines + 2 + i;
            if i >= MAX_SIGNATURES {
                return Err(malformed(n, "more than 100 signatures"));
            }
            signatures.push(NoteSignature::parse(line, n)?);
        }
        Ok(SignedNote { body, signatures })
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// 10000-01-01T00:00Z: the first instant the fixed four-digit year cannot write.
const TIME_LIMIT: i64 = 253_402_300_800_000_000;

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always 27 characters: one text per instant.
fn format_time(micros: i64) -> Result<String, CheckpointError> {
    if !(0..TIME_LIMIT).contains(&micros) {
        return Err(CheckpointError::TimeOutOfRange {
            time_micros: micros,
        });
    }
    let (y, mo, d) = civil_from_days(micros / MICROS_PER_DAY);
    let t = micros % MICROS_PER_DAY;
    let (s, frac) = (t / 1_000_000, t % 1_000_000);
    Ok(format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    ))
}

/// The inverse of [`format_time`]; anything but its exact output is rejected.
fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 27 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec, frac) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let micros =
        days_from_civil(y, mo, d) * MICROS_PER_DAY + (h * 3600 + mi * 60 + sec) * 1_000_000 + frac;
    // The round trip rejects separators other than the fixed ones and dates such as
    // February 30 that the arithmetic above would silently roll over.
    (format_time(micros).ok()? == s).then_some(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> CheckpointSigner {
        CheckpointSigner::from_seed("example.org/ledger", [7; 32]).unwrap()
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "example.org/ledger".into(),
            size: 42,
            root: Hash([5; 32]),
            time_micros: 1_767_225_600_123_456,
            map_root: None,
        }
    }

    #[test]
    fn signed_checkpoint_round_trips() {
        let s = signer();
        let note = s.sign(&checkpoint()).unwrap();
        assert!(
            note.contains("\ntime 2026-01-01T00:00:00.123456Z\n\n\u{2014} example.org/ledger ")
        );
        assert_eq!(
            Checkpoint::verify(&note, &[s.verifier()]).unwrap(),
            checkpoint()
        );
    }

    #[test]
    fn map_root_line_round_trips_and_old_checkpoints_still_read() {
        let s = signer();
        let with_map = Checkpoint {
            map_root: Some(Hash([9; 32])),
            ..checkpoint()
        };
        let note = s.sign(&with_map).unwrap();
        assert!(note.contains(&format!(
            "\ntime 2026-01-01T00:00:00.123456Z\nmap {}\n\n\u{2014} ",
            B64.encode([9u8; 32])
        )));
        assert_eq!(
            Checkpoint::verify(&note, &[s.verifier()]).unwrap(),
            with_map
        );
        // One signature covers the map root: changing it breaks the signature.
        let altered = note.replacen(&B64.encode([9u8; 32]), &B64.encode([8u8; 32]), 1);
        assert!(matches!(
            Checkpoint::verify(&altered, &[s.verifier()]),
            Err(CheckpointError::BadSignature { .. })
        ));
        // A checkpoint without the line reads as one without a map.
        let old = s.sign(&checkpoint()).unwrap();
        assert_eq!(
            Checkpoint::verify(&old, &[s.verifier()]).unwrap().map_root,
            None
        );
    }

    #[test]
    fn key_texts_round_trip_and_check_their_id() {
        let s = signer();
        let t = s.to_key_text();
        assert!(t.starts_with("PRIVATE+KEY+example.org/ledger+"));
        assert_eq!(
            CheckpointSigner::from_key_text(&t).unwrap().verifier(),
            s.verifier()
        );
        let v = s.verifier().to_text();
        assert_eq!(CheckpointVerifier::from_text(&v).unwrap(), s.verifier());
        // Another name with the same key has another id.
        let forged = v.replacen("example.org/ledger", "example.org/other", 1);
        assert!(matches!(
            CheckpointVerifier::from_text(&forged),
            Err(CheckpointError::MalformedKey { .. })
        ));
        assert!(CheckpointSigner::from_seed("has space", [1; 32]).is_err());
        assert!(CheckpointSigner::from_seed("a+b", [1; 32]).is_err());
    }

    #[test]
    fn key_text_whose_base64_contains_plus_parses() {
        let mut seed = [0u8; 32];
        for (i, b) in seed.iter_mut().enumerate() {
            *b = i as u8;
        }
        let s = CheckpointSigner::from_seed("example.org/planledger-test", seed).unwrap();
        let v = s.verifier().to_text();
        let b64 = v.splitn(3, '+').nth(2).unwrap();
        assert!(b64.contains('+'), "this key's base64 must contain '+': {v}");
        assert_eq!(CheckpointVerifier::from_text(&v).unwrap(), s.verifier());
    }

    #[test]
    fn altered_checkpoint_fails_its_signature() {
        let s = signer();
        let note = s.sign(&checkpoint()).unwrap();
        let altered = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            Checkpoint::verify(&altered, &[s.verifier()]),
            Err(CheckpointError::BadSignature {
                key_name: "example.org/ledger".into()
            })
        );
    }

    #[test]
    fn checkpoint_by_another_key_is_unknown() {
        let other = CheckpointSigner::from_seed("example.org/ledger", [8; 32]).unwrap();
        let note = other.sign(&checkpoint()).unwrap();
        assert_eq!(
            Checkpoint::verify(&note, &[signer().verifier()]),
            Err(CheckpointError::UnknownKey {
                signers: vec!["example.org/ledger".into()]
            })
        );
    }

    #[test]
    fn extra_witness_signature_is_ignored() {
        let s = signer();
        let w = CheckpointSigner::from_seed("witness.example", [9; 32]).unwrap();
        let note = s.sign(&checkpoint()).unwrap();
        let wnote = w.sign(&checkpoint()).unwrap();
        let wline = wnote.rsplit_once("\n\n").unwrap().1;
        let both = format!("{note}{wline}");
        assert_eq!(
            Checkpoint::verify(&both, &[s.verifier()]).unwrap(),
            checkpoint()
        );
        assert_eq!(
            Checkpoint::verify(&both, &[w.verifier()]).unwrap(),
            checkpoint()
        );
    }

    #[test]
    fn malformed_lines_are_named_by_number() {
        let s = signer();
        let good = s.sign(&checkpoint()).unwrap();
        let cases = [
            (good.replacen("\n42\n", "\n042\n", 1), 2),
            (good.replacen("\n42\n", "\n-1\n", 1), 2),
            (good.replacen("time 2026-01-01", "time 2026-02-30", 1), 4),
            (good.replacen("time ", "tid ", 1), 4),
            (good.replacen("\n\n\u{2014}", "\nextra\n\n\u{2014}", 1), 5),
            (
                good.replacen("\n\n\u{2014}", "\nmap AAAA\n\n\u{2014}", 1),
                5,
            ),
            (
                good.replacen(
                    "\n\n\u{2014}",
                    &format!("\nmap {}\nextra\n\n\u{2014}", B64.encode([0u8; 32])),
                    1,
                ),
                6,
            ),
            (good.replacen("\u{2014} ", "- ", 1), 6),
        ];
        for (note, line) in cases {
            // Body parsing happens after the signature check, so re-sign altered bodies.
            let body = &note[..note.rfind("\n\n").unwrap() + 1];
            let err = match Checkpoint::parse_body(body) {
                Err(e) => e,
                Ok(_) => Checkpoint::verify(&note, &[s.verifier()]).unwrap_err(),
            };
            assert!(
                matches!(err, CheckpointError::MalformedLine { line: l, .. } if l == line),
                "{note:?}: {err}"
            );
        }
        let root_b64 = B64.encode([5u8; 32]);
        let body = format!(
            "o\n1\n{}\ntime 2026-01-01T00:00:00.000000Z\n",
            &root_b64[..40]
        );
        assert!(matches!(
            Checkpoint::parse_body(&body),
            Err(CheckpointError::MalformedLine { line: 3, .. })
        ));
    }

    #[test]
    fn time_text_round_trips_and_is_canonical() {
        for micros in [
            0,
            1,
            951_782_400_000_000,
            1_767_225_599_999_999,
            TIME_LIMIT - 1,
        ] {
            let t = format_time(micros).unwrap();
            assert_eq!(parse_time(&t), Some(micros), "{t}");
        }
        assert_eq!(format_time(0).unwrap(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format_time(951_782_400_000_000).unwrap(),
            "2000-02-29T00:00:00.000000Z"
        );
        assert!(format_time(-1).is_err());
        assert_eq!(parse_time("2023-02-29T00:00:00.000000Z"), None);
        assert_eq!(parse_time("2024-01-01T00:00:00.000000z"), None);
        assert_eq!(parse_time("2024-01-01 00:00:00.000000Z"), None);
    }
}
