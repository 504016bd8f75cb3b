//! The record: an event sealed at a global position, chained to its predecessor.
//!
//! Layout version 2, the one written (all integers little-endian; `FORMAT.md` §2 is
//! normative and also specifies layout 1, which stays readable and verifiable):
//!
//! | field           | encoding                                          |
//! |-----------------|---------------------------------------------------|
//! | format_version  | u16 = 2                                           |
//! | position        | u64                                               |
//! | prev_hash       | 32 bytes                                          |
//! | stream_version  | u64 (first event of a stream: 1)                  |
//! | sealed_at       | i64 µs, the store's clock; never below the predecessor's |
//! | claimed_at      | i64 µs, when the entry says it happened           |
//! | schema_version  | u16                                               |
//! | stream_id       | str8  (u8 length + UTF-8)                         |
//! | actor_id        | str8                                              |
//! | actor_role      | str8                                              |
//! | event_type      | str8                                              |
//! | command_id      | str8 (empty: no id)                               |
//! | key_id          | bytes8 (u8 length; empty = plaintext)             |
//! | nonce           | bytes8                                            |
//! | payload         | bytes32 (u32 length)                              |
//!
//! Layout 1 has one time, `recorded_at`, where layout 2 has `sealed_at`, supplied by
//! whoever wrote the record: it is read as the claimed time, and such a record has no
//! sealing time. It has no `command_id`.
//!
//! The record hash is `blake3(RECORD_DOMAIN || stored bytes)`. Nothing may follow the
//! payload: trailing bytes are a format error, so one hash has exactly one encoding.

use crate::Hash;

/// The record layout version this crate writes.
pub const FORMAT_VERSION: u16 = 2;

/// The first layout, read and verified but no longer written (see [`seal_layout1`]).
pub const LAYOUT_1: u16 = 1;

/// Domain separation for record hashes: no record hash can be confused with a Merkle
/// leaf (prefix 0x00) or node (prefix 0x01), nor with a hash of another protocol. The
/// layout version is the first field of the hashed bytes, so one prefix serves both.
pub(crate) const RECORD_DOMAIN: &[u8] = b"planledger/record/v1\0";

/// Who caused an event: a user id and the role they acted in. Opaque to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    pub user_id: String,
    pub role: String,
}

/// Room for an encrypted payload. Empty `key_id` means the payload is plaintext.
///
/// A later step encrypts each client's personal data under a key of its own; weeding
/// destroys the key. Because the chain hashes the stored (encrypted) bytes, it still
/// verifies after the key is gone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Envelope {
    pub key_id: Vec<u8>,
    pub nonce: Vec<u8>,
}

impl Envelope {
    pub fn plaintext() -> Envelope {
        Envelope::default()
    }

    pub fn is_plaintext(&self) -> bool {
        self.key_id.is_empty()
    }
}

/// The associated data of an encrypted payload (FORMAT.md §9): the prefix
/// `planledger/payload/v1\0`, then `stream_id` and `event_type` each as a u32
/// little-endian length and its bytes, and `stream_version` as u64 little-endian, in the
/// order stream id, stream version, event type. One definition for the writer (the
/// application's key store wrapper) and every reader (`verify-bundle` opening a bundle's
/// records), so that a ciphertext moved to another record opens for neither.
pub fn payload_ad(stream_id: &str, stream_version: u64, event_type: &str) -> Vec<u8> {
    let mut ad = b"planledger/payload/v1\0".to_vec();
    ad.extend_from_slice(&(stream_id.len() as u32).to_le_bytes());
    ad.extend_from_slice(stream_id.as_bytes());
    ad.extend_from_slice(&stream_version.to_le_bytes());
    ad.extend_from_slice(&(event_type.len() as u32).to_le_bytes());
    ad.extend_from_slice(event_type.as_bytes());
    ad
}

/// An event before it is sealed: everything in a record but its position, predecessor
/// and sealing time, which the store gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub stream_id: String,
    pub stream_version: u64,
    /// When the event happened, as the person or source system that wrote it claims
    /// (UTC µs since the epoch). Deadlines count from it; the ledger does not vouch for it.
    pub claimed_at_micros: i64,
    /// The source system's id of the command the event came from, so that a command is
    /// recorded once however often it is sent; empty for none. Never personal data.
    pub command_id: String,
    pub actor: Actor,
    pub event_type: String,
    pub schema_version: u16,
    pub envelope: Envelope,
    pub payload: Vec<u8>,
}

