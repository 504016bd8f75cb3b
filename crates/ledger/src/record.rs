//! The record: an event sealed at a global position, chained to its predecessor.
//!
//! Layout version 1 (all integers little-endian; `FORMAT.md` is normative):
//!
//! | field           | encoding                         |
//! |-----------------|----------------------------------|
//! | format_version  | u16 = 1                          |
//! | position        | u64                              |
//! | prev_hash       | 32 bytes                         |
//! | stream_version  | u64 (first event of a stream: 1) |
//! | recorded_at     | i64 µs since 1970-01-01T00:00Z   |
//! | schema_version  | u16                              |
//! | stream_id       | str8  (u8 length + UTF-8)        |
//! | actor_id        | str8                             |
//! | actor_role      | str8                             |
//! | event_type      | str8                             |
//! | key_id          | bytes8 (u8 length; empty = plaintext) |
//! | nonce           | bytes8                           |
//! | payload         | bytes32 (u32 length)             |
//!
//! The record hash is `blake3(RECORD_DOMAIN || stored bytes)`. Nothing may follow the
//! payload: trailing bytes are a format error, so one hash has exactly one encoding.

use crate::Hash;

/// The record layout version this crate writes.
pub const FORMAT_VERSION: u16 = 1;

/// Domain separation for record hashes: no record hash can be confused with a Merkle
/// leaf (prefix 0x00) or node (prefix 0x01), nor with a hash of another protocol.
pub(crate) const RECORD_DOMAIN: &[u8] = b"planledger/record/v1\0";

/// Fixed-size part of the layout, before the first variable-length field.
const FIXED_LEN: usize = 2 + 8 + 32 + 8 + 8 + 2;

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

/// An event before it is sealed: everything in a record but its position and predecessor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub stream_id: String,
    pub stream_version: u64,
    pub recorded_at_micros: i64,
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
    position: u64,
    prev_hash: Hash,
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
        "record layout version {0} is not supported (this build reads version {FORMAT_VERSION})"
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
}

/// Seals `entry` at `position`, chained to `prev_hash` (the hash of the record at
/// `position - 1`, or [`Hash::ZERO`] at position 0).
pub fn seal(position: u64, prev_hash: Hash, entry: &Entry) -> Result<Record, FormatError> {
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
        + entry.envelope.key_id.len()
        + 1
        + entry.envelope.nonce.len()
        + 4
        + entry.payload.len();
    let mut b = Vec::with_capacity(FIXED_LEN + var_len);
    b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    b.extend_from_slice(&position.to_le_bytes());
    b.extend_from_slice(prev_hash.as_bytes());
    b.extend_from_slice(&entry.stream_version.to_le_bytes());
    b.extend_from_slice(&entry.recorded_at_micros.to_le_bytes());
    b.extend_from_slice(&entry.schema_version.to_le_bytes());
    put8(&mut b, "stream_id", entry.stream_id.as_bytes())?;
    put8(&mut b, "actor_id", entry.actor.user_id.as_bytes())?;
    put8(&mut b, "actor_role", entry.actor.role.as_bytes())?;
    put8(&mut b, "event_type", entry.event_type.as_bytes())?;
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
        position,
        prev_hash,
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
    pub(crate) position: u64,
    pub(crate) prev_hash: Hash,
    stream_version: u64,
    recorded_at_micros: i64,
    schema_version: u16,
    stream_id: &'a str,
    user_id: &'a str,
    role: &'a str,
    event_type: &'a str,
    key_id: &'a [u8],
    nonce: &'a [u8],
    payload: &'a [u8],
}

impl<'a> View<'a> {
    /// Parses stored bytes. Rejects unknown layout versions and trailing bytes.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<View<'a>, FormatError> {
        let mut r = Reader { bytes, at: 0 };
        let version = u16::from_le_bytes(r.array("format_version")?);
        if version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let position = u64::from_le_bytes(r.array("position")?);
        let prev_hash = Hash(r.array("prev_hash")?);
        let stream_version = u64::from_le_bytes(r.array("stream_version")?);
        if stream_version == 0 {
            return Err(FormatError::ZeroStreamVersion);
        }
        let recorded_at_micros = i64::from_le_bytes(r.array("recorded_at")?);
        let schema_version = u16::from_le_bytes(r.array("schema_version")?);
        let stream_id = r.str8("stream_id")?;
        let user_id = r.str8("actor_id")?;
        let role = r.str8("actor_role")?;
        let event_type = r.str8("event_type")?;
        let key_id = r.bytes8("key_id")?;
        let nonce = r.bytes8("nonce")?;
        let len = u32::from_le_bytes(r.array("payload length")?);
        let payload = r.take("payload", len as usize)?;
        let rest = bytes.len() - r.at;
        if rest != 0 {
            return Err(FormatError::TrailingBytes { count: rest });
        }
        Ok(View {
            position,
            prev_hash,
            stream_version,
            recorded_at_micros,
            schema_version,
            stream_id,
            user_id,
            role,
            event_type,
            key_id,
            nonce,
            payload,
        })
    }
}

/// What locates stored record bytes, read without copying them: for scans that look at
/// every record's stream and kind and keep few (deriving the plan index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader<'a> {
    pub position: u64,
    pub stream_id: &'a str,
    pub stream_version: u64,
    pub event_type: &'a str,
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
        })
    }
}

impl Record {
    /// Parses stored bytes. Rejects unknown layout versions and trailing bytes.
    pub fn decode(bytes: Vec<u8>) -> Result<Record, FormatError> {
        let v = View::parse(&bytes)?;
        let (position, prev_hash) = (v.position, v.prev_hash);
        let entry = Entry {
            stream_id: v.stream_id.into(),
            stream_version: v.stream_version,
            recorded_at_micros: v.recorded_at_micros,
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
            position,
            prev_hash,
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

    pub fn position(&self) -> u64 {
        self.position
    }

    pub fn prev_hash(&self) -> Hash {
        self.prev_hash
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

    fn entry() -> Entry {
        Entry {
            stream_id: "plan-1".into(),
            stream_version: 1,
            recorded_at_micros: 1_767_225_600_000_000,
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
        let r = seal(7, Hash([9; 32]), &entry()).unwrap();
        let d = Record::decode(r.bytes().to_vec()).unwrap();
        assert_eq!(d, r);
        assert_eq!(d.position(), 7);
        assert_eq!(d.prev_hash(), Hash([9; 32]));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut b = seal(0, Hash::ZERO, &entry()).unwrap().into_bytes();
        b.push(0);
        assert_eq!(
            Record::decode(b),
            Err(FormatError::TrailingBytes { count: 1 })
        );
    }

    #[test]
    fn every_truncation_is_rejected() {
        let b = seal(0, Hash::ZERO, &entry()).unwrap().into_bytes();
        for n in 0..b.len() {
            assert!(
                Record::decode(b[..n].to_vec()).is_err(),
                "prefix of {n} bytes"
            );
        }
    }
}
