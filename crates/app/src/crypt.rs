//! The encryption envelope (FORMAT.md §9): XChaCha20-Poly1305 under one data key per
//! client, with associated data that binds a ciphertext to its place in the ledger, and
//! the key-encryption key (KEK) that wraps the data keys in the key store.
//!
//! Nothing here logs or formats a key: [`DataKey`] and [`Kek`] print as `..`.

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use planledger_ledger::Hash;

use crate::error::{Error, Kind, Result};
use crate::files::{read_text_limited, write_new};
use crate::limits::Limits;

/// Bytes of a key id (random, never derived from personal data).
pub const KEY_ID_LEN: usize = 16;
/// Bytes of an XChaCha20-Poly1305 nonce: random nonces of this size never repeat in
/// practice, so no counter needs to be kept.
pub const NONCE_LEN: usize = 24;
/// Bytes of the Poly1305 tag after each ciphertext.
pub const TAG_LEN: usize = 16;

/// Associated data of a summary in the read model.
const SUMMARY_AD: &[u8] = b"planledger/summary/v1\0";
/// Associated data of a data key wrapped by the KEK.
const WRAP_AD: &[u8] = b"planledger/key-wrap/v1\0";

/// The first word of a KEK file.
const KEK_PREFIX: &str = "planledger-kek/1 ";

/// A client's key id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

impl KeyId {
    pub fn random() -> Result<KeyId> {
        Ok(KeyId(random()?))
    }

    pub fn from_slice(bytes: &[u8]) -> Option<KeyId> {
        Some(KeyId(bytes.try_into().ok()?))
    }

    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(text: &str) -> Option<KeyId> {
        if text.len() != 2 * KEY_ID_LEN || !text.is_ascii() {
            return None;
        }
        let mut id = [0u8; KEY_ID_LEN];
        for (i, b) in id.iter_mut().enumerate() {
            *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(KeyId(id))
    }
}

/// A 256-bit symmetric key (a client's data key).
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey(pub(crate) [u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    pub fn random() -> Result<DataKey> {
        Ok(DataKey(random()?))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey(bytes)
    }

    /// The raw key, for tests that look for it in files.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The key-encryption key: wraps every data key in the key store. Read from a file of
/// mode 0600 (`planledger kek-gen`), never stored beside the ledger.
#[derive(Clone)]
pub struct Kek(DataKey);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(..)")
    }
}

impl Kek {
    pub fn from_bytes(bytes: [u8; 32]) -> Kek {
        Kek(DataKey(bytes))
    }

    /// The file text: `planledger-kek/1 <64 hex digits>`.
    pub fn to_text(&self) -> String {
        format!("{KEK_PREFIX}{}", Hash((self.0).0).to_hex())
    }

    /// Parses [`to_text`](Self::to_text)'s form (surrounding whitespace ignored).
    pub fn from_text(text: &str) -> Option<Kek> {
        let hex = text.trim().strip_prefix(KEK_PREFIX)?;
        Some(Kek::from_bytes(Hash::from_hex(hex).ok()?.0))
    }

    /// Wraps `key` (the data key of `id`): `nonce || ciphertext || tag`.
    pub fn wrap(&self, id: KeyId, key: &DataKey) -> Result<Vec<u8>> {
        let (nonce, ct) = seal(&self.0, &wrap_ad(id), &key.0)?;
        Ok([nonce.as_slice(), &ct].concat())
    }

    /// The data key of `id` from [`Kek::wrap`]'s bytes; `None` when this is not the KEK
    /// it was wrapped with, or the bytes were changed.
    pub fn unwrap(&self, id: KeyId, wrapped: &[u8]) -> Option<DataKey> {
        let (nonce, ct) = split_nonce(wrapped)?;
        let plain = open(&self.0, nonce, &wrap_ad(id), ct)?;
        Some(DataKey(plain.try_into().ok()?))
    }
}

fn wrap_ad(id: KeyId) -> Vec<u8> {
    [WRAP_AD, &id.0].concat()
}

/// Makes a new KEK from the OS random number generator and writes it to `out` (mode
/// 0600, never overwritten).
pub fn kek_gen(out: &Path) -> Result<Kek> {
    let kek = Kek::from_bytes(random()?);
    write_new(out, &format!("{}\n", kek.to_text()), true)?;
    Ok(kek)
}

/// The KEK in `path`. A file others may read is refused: the KEK unlocks every
/// client's data.
pub fn load_kek(path: &Path, limits: &Limits) -> Result<Kek> {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Error::new(
                Kind::BadInput,
                format!(
                    "{} (the key-encryption key) may be read by others; make it mode 0600",
                    path.display()
                ),
            ));
        }
    }
    let text = read_text_limited(
        path,
        "the key-encryption key",
        limits.file_bytes,
        "--max-file-bytes",
    )?;
    Kek::from_text(&text).ok_or_else(|| {
        Error::new(
            Kind::BadInput,
            format!(
                "{} is not a key-encryption key from `planledger kek-gen` (`{} <64 hex digits>`)",
                path.display(),
                KEK_PREFIX.trim_end()
            ),
        )
    })
}