/// A sealed record: its stored bytes and the fields decoded from them.
///
/// The bytes are the truth; the fields are a parsed view. [`Record::hash`] hashes the
/// bytes as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    bytes: Vec<u8>,
    format_version: u16,
    position: u64,
    prev_hash: Hash,
    sealed_at_micros: Option<i64>,
    entry: Entry,
}

/// Why bytes are not a record of a supported layout, or an entry cannot be sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    #[error(
        "record is truncated: {field} needs {needed} bytes at offset {offset}, {available} remain"
    )]
    Truncated {
        field: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error(
        "record layout version {0} is not supported (this build reads versions {LAYOUT_1} and {FORMAT_VERSION})"
    )]
    UnsupportedVersion(u16),
    #[error("{field} is not valid UTF-8")]
    NotUtf8 { field: &'static str },
    #[error("{count} bytes follow the payload; a record ends with its payload")]
    TrailingBytes { count: usize },
    #[error("{field} is {len} bytes long; at most {max} fit in a record")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("stream version 0 is reserved for 'no stream'; versions start at 1")]
    ZeroStreamVersion,
    #[error("layout 1 has no command id; an entry with one is sealed in layout {FORMAT_VERSION}")]
    NoCommandIdInLayout1,
}

/// Seals `entry` at `position`, chained to `prev_hash` (the hash of the record at
/// `position - 1`, or [`Hash::ZERO`] at position 0), at `sealed_at_micros` by the
/// store's clock: a record of the current layout ([`FORMAT_VERSION`]).
pub fn seal(
    position: u64,
    prev_hash: Hash,
    sealed_at_micros: i64,
    entry: &Entry,
) -> Result<Record, FormatError> {
    encode(
        FORMAT_VERSION,
        position,
        prev_hash,
        Some(sealed_at_micros),
        entry,
    )
}

/// Seals `entry` in layout 1, whose one time is the entry's claimed time and which has
/// no sealing time and no command id. Writers never use it: it reproduces records of
/// ledgers written before layout 2 (test vectors, upgrade and verification tests).
pub fn seal_layout1(position: u64, prev_hash: Hash, entry: &Entry) -> Result<Record, FormatError> {
    if !entry.command_id.is_empty() {
        return Err(FormatError::NoCommandIdInLayout1);
    }
    encode(LAYOUT_1, position, prev_hash, None, entry)
}

fn encode(
    version: u16,
    position: u64,
    prev_hash: Hash,
    sealed_at_micros: Option<i64>,
    entry: &Entry,
) -> Result<Record, FormatError> {
    if entry.stream_version == 0 {
        return Err(FormatError::ZeroStreamVersion);
    }
    let var_len = 1
        + entry.stream_id.len()
        + 1
        + entry.actor.user_id.len()
        + 1
        + entry.actor.role.len()
        + 1
        + entry.event_type.len()
        + 1
        + entry.command_id.len()
        + 1
        + entry.envelope.key_id.len()
        + 1
        + entry.envelope.nonce.len()
        + 4
        + entry.payload.len();
    let mut b = Vec::with_capacity(2 + 8 + 32 + 8 + 8 + 8 + 2 + var_len);
    b.extend_from_slice(&version.to_le_bytes());
    b.extend_from_slice(&position.to_le_bytes());
    b.extend_from_slice(prev_hash.as_bytes());
    b.extend_from_slice(&entry.stream_version.to_le_bytes());
    if let Some(sealed) = sealed_at_micros {
        b.extend_from_slice(&sealed.to_le_bytes());
    }
    b.extend_from_slice(&entry.claimed_at_micros.to_le_bytes());
    b.extend_from_slice(&entry.schema_version.to_le_bytes());
    put8(&mut b, "stream_id", entry.stream_id.as_bytes())?;
    put8(&mut b, "actor_id", entry.actor.user_id.as_bytes())?;
    put8(&mut b, "actor_role", entry.actor.role.as_bytes())?;
    put8(&mut b, "event_type", entry.event_type.as_bytes())?;
    if version != LAYOUT_1 {
        put8(&mut b, "command_id", entry.command_id.as_bytes())?;
    }
    put8(&mut b, "key_id", &entry.envelope.key_id)?;
    put8(&mut b, "nonce", &entry.envelope.nonce)?;
    let len = u32::try_from(entry.payload.len()).map_err(|_| FormatError::TooLong {
        field: "payload",
        len: entry.payload.len(),
        max: u32::MAX as usize,
    })?;
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(&entry.payload);
    Ok(Record {
        bytes: b,
        format_version: version,
        position,
        prev_hash,
        sealed_at_micros,
        entry: entry.clone(),
    })
}

