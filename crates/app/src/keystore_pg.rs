//! The key store of a PostgreSQL ledger: the same keys, wrappings, lookup hashes and
//! sealed owners as [`crate::keystore::RedbKeyStore`]'s, kept in the ledger's database
//! (`planledger.key_stores`, one row per ledger: the lookup secret wrapped by the KEK;
//! `planledger.client_keys`, one row per client: key id, lookup hash, wrapped key,
//! sealed owner). The rows are read and written by
//! [`planledger_store_postgres::PostgresKeyTable`]; the keys are made, wrapped and
//! opened here, so no key leaves this process unwrapped.
//!
//! [`KeyStore::destroy`] and [`KeyStore::rotate`] rewrite the key table (TRUNCATE and
//! the rows that stay, in one transaction), so that a destroyed key, or a key's
//! wrapping under the old KEK, is in no file of the table afterwards. The server's WAL,
//! its archives, base backups and replicas keep what they kept: see the README,
//! "Weeding", on rotating the KEK after weeding.

use std::collections::HashMap;
use std::sync::Mutex;

use planledger_store::StoreError;
use planledger_store_postgres::{KeyRow, PostgresKeyTable};

use crate::crypt::{self, DataKey, Kek, KeyId};
use crate::error::Result;
use crate::keystore::{
    KeyStore, backend, lookup_hash, open_owner, seal_owner, unwrap_secret, wrap_secret,
};

/// The key store of one PostgreSQL ledger.
pub struct PostgresKeyStore {
    table: PostgresKeyTable,
    kek: Mutex<Kek>,
    lookup: [u8; 32],
    cache: Mutex<HashMap<KeyId, DataKey>>,
}

impl std::fmt::Debug for PostgresKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresKeyStore").finish_non_exhaustive()
    }
}

/// Whether the PostgreSQL ledger `ledger` at `url` has a key store (its personal data
/// is encrypted, and it is not to be opened without its KEK).
pub fn has_key_store(url: &str, ledger: &str) -> Result<bool> {
    Ok(PostgresKeyTable::open(url, ledger)?.exists()?)
}

impl PostgresKeyStore {
    /// Opens the key store of the ledger `ledger` at `url`, creating it under `kek` if
    /// the ledger has none; a KEK other than the one it was made with is refused.
    pub fn open_or_create(url: &str, ledger: &str, kek: &Kek) -> Result<PostgresKeyStore> {
        let table = PostgresKeyTable::open(url, ledger)?;
        let wrapped = match table.secret()? {
            Some(w) => w,
            None => table.create(&wrap_secret(kek, &crypt::random()?)?)?,
        };
        let lookup = unwrap_secret(kek, &wrapped)?;
        Ok(PostgresKeyStore {
            table,
            kek: Mutex::new(kek.clone()),
            lookup,
            cache: Mutex::default(),
        })
    }

    fn kek(&self) -> Kek {
        self.kek.lock().expect("the KEK lock").clone()
    }

    /// The data key of `id` from its wrapping, remembered for the next use.
    fn unwrap_and_cache(&self, id: KeyId, wrapped: &[u8]) -> Result<DataKey> {
        let key = self
            .kek()
            .unwrap(id, wrapped)
            .ok_or_else(|| backend("a wrapped key does not unwrap (changed bytes?)"))?;
        self.cache
            .lock()
            .expect("the cache lock")
            .insert(id, key.clone());
        Ok(key)
    }
}

fn key_id(bytes: &[u8]) -> Result<KeyId> {
    KeyId::from_slice(bytes).ok_or_else(|| backend("a key id has the wrong length"))
}

impl KeyStore for PostgresKeyStore {
    fn key_of_client(&self, digits: &str, create: bool) -> Result<Option<KeyId>> {
        let lookup = lookup_hash(&self.lookup, digits);
        if let Some(id) = self.table.key_of(&lookup)? {
            return key_id(&id).map(Some);
        }
        if !create {
            return Ok(None);
        }
        let id = KeyId::random()?;
        let key = DataKey::random()?;
        let held = key_id(&self.table.insert(&KeyRow {
            key_id: id.0.to_vec(),
            lookup: lookup.to_vec(),
            wrapped: self.kek().wrap(id, &key)?,
            owner: seal_owner(&key, id, digits)?,
        })?)?;
        // Another writer may have made the client's key meanwhile: theirs counts.
        if held == id {
            self.cache.lock().expect("the cache lock").insert(id, key);
        }
        Ok(Some(held))
    }

