//! The key store beside a ledger: one data key per client, wrapped by the
//! key-encryption key (KEK), and the client each key belongs to. Destroying a key
//! (weeding) makes the client's payloads and read-model entries unreadable for good; the
//! ledger's bytes, its chain and every checkpoint stay as they were.
//!
//! The embedded backend keeps it in its own redb file, `keys.redb` beside `ledger.redb`,
//! mode 0600. What it holds, per client:
//!
//! - `keys`: key id → `nonce || wrapped data key` (XChaCha20-Poly1305 under the KEK,
//!   associated data the key id);
//! - `clients`: `blake3_keyed(lookup secret, personnummer digits)` → key id, so that a
//!   reader finds a client's key by number without the file holding the number;
//! - `owners`: key id → `lookup hash || nonce || the digits sealed under the client's own
//!   data key`, so that a key's client can be named while the key exists, and not after;
//! - `meta`: the lookup secret, wrapped by the KEK (which also proves a KEK right).
//!
//! [`RedbKeyStore::destroy`] does not only delete: it writes the surviving entries into a
//! new file and renames it over the old one, so the destroyed keys' bytes are not left
//! in freed pages of the file (what a copy of the file kept elsewhere holds is the
//! operator's: see the README on backing up the key store).
//!
//! A PostgreSQL ledger keeps the same entries in tables of its database
//! ([`crate::keystore_pg::PostgresKeyStore`]); what both do alike (the lookup hash, the
//! wrapped lookup secret, the sealed owner) is here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::crypt::{self, DataKey, KEY_ID_LEN, Kek, KeyId};
use crate::error::{Error, Kind, Result};

/// The key store file inside a ledger directory.
pub const KEYS_FILE: &str = "keys.redb";

const KEYS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("keys");
const CLIENTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("clients");
const OWNERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("owners");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const META_LOOKUP: &str = "lookup-secret";
/// The lookup secret's key id in its wrapping (it is no client's).
const LOOKUP_ID: KeyId = KeyId([0; KEY_ID_LEN]);
const OWNER_AD: &[u8] = b"planledger/key-owner/v1\0";

/// Where clients' data keys are kept.
pub trait KeyStore: Send + Sync {
    /// The key id of the client with personnummer `digits` (12 digits); a new key is
    /// made when `create` and the client has none.
    fn key_of_client(&self, digits: &str, create: bool) -> Result<Option<KeyId>>;
    /// The data key of `id`; `None` when there is none (destroyed, or never made here).
    fn data_key(&self, id: KeyId) -> Result<Option<DataKey>>;
    /// The personnummer digits of the client `id` belongs to, while its key exists.
    fn client_of(&self, id: KeyId) -> Result<Option<String>>;
    /// Every key id held.
    fn key_ids(&self) -> Result<Vec<KeyId>>;
    /// Destroys the keys `ids` (and their clients' entries) so that their bytes are gone
    /// from the store; ids it does not hold are ignored. Returns how many it destroyed.
    fn destroy(&self, ids: &[KeyId]) -> Result<usize>;
    /// Wraps every key under `new` instead of the KEK it was opened with; returns how
    /// many keys it rewrapped. Afterwards only `new` opens the store.
    fn rotate(&self, new: &Kek) -> Result<usize>;
}

pub(crate) fn backend(e: impl std::fmt::Display) -> Error {
    Error::new(Kind::Storage, format!("the key store: {e}"))
}

// What every key store does alike, whatever keeps its bytes (this file, or PostgreSQL:
// `crate::keystore_pg`).

/// A client's lookup hash: the personnummer digits hashed with the store's lookup
/// secret, so that the store finds a client by number without holding the number.
pub(crate) fn lookup_hash(secret: &[u8; 32], digits: &str) -> [u8; 32] {
    let mut input = b"planledger/key-lookup/v1\0".to_vec();
    input.extend_from_slice(digits.as_bytes());
    *blake3::keyed_hash(secret, &input).as_bytes()
}