fn put8(b: &mut Vec<u8>, field: &'static str, v: &[u8]) -> Result<(), FormatError> {
    let len = u8::try_from(v.len()).map_err(|_| FormatError::TooLong {
        field,
        len: v.len(),
        max: 255,
    })?;
    b.push(len);
    b.extend_from_slice(v);
    Ok(())
}

/// A bounds-checked reader over a record's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], FormatError> {
        let available = self.bytes.len() - self.at;
        if n > available {
            return Err(FormatError::Truncated {
                field,
                offset: self.at,
                needed: n,
                available,
            });
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], FormatError> {
        let s = self.take(field, N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn bytes8(&mut self, field: &'static str) -> Result<&'a [u8], FormatError> {
        let [len] = self.array::<1>(field)?;
        self.take(field, usize::from(len))
    }

    fn str8(&mut self, field: &'static str) -> Result<&'a str, FormatError> {
        let s = self.bytes8(field)?;
        std::str::from_utf8(s).map_err(|_| FormatError::NotUtf8 { field })
    }
}

/// A record parsed in place: every check of [`Record::decode`], no allocation. The
/// range verifier runs this on every record.
pub(crate) struct View<'a> {
    pub(crate) format_version: u16,
    pub(crate) position: u64,
    pub(crate) prev_hash: Hash,
    pub(crate) sealed_at_micros: Option<i64>,
    stream_version: u64,
    claimed_at_micros: i64,
    schema_version: u16,
    stream_id: &'a str,
    user_id: &'a str,
    role: &'a str,
    event_type: &'a str,
    command_id: &'a str,
    key_id: &'a [u8],
    nonce: &'a [u8],
    payload: &'a [u8],
}

impl<'a> View<'a> {
    /// Parses stored bytes of either layout. Rejects unknown layout versions and
    /// trailing bytes.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<View<'a>, FormatError> {
        let mut r = Reader { bytes, at: 0 };
        let format_version = u16::from_le_bytes(r.array("format_version")?);
        if format_version != FORMAT_VERSION && format_version != LAYOUT_1 {
            return Err(FormatError::UnsupportedVersion(format_version));
        }
        let layout1 = format_version == LAYOUT_1;
        let position = u64::from_le_bytes(r.array("position")?);
        let prev_hash = Hash(r.array("prev_hash")?);
        let stream_version = u64::from_le_bytes(r.array("stream_version")?);
        if stream_version == 0 {
            return Err(FormatError::ZeroStreamVersion);
        }
        let (sealed_at_micros, claimed_at_micros) = if layout1 {
            (None, i64::from_le_bytes(r.array("recorded_at")?))
        } else {
            let sealed = i64::from_le_bytes(r.array("sealed_at")?);
            (Some(sealed), i64::from_le_bytes(r.array("claimed_at")?))
        };
        let schema_version = u16::from_le_bytes(r.array("schema_version")?);
        let stream_id = r.str8("stream_id")?;
        let user_id = r.str8("actor_id")?;
        let role = r.str8("actor_role")?;
        let event_type = r.str8("event_type")?;
        let command_id = if layout1 { "" } else { r.str8("command_id")? };
        let key_id = r.bytes8("key_id")?;
        let nonce = r.bytes8("nonce")?;
        let len = u32::from_le_bytes(r.array("payload length")?);
        let payload = r.take("payload", len as usize)?;
        let rest = bytes.len() - r.at;
        if rest != 0 {
            return Err(FormatError::TrailingBytes { count: rest });
        }
        Ok(View {
            format_version,
            position,
            prev_hash,
            sealed_at_micros,
            stream_version,
            claimed_at_micros,
            schema_version,
            stream_id,
            user_id,
            role,
            event_type,
            command_id,
            key_id,
            nonce,
            payload,
        })
    }
}

/// What locates stored record bytes and dates them, read without copying them: for
/// scans that look at every record's stream, kind and times and keep few (deriving the
/// plan index, finding back-dated entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader<'a> {
    pub position: u64,
    pub stream_id: &'a str,
    pub stream_version: u64,
    pub event_type: &'a str,
    pub actor_id: &'a str,
    pub actor_role: &'a str,
    /// See [`Entry::command_id`].
    pub command_id: &'a str,
    /// See [`Record::sealed_at_micros`].
    pub sealed_at_micros: Option<i64>,
    /// See [`Entry::claimed_at_micros`].
    pub claimed_at_micros: i64,
}