/// `N` bytes from the OS random number generator.
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| {
        Error::new(
            Kind::Storage,
            format!("the OS random number generator failed: {e}"),
        )
    })?;
    Ok(b)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The associated data of a record's payload (FORMAT.md §9), defined once in the
/// ledger crate so that `verify-bundle` opens what this writes.
pub use planledger_ledger::payload_ad;

/// The associated data of a plan's summary at `stream_version` in the read model.
pub fn summary_ad(stream_id: &str, stream_version: u64) -> Vec<u8> {
    let mut ad = SUMMARY_AD.to_vec();
    put_str(&mut ad, stream_id);
    ad.extend_from_slice(&stream_version.to_le_bytes());
    ad
}

/// Encrypts `plaintext` under `key` with a fresh random nonce: the nonce and the
/// ciphertext with its tag.
pub fn seal(key: &DataKey, ad: &[u8], plaintext: &[u8]) -> Result<([u8; NONCE_LEN], Vec<u8>)> {
    let nonce: [u8; NONCE_LEN] = random()?;
    let ct = XChaCha20Poly1305::new((&key.0).into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: ad,
            },
        )
        .map_err(|_| Error::new(Kind::Storage, "encryption failed"))?;
    Ok((nonce, ct))
}

/// Decrypts; `None` when the key, nonce, associated data or ciphertext is not the one
/// sealed (the tag does not verify).
pub fn open(key: &DataKey, nonce: &[u8], ad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
    if nonce.len() != NONCE_LEN {
        return None;
    }
    XChaCha20Poly1305::new((&key.0).into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: ad,
            },
        )
        .ok()
}

/// Splits `nonce || rest`.
pub(crate) fn split_nonce(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    (bytes.len() >= NONCE_LEN + TAG_LEN).then(|| bytes.split_at(NONCE_LEN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(b: u8) -> DataKey {
        DataKey([b; 32])
    }

    proptest! {
        #[test]
        fn a_sealed_payload_opens_with_its_key_and_place(
            plain in proptest::collection::vec(any::<u8>(), 0..512),
            k in any::<u8>(),
            version in 1u64..u64::MAX,
        ) {
            let ad = payload_ad("plan-0001", version, "plan_drafted");
            let (nonce, ct) = seal(&key(k), &ad, &plain).unwrap();
            prop_assert_eq!(ct.len(), plain.len() + TAG_LEN);
            prop_assert_eq!(open(&key(k), &nonce, &ad, &ct), Some(plain));
        }

        #[test]
        fn another_key_does_not_open(plain in proptest::collection::vec(any::<u8>(), 0..64), k in any::<u8>()) {
            let ad = payload_ad("plan-0001", 1, "order_received");
            let (nonce, ct) = seal(&key(k), &ad, &plain).unwrap();
            prop_assert_eq!(open(&key(k.wrapping_add(1)), &nonce, &ad, &ct), None);
        }

        #[test]
        fn a_changed_ciphertext_does_not_open(
            plain in proptest::collection::vec(any::<u8>(), 1..64),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let ad = payload_ad("plan-0001", 1, "order_received");
            let (nonce, mut ct) = seal(&key(7), &ad, &plain).unwrap();
            let i = at.index(ct.len());
            ct[i] ^= flip;
            prop_assert_eq!(open(&key(7), &nonce, &ad, &ct), None);
        }
    }

    #[test]
    fn a_ciphertext_moved_to_another_record_does_not_open() {
        let (nonce, ct) = seal(&key(1), &payload_ad("plan-1", 2, "plan_revised"), b"x").unwrap();
        for ad in [
            payload_ad("plan-2", 2, "plan_revised"),
            payload_ad("plan-1", 3, "plan_revised"),
            payload_ad("plan-1", 2, "plan_drafted"),
            summary_ad("plan-1", 2),
        ] {
            assert_eq!(open(&key(1), &nonce, &ad, &ct), None);
        }
        let mut nonce2 = nonce;
        nonce2[0] ^= 1;
        assert_eq!(
            open(
                &key(1),
                &nonce2,
                &payload_ad("plan-1", 2, "plan_revised"),
                &ct
            ),
            None
        );
    }

    #[test]
    fn a_wrapped_key_unwraps_only_with_its_kek_and_id() {
        let kek = Kek::from_bytes([3; 32]);
        let id = KeyId([9; KEY_ID_LEN]);
        let wrapped = kek.wrap(id, &key(5)).unwrap();
        assert_eq!(kek.unwrap(id, &wrapped), Some(key(5)));
        assert_eq!(Kek::from_bytes([4; 32]).unwrap(id, &wrapped), None);
        assert_eq!(kek.unwrap(KeyId([8; KEY_ID_LEN]), &wrapped), None);
        assert!(!wrapped.windows(32).any(|w| w == [5; 32]));
        assert_eq!(
            Kek::from_text(&kek.to_text()).unwrap().to_text(),
            kek.to_text()
        );
        assert_eq!(format!("{kek:?} {:?}", key(5)), "Kek(..) DataKey(..)");
    }

    #[test]
    fn key_ids_print_as_hex() {
        let id = KeyId([0xab; KEY_ID_LEN]);
        assert_eq!(KeyId::from_hex(&id.to_hex()), Some(id));
        assert_eq!(KeyId::from_hex("zz"), None);
    }
}