/// The lookup secret wrapped by `kek`.
pub(crate) fn wrap_secret(kek: &Kek, secret: &[u8; 32]) -> Result<Vec<u8>> {
    kek.wrap(LOOKUP_ID, &DataKey::from_bytes(*secret))
}

/// The lookup secret from its wrapping; a KEK other than the one it was wrapped with is
/// refused (this is how a wrong KEK is told apart before anything is read).
pub(crate) fn unwrap_secret(kek: &Kek, wrapped: &[u8]) -> Result<[u8; 32]> {
    kek.unwrap(LOOKUP_ID, wrapped).map(|k| k.0).ok_or_else(|| {
        Error::new(
            Kind::BadInput,
            "the key-encryption key given is not the one the key store was written with",
        )
    })
}

/// The client's number sealed under the client's own data key: `nonce || ciphertext`.
pub(crate) fn seal_owner(key: &DataKey, id: KeyId, digits: &str) -> Result<Vec<u8>> {
    let (nonce, ct) = crypt::seal(key, &[OWNER_AD, &id.0].concat(), digits.as_bytes())?;
    Ok([nonce.as_slice(), &ct].concat())
}

/// The number [`seal_owner`] sealed.
pub(crate) fn open_owner(key: &DataKey, id: KeyId, sealed: &[u8]) -> Result<String> {
    let (nonce, ct) =
        crypt::split_nonce(sealed).ok_or_else(|| backend("a key's owner entry is short"))?;
    let digits = crypt::open(key, nonce, &[OWNER_AD, &id.0].concat(), ct)
        .ok_or_else(|| backend("a key's owner entry does not open (changed bytes?)"))?;
    String::from_utf8(digits).map_err(|_| backend("a key's owner entry is not text"))
}

/// The embedded key store (`keys.redb`).
pub struct RedbKeyStore {
    path: PathBuf,
    db: Mutex<Option<Database>>,
    kek: Mutex<Kek>,
    lookup: [u8; 32],
    cache: Mutex<HashMap<KeyId, DataKey>>,
}

impl std::fmt::Debug for RedbKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbKeyStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Creates `path` empty with mode 0600 (refusing an existing file), so that the key
/// store is never readable by others, not even for an instant.
fn create_private(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
        .map(drop)
        .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))
}

impl RedbKeyStore {
    /// Creates a new key store at `path` under `kek`.
    pub fn create(path: &Path, kek: &Kek) -> Result<RedbKeyStore> {
        create_private(path)?;
        let db = Database::create(path).map_err(backend)?;
        let lookup: [u8; 32] = crypt::random()?;
        let wrapped = wrap_secret(kek, &lookup)?;
        let mut txn = db.begin_write().map_err(backend)?;
        txn.set_durability(Durability::Immediate).map_err(backend)?;
        {
            let mut meta = txn.open_table(META).map_err(backend)?;
            meta.insert(META_LOOKUP, wrapped.as_slice())
                .map_err(backend)?;
            txn.open_table(KEYS).map_err(backend)?;
            txn.open_table(CLIENTS).map_err(backend)?;
            txn.open_table(OWNERS).map_err(backend)?;
        }
        txn.commit().map_err(backend)?;
        Ok(RedbKeyStore {
            path: path.to_path_buf(),
            db: Mutex::new(Some(db)),
            kek: Mutex::new(kek.clone()),
            lookup,
            cache: Mutex::default(),
        })
    }

    /// Opens the key store at `path`; a KEK other than the one it was written with is
    /// refused.
    pub fn open(path: &Path, kek: &Kek) -> Result<RedbKeyStore> {
        let db = Database::open(path).map_err(backend)?;
        let lookup = {
            let txn = db.begin_read().map_err(backend)?;
            let meta = txn.open_table(META).map_err(backend)?;
            let wrapped = meta
                .get(META_LOOKUP)
                .map_err(backend)?
                .ok_or_else(|| backend("it has no lookup secret"))?;
            unwrap_secret(kek, wrapped.value())?
        };
        Ok(RedbKeyStore {
            path: path.to_path_buf(),
            db: Mutex::new(Some(db)),
            kek: Mutex::new(kek.clone()),
            lookup,
            cache: Mutex::default(),
        })
    }