impl<'a> RecordHeader<'a> {
    /// Parses stored bytes as [`Record::decode`] does, keeping only the header.
    pub fn parse(bytes: &'a [u8]) -> Result<RecordHeader<'a>, FormatError> {
        let v = View::parse(bytes)?;
        Ok(RecordHeader {
            position: v.position,
            stream_id: v.stream_id,
            stream_version: v.stream_version,
            event_type: v.event_type,
            actor_id: v.user_id,
            actor_role: v.role,
            command_id: v.command_id,
            sealed_at_micros: v.sealed_at_micros,
            claimed_at_micros: v.claimed_at_micros,
        })
    }
}

impl Record {
    /// Parses stored bytes of either layout. Rejects unknown layout versions and
    /// trailing bytes.
    pub fn decode(bytes: Vec<u8>) -> Result<Record, FormatError> {
        let v = View::parse(&bytes)?;
        let (format_version, position, prev_hash, sealed_at_micros) = (
            v.format_version,
            v.position,
            v.prev_hash,
            v.sealed_at_micros,
        );
        let entry = Entry {
            stream_id: v.stream_id.into(),
            stream_version: v.stream_version,
            claimed_at_micros: v.claimed_at_micros,
            command_id: v.command_id.into(),
            actor: Actor {
                user_id: v.user_id.into(),
                role: v.role.into(),
            },
            event_type: v.event_type.into(),
            schema_version: v.schema_version,
            envelope: Envelope {
                key_id: v.key_id.to_vec(),
                nonce: v.nonce.to_vec(),
            },
            payload: v.payload.to_vec(),
        };
        Ok(Record {
            bytes,
            format_version,
            position,
            prev_hash,
            sealed_at_micros,
            entry,
        })
    }

    /// The record hash: blake3 over the domain prefix and the stored bytes.
    pub fn hash(&self) -> Hash {
        hash_record_bytes(&self.bytes)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The record's layout version ([`LAYOUT_1`] or [`FORMAT_VERSION`]).
    pub fn format_version(&self) -> u16 {
        self.format_version
    }

    pub fn position(&self) -> u64 {
        self.position
    }

    pub fn prev_hash(&self) -> Hash {
        self.prev_hash
    }

    /// When the ledger sealed the record, by the store's clock (UTC µs): never earlier
    /// than its predecessor's. `None` for a layout-1 record, whose only time is claimed.
    pub fn sealed_at_micros(&self) -> Option<i64> {
        self.sealed_at_micros
    }

    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    pub fn stream_id(&self) -> &str {
        &self.entry.stream_id
    }

    pub fn stream_version(&self) -> u64 {
        self.entry.stream_version
    }

    pub fn event_type(&self) -> &str {
        &self.entry.event_type
    }

    pub fn payload(&self) -> &[u8] {
        &self.entry.payload
    }

    /// The record with its encrypted payload replaced by `plaintext`, which whoever
    /// holds the client's key decrypted (FORMAT.md §9): its entry then reads as a
    /// plaintext one, while its stored bytes, and so its hash, its place in the chain and
    /// every proof, stay exactly as stored. [`Record::bytes`] still holds the ciphertext.
    pub fn with_opened_payload(mut self, plaintext: Vec<u8>) -> Record {
        self.entry.payload = plaintext;
        self.entry.envelope = Envelope::plaintext();
        self
    }
}

/// The record hash of each of `records` (stored bytes) into `out`, hashed in SIMD lanes
/// on the calling thread: [`hash_record_bytes`] of each.
pub(crate) fn hash_records<B: AsRef<[u8]>>(records: &[B], out: &mut [Hash]) {
    crate::lanes::hash_many(RECORD_DOMAIN, records, out);
}

/// The record hash of stored bytes, without parsing them: what a verifier computes.
pub fn hash_record_bytes(bytes: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(RECORD_DOMAIN);
    h.update(bytes);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_associated_data_is_the_documented_bytes() {
        // FORMAT.md §9: a change here would leave every encrypted payload unopenable.
        let mut want = b"planledger/payload/v1\0".to_vec();
        want.extend_from_slice(&[6, 0, 0, 0]);
        want.extend_from_slice(b"plan-1");
        want.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[12, 0, 0, 0]);
        want.extend_from_slice(b"plan_revised");
        assert_eq!(payload_ad("plan-1", 2, "plan_revised"), want);
    }