    fn data_key(&self, id: KeyId) -> Result<Option<DataKey>> {
        if let Some(k) = self.cache.lock().expect("the cache lock").get(&id) {
            return Ok(Some(k.clone()));
        }
        let Some(row) = self.table.row(&id.0)? else {
            return Ok(None);
        };
        self.unwrap_and_cache(id, &row.wrapped).map(Some)
    }

    fn client_of(&self, id: KeyId) -> Result<Option<String>> {
        // One query: the row has the wrapped key and the owner both.
        let Some(row) = self.table.row(&id.0)? else {
            return Ok(None);
        };
        let cached = self.cache.lock().expect("the cache lock").get(&id).cloned();
        let key = match cached {
            Some(k) => k,
            None => self.unwrap_and_cache(id, &row.wrapped)?,
        };
        open_owner(&key, id, &row.owner).map(Some)
    }

    fn key_ids(&self) -> Result<Vec<KeyId>> {
        self.table.key_ids()?.iter().map(|b| key_id(b)).collect()
    }

    fn destroy(&self, ids: &[KeyId]) -> Result<usize> {
        let doomed: Vec<&[u8]> = ids.iter().map(|i| i.0.as_slice()).collect();
        // Nothing to rewrite when none of them is held (a weeding finished earlier).
        let mut held = false;
        for id in &doomed {
            held |= self.table.row(id)?.is_some();
        }
        if !held {
            return Ok(0);
        }
        let destroyed = self.table.rewrite(
            &mut |row| Ok((!doomed.contains(&row.key_id.as_slice())).then(|| row.wrapped.clone())),
            None,
        )?;
        let mut cache = self.cache.lock().expect("the cache lock");
        for id in ids {
            cache.remove(id);
        }
        Ok(destroyed)
    }