    fn with_db<T>(&self, f: impl FnOnce(&Database) -> Result<T>) -> Result<T> {
        let guard = self.db.lock().expect("the key store lock");
        f(guard.as_ref().expect("the key store is open"))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl KeyStore for RedbKeyStore {
    fn key_of_client(&self, digits: &str, create: bool) -> Result<Option<KeyId>> {
        let lookup = lookup_hash(&self.lookup, digits);
        let kek = self.kek.lock().expect("the KEK lock").clone();
        self.with_db(|db| {
            {
                let txn = db.begin_read().map_err(backend)?;
                let clients = txn.open_table(CLIENTS).map_err(backend)?;
                if let Some(id) = clients.get(lookup.as_slice()).map_err(backend)? {
                    return Ok(KeyId::from_slice(id.value()));
                }
            }
            if !create {
                return Ok(None);
            }
            let id = KeyId::random()?;
            let key = DataKey::random()?;
            let wrapped = kek.wrap(id, &key)?;
            let owner = [lookup.as_slice(), &seal_owner(&key, id, digits)?].concat();
            let mut txn = db.begin_write().map_err(backend)?;
            txn.set_durability(Durability::Immediate).map_err(backend)?;
            {
                // Another writer may have made the client's key meanwhile: theirs counts.
                let mut clients = txn.open_table(CLIENTS).map_err(backend)?;
                if let Some(theirs) = clients.get(lookup.as_slice()).map_err(backend)? {
                    return Ok(KeyId::from_slice(theirs.value()));
                }
                clients
                    .insert(lookup.as_slice(), id.0.as_slice())
                    .map_err(backend)?;
                let mut keys = txn.open_table(KEYS).map_err(backend)?;
                keys.insert(id.0.as_slice(), wrapped.as_slice())
                    .map_err(backend)?;
                let mut owners = txn.open_table(OWNERS).map_err(backend)?;
                owners
                    .insert(id.0.as_slice(), owner.as_slice())
                    .map_err(backend)?;
            }
            txn.commit().map_err(backend)?;
            self.cache.lock().expect("the cache lock").insert(id, key);
            Ok(Some(id))
        })
    }

    fn data_key(&self, id: KeyId) -> Result<Option<DataKey>> {
        if let Some(k) = self.cache.lock().expect("the cache lock").get(&id) {
            return Ok(Some(k.clone()));
        }
        let kek = self.kek.lock().expect("the KEK lock").clone();
        let key = self.with_db(|db| {
            let txn = db.begin_read().map_err(backend)?;
            let keys = txn.open_table(KEYS).map_err(backend)?;
            let Some(wrapped) = keys.get(id.0.as_slice()).map_err(backend)? else {
                return Ok(None);
            };
            kek.unwrap(id, wrapped.value())
                .map(Some)
                .ok_or_else(|| backend("a wrapped key does not unwrap (changed bytes?)"))
        })?;
        if let Some(k) = &key {
            self.cache
                .lock()
                .expect("the cache lock")
                .insert(id, k.clone());
        }
        Ok(key)
    }

    fn client_of(&self, id: KeyId) -> Result<Option<String>> {
        let Some(key) = self.data_key(id)? else {
            return Ok(None);
        };
        let owner = self.with_db(|db| {
            let txn = db.begin_read().map_err(backend)?;
            let owners = txn.open_table(OWNERS).map_err(backend)?;
            Ok(owners
                .get(id.0.as_slice())
                .map_err(backend)?
                .map(|v| v.value().to_vec()))
        })?;
        let Some(owner) = owner else { return Ok(None) };
        open_owner(&key, id, owner.get(32..).unwrap_or_default()).map(Some)
    }

    fn key_ids(&self) -> Result<Vec<KeyId>> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(backend)?;
            let keys = txn.open_table(KEYS).map_err(backend)?;
            let mut ids = Vec::new();
            for entry in keys.iter().map_err(backend)? {
                let (k, _) = entry.map_err(backend)?;
                ids.extend(KeyId::from_slice(k.value()));
            }
            Ok(ids)
        })
    }

    fn destroy(&self, ids: &[KeyId]) -> Result<usize> {
        let mut guard = self.db.lock().expect("the key store lock");
        let db = guard.as_ref().expect("the key store is open");
        let doomed: std::collections::HashSet<[u8; KEY_ID_LEN]> = ids.iter().map(|i| i.0).collect();
        // What survives, read whole (one entry per client: small).
        let (mut keys, mut clients, mut owners, mut meta) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut destroyed = 0;
        {
            let txn = db.begin_read().map_err(backend)?;
            for entry in txn
                .open_table(KEYS)
                .map_err(backend)?
                .iter()
                .map_err(backend)?
            {
                let (k, v) = entry.map_err(backend)?;
                if doomed.contains(k.value()) {
                    destroyed += 1;
                } else {
                    keys.push((k.value().to_vec(), v.value().to_vec()));
                }
            }
            for entry in txn
                .open_table(CLIENTS)
                .map_err(backend)?
                .iter()
                .map_err(backend)?
            {
                let (k, v) = entry.map_err(backend)?;
                if !doomed.contains(v.value()) {
                    clients.push((k.value().to_vec(), v.value().to_vec()));
                }
            }
            for entry in txn
                .open_table(OWNERS)
                .map_err(backend)?
                .iter()
                .map_err(backend)?
            {
                let (k, v) = entry.map_err(backend)?;
                if !doomed.contains(k.value()) {
                    owners.push((k.value().to_vec(), v.value().to_vec()));
                }
            }
            for entry in txn
                .open_table(META)
                .map_err(backend)?
                .iter()
                .map_err(backend)?
            {
                let (k, v) = entry.map_err(backend)?;
                meta.push((k.value().to_owned(), v.value().to_vec()));
            }
        }
        if destroyed == 0 {
            return Ok(0);
        }
        // A new file with the survivors, renamed over the old one: the destroyed keys'
        // bytes are in no page of the file that remains (redb's compaction would move
        // pages but need not overwrite the freed ones). A crash before the rename
        // leaves the old file and a temporary one, which the next destroy replaces.
        let temp = self.path.with_extension("redb.new");
        let _ = std::fs::remove_file(&temp);
        create_private(&temp)?;
        {
            let new = Database::create(&temp).map_err(backend)?;
            let mut txn = new.begin_write().map_err(backend)?;
            txn.set_durability(Durability::Immediate).map_err(backend)?;
            {
                let mut t = txn.open_table(KEYS).map_err(backend)?;
                for (k, v) in &keys {
                    t.insert(k.as_slice(), v.as_slice()).map_err(backend)?;
                }
                let mut t = txn.open_table(CLIENTS).map_err(backend)?;
                for (k, v) in &clients {
                    t.insert(k.as_slice(), v.as_slice()).map_err(backend)?;
                }
                let mut t = txn.open_table(OWNERS).map_err(backend)?;
                for (k, v) in &owners {
                    t.insert(k.as_slice(), v.as_slice()).map_err(backend)?;
                }
                let mut t = txn.open_table(META).map_err(backend)?;
                for (k, v) in &meta {
                    t.insert(k.as_str(), v.as_slice()).map_err(backend)?;
                }
            }
            txn.commit().map_err(backend)?;
        }
        std::fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io("cannot sync the new key store", e))?;
        *guard = None;
        std::fs::rename(&temp, &self.path)
            .map_err(|e| Error::io(format!("cannot replace {}", self.path.display()), e))?;
        if let Some(dir) = self.path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| Error::io("cannot sync the ledger directory", e))?;
        }
        *guard = Some(Database::open(&self.path).map_err(backend)?);
        let mut cache = self.cache.lock().expect("the cache lock");
        for id in ids {
            cache.remove(id);
        }
        Ok(destroyed)
    }

    fn rotate(&self, new: &Kek) -> Result<usize> {
        let mut kek = self.kek.lock().expect("the KEK lock");
        let n = self.with_db(|db| {
            let mut txn = db.begin_write().map_err(backend)?;
            txn.set_durability(Durability::Immediate).map_err(backend)?;
            let mut n = 0;
            {
                let mut keys = txn.open_table(KEYS).map_err(backend)?;
                let mut rewrapped = Vec::new();
                for entry in keys.iter().map_err(backend)? {
                    let (k, v) = entry.map_err(backend)?;
                    let id = KeyId::from_slice(k.value())
                        .ok_or_else(|| backend("a key id has the wrong length"))?;
                    let key = kek
                        .unwrap(id, v.value())
                        .ok_or_else(|| backend("a wrapped key does not unwrap (changed bytes?)"))?;
                    rewrapped.push((id, new.wrap(id, &key)?));
                }
                for (id, wrapped) in &rewrapped {
                    keys.insert(id.0.as_slice(), wrapped.as_slice())
                        .map_err(backend)?;
                    n += 1;
                }
                let mut meta = txn.open_table(META).map_err(backend)?;
                let lookup = wrap_secret(new, &self.lookup)?;
                meta.insert(META_LOOKUP, lookup.as_slice())
                    .map_err(backend)?;
            }
            txn.commit().map_err(backend)?;
            Ok(n)
        })?;
        *kek = new.clone();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_made_once_found_by_number_and_destroyed_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEYS_FILE);
        let kek = Kek::from_bytes([1; 32]);
        let ks = RedbKeyStore::create(&path, &kek).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let a = ks.key_of_client("196408233234", true).unwrap().unwrap();
        let b = ks.key_of_client("197010632391", true).unwrap().unwrap();
        assert_ne!(a, b);
        assert_eq!(ks.key_of_client("196408233234", true).unwrap(), Some(a));
        assert_eq!(ks.client_of(a).unwrap().as_deref(), Some("196408233234"));
        let key_a = ks.data_key(a).unwrap().unwrap();
        drop(ks);
        let raw = std::fs::read(&path).unwrap();
        assert!(!raw.windows(12).any(|w| w == b"196408233234"));
        assert!(raw.windows(16).any(|w| w == a.0));

        // Another KEK is refused; rotation moves to a new one.
        assert!(RedbKeyStore::open(&path, &Kek::from_bytes([2; 32])).is_err());
        let ks = RedbKeyStore::open(&path, &kek).unwrap();
        assert_eq!(ks.data_key(a).unwrap(), Some(key_a.clone()));
        let new = Kek::from_bytes([3; 32]);
        assert_eq!(ks.rotate(&new).unwrap(), 2);
        drop(ks);
        assert!(RedbKeyStore::open(&path, &kek).is_err());
        let ks = RedbKeyStore::open(&path, &new).unwrap();
        assert_eq!(ks.data_key(a).unwrap(), Some(key_a));

        assert_eq!(ks.destroy(&[a]).unwrap(), 1);
        assert_eq!(ks.destroy(&[a]).unwrap(), 0);
        assert_eq!(ks.data_key(a).unwrap(), None);
        assert_eq!(ks.client_of(a).unwrap(), None);
        assert_eq!(ks.key_of_client("196408233234", false).unwrap(), None);
        assert!(ks.data_key(b).unwrap().is_some());
        assert_eq!(ks.key_ids().unwrap(), vec![b]);
        drop(ks);
        let raw = std::fs::read(&path).unwrap();
        assert!(!raw.windows(16).any(|w| w == a.0), "the key id is gone");
    }
}