    fn entry() -> Entry {
        Entry {
            stream_id: "plan-1".into(),
            stream_version: 1,
            claimed_at_micros: 1_767_225_600_000_000,
            command_id: "cmd-1".into(),
            actor: Actor {
                user_id: "kw-1".into(),
                role: "key_worker".into(),
            },
            event_type: "plan_drafted".into(),
            schema_version: 1,
            envelope: Envelope::plaintext(),
            payload: vec![1, 2, 3],
        }
    }

    #[test]
    fn decode_round_trips_seal() {
        let r = seal(7, Hash([9; 32]), 1_767_300_000_000_000, &entry()).unwrap();
        let d = Record::decode(r.bytes().to_vec()).unwrap();
        assert_eq!(d, r);
        assert_eq!(d.position(), 7);
        assert_eq!(d.prev_hash(), Hash([9; 32]));
        assert_eq!(d.format_version(), FORMAT_VERSION);
        assert_eq!(d.sealed_at_micros(), Some(1_767_300_000_000_000));
        assert_eq!(d.entry().claimed_at_micros, 1_767_225_600_000_000);
        assert_eq!(d.entry().command_id, "cmd-1");
    }

    #[test]
    fn layout1_round_trips_without_a_sealing_time() {
        let e = Entry {
            command_id: String::new(),
            ..entry()
        };
        let r = seal_layout1(7, Hash([9; 32]), &e).unwrap();
        let d = Record::decode(r.bytes().to_vec()).unwrap();
        assert_eq!(d, r);
        assert_eq!(d.format_version(), LAYOUT_1);
        assert_eq!(d.sealed_at_micros(), None);
        assert_eq!(d.entry(), &e);
        assert_eq!(
            seal_layout1(0, Hash::ZERO, &entry()),
            Err(FormatError::NoCommandIdInLayout1)
        );
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut b = seal(0, Hash::ZERO, 0, &entry()).unwrap().into_bytes();
        b.push(0);
        assert_eq!(
            Record::decode(b),
            Err(FormatError::TrailingBytes { count: 1 })
        );
    }

    #[test]
    fn every_truncation_is_rejected() {
        let e = Entry {
            command_id: String::new(),
            ..entry()
        };
        for b in [
            seal(0, Hash::ZERO, 0, &entry()).unwrap().into_bytes(),
            seal_layout1(0, Hash::ZERO, &e).unwrap().into_bytes(),
        ] {
            for n in 0..b.len() {
                assert!(
                    Record::decode(b[..n].to_vec()).is_err(),
                    "prefix of {n} bytes"
                );
            }
        }
    }

    #[test]
    fn unknown_layouts_are_rejected() {
        let mut b = seal(0, Hash::ZERO, 0, &entry()).unwrap().into_bytes();
        b[0] = 3;
        assert_eq!(Record::decode(b), Err(FormatError::UnsupportedVersion(3)));
    }
}