    fn rotate(&self, new: &Kek) -> Result<usize> {
        let mut kek = self.kek.lock().expect("the KEK lock");
        let mut n = 0;
        let secret = wrap_secret(new, &self.lookup)?;
        self.table.rewrite(
            &mut |row| {
                let unwrapped = KeyId::from_slice(&row.key_id)
                    .and_then(|id| Some((id, kek.unwrap(id, &row.wrapped)?)));
                let Some((id, key)) = unwrapped else {
                    return Err(StoreError::Backend(
                        "the key store: a wrapped key does not unwrap (changed bytes?)".into(),
                    ));
                };
                let wrapped = new
                    .wrap(id, &key)
                    .map_err(|e| StoreError::Backend(e.to_string().into()))?;
                n += 1;
                Ok(Some(wrapped))
            },
            Some(&secret),
        )?;
        *kek = new.clone();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use planledger_store_postgres::{PostgresStore, migrate, postgres, testing};

    const A: &str = "196408233234";
    const B: &str = "197010632391";

    /// A migrated database with the ledgers `main` and `other`.
    fn database() -> String {
        let url = testing::shared().create_database().unwrap();
        migrate(&url).unwrap();
        PostgresStore::create(&url, "main").unwrap();
        PostgresStore::create(&url, "other").unwrap();
        url
    }

    /// A login role with the application's grants only, and the database's URL as it.
    fn as_app_role(url: &str) -> String {
        let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
        admin
            .batch_execute(
                "DO $$ BEGIN CREATE ROLE keeper LOGIN IN ROLE planledger_app;
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
            )
            .unwrap();
        let db = url.rsplit('/').next().unwrap().split('?').next().unwrap();
        testing::shared().url_as("keeper", db)
    }

    /// A login role that may read the tables a reader had before the key store tables
    /// existed, and the database's URL as it.
    fn as_old_reader(url: &str) -> String {
        let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
        admin
            .batch_execute(
                "DO $$ BEGIN CREATE ROLE old_reader LOGIN;
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
                 GRANT USAGE ON SCHEMA planledger TO old_reader;
                 GRANT SELECT ON planledger.ledgers, planledger.schema_migrations TO old_reader;",
            )
            .unwrap();
        let db = url.rsplit('/').next().unwrap().split('?').next().unwrap();
        testing::shared().url_as("old_reader", db)
    }

    fn count(url: &str, query: &str, arg: &[u8]) -> i64 {
        postgres::Client::connect(url, postgres::NoTls)
            .unwrap()
            .query_one(query, &[&arg])
            .unwrap()
            .get(0)
    }

    #[test]
    fn keys_are_made_once_found_by_number_destroyed_and_rotated_in_postgres() {
        let admin_url = database();
        // Everything below needs no more than the application role's grants.
        let url = as_app_role(&admin_url);
        let kek = Kek::from_bytes([1; 32]);
        assert!(!has_key_store(&url, "main").unwrap());
        let ks = PostgresKeyStore::open_or_create(&url, "main", &kek).unwrap();
        assert!(has_key_store(&url, "main").unwrap());
        assert!(!has_key_store(&url, "other").unwrap());
        // A reader's role granted nothing on the key tables still learns it.
        let reader = as_old_reader(&admin_url);
        assert!(has_key_store(&reader, "main").unwrap());
        assert!(!has_key_store(&reader, "other").unwrap());
        // Another ledger in the same database keeps keys of its own, under its own KEK.
        let other_kek = Kek::from_bytes([9; 32]);
        let other = PostgresKeyStore::open_or_create(&url, "other", &other_kek).unwrap();
        let o = other.key_of_client(A, true).unwrap().unwrap();
        let key_o = other.data_key(o).unwrap().unwrap();

        let a = ks.key_of_client(A, true).unwrap().unwrap();
        let b = ks.key_of_client(B, true).unwrap().unwrap();
        assert_ne!(a, b);
        assert_ne!(a, o);
        assert_eq!(ks.key_of_client(A, true).unwrap(), Some(a));
        assert_eq!(ks.client_of(a).unwrap().as_deref(), Some(A));
        let key_a = ks.data_key(a).unwrap().unwrap();
        // The number is in no column: lookup hashes and sealed owners only.
        let clear = count(
            &admin_url,
            "SELECT count(*) FROM planledger.client_keys
             WHERE position($1 IN key_id || lookup || wrapped || owner) > 0",
            A.as_bytes(),
        );
        assert_eq!(clear, 0);

        // Another KEK is refused; rotation moves to a new one.
        let err =
            PostgresKeyStore::open_or_create(&url, "main", &Kek::from_bytes([2; 32])).unwrap_err();
        assert_eq!(err.kind(), Kind::BadInput, "{err}");
        let new = Kek::from_bytes([3; 32]);
        assert_eq!(ks.rotate(&new).unwrap(), 2);
        assert!(PostgresKeyStore::open_or_create(&url, "main", &kek).is_err());
        let ks = PostgresKeyStore::open_or_create(&url, "main", &new).unwrap();
        assert_eq!(ks.data_key(a).unwrap(), Some(key_a));
        assert_eq!(ks.client_of(a).unwrap().as_deref(), Some(A));

        assert_eq!(ks.destroy(&[a]).unwrap(), 1);
        assert_eq!(ks.destroy(&[a]).unwrap(), 0);
        assert_eq!(ks.data_key(a).unwrap(), None);
        assert_eq!(ks.client_of(a).unwrap(), None);
        assert_eq!(ks.key_of_client(A, false).unwrap(), None);
        assert!(ks.data_key(b).unwrap().is_some());
        assert_eq!(ks.key_ids().unwrap(), vec![b]);
        // A client weeded and ordered for again gets a new key.
        let again = ks.key_of_client(A, true).unwrap().unwrap();
        assert_ne!(again, a);

        // The other ledger's key went through both rewrites untouched.
        let other = PostgresKeyStore::open_or_create(&url, "other", &other_kek).unwrap();
        assert_eq!(other.data_key(o).unwrap(), Some(key_o));
        assert_eq!(other.key_ids().unwrap(), vec![o]);
    }
}
