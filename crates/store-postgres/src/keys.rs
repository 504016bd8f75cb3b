//! [`PostgresKeyTable`]: the rows of one ledger's key store (migration 8's
//! `planledger.key_stores` and `planledger.client_keys`), as bytes. What the bytes are
//! (keys wrapped by the key-encryption key, lookup hashes, sealed owners) is the
//! application layer's business (`planledger_app::keystore`): nothing here encrypts,
//! and nothing here sees a key in the clear.
//!
//! Rows leave the key table only by [`PostgresKeyTable::rewrite`]: in one transaction,
//! it locks the table, reads every row, TRUNCATEs it and inserts back the rows that
//! stay. TRUNCATE gives the table and its indexes new files and drops the old ones at
//! commit, so a removed row's bytes are in no file of the table afterwards (a DELETE
//! leaves them in dead tuples, and VACUUM FULL copies the rows an open snapshot may
//! still see). What the server keeps elsewhere (WAL, archives, base backups, replicas)
//! is the operator's: see the README, "Weeding".

use std::sync::Mutex;

use planledger_store::StoreError;
use postgres::Client;

use crate::PostgresError;

/// One client key's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    /// The key id (16 random bytes).
    pub key_id: Vec<u8>,
    /// The client's lookup hash (32 bytes).
    pub lookup: Vec<u8>,
    /// The data key wrapped by the key-encryption key.
    pub wrapped: Vec<u8>,
    /// The client's number sealed under the client's own key.
    pub owner: Vec<u8>,
}

/// What [`PostgresKeyTable::rewrite`] asks of each of the ledger's rows: the wrapped key
/// to store instead, or `None` to drop the row.
pub type Keep<'a> = dyn FnMut(&KeyRow) -> Result<Option<Vec<u8>>, StoreError> + 'a;

/// The key store rows of one ledger, over a connection of its own.
pub struct PostgresKeyTable {
    url: String,
    ledger_id: i32,
    client: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PostgresKeyTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("PostgresKeyTable")
            .field("ledger_id", &self.ledger_id)
            .finish_non_exhaustive()
    }
}

fn backend(e: PostgresError) -> StoreError {
    StoreError::Backend(Box::new(e))
}

fn sql(what: &'static str) -> impl Fn(postgres::Error) -> StoreError {
    move |source| backend(PostgresError::Sql { what, source })
}

impl PostgresKeyTable {
    /// The key table of the existing ledger `ledger` in the database at `url` (which
    /// must be migrated); it may hold no key store yet ([`PostgresKeyTable::secret`]).
    pub fn open(url: &str, ledger: &str) -> Result<PostgresKeyTable, StoreError> {
        let mut client = crate::store::connect(url).map_err(backend)?;
        crate::schema::check_version(&mut client).map_err(backend)?;
        let ledger_id: i32 = client
            .query_opt(
                "SELECT id FROM planledger.ledgers WHERE name = $1",
                &[&ledger],
            )
            .map_err(sql("find the ledger"))?
            .ok_or_else(|| {
                StoreError::Backend(
                    format!(
                        "there is no ledger {ledger:?} in the database; run `planledger init` first"
                    )
                    .into(),
                )
            })?
            .get(0);
        Ok(PostgresKeyTable {
            url: url.to_owned(),
            ledger_id,
            client: Mutex::new(Some(client)),
        })
    }

    /// Runs `f` on the connection, connecting again if it broke (a restarted server).
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(crate::store::connect(&self.url).map_err(backend)?);
        }
        f(guard.as_mut().expect("connected above"))
    }

    /// The ledger's wrapped lookup secret; `None` when the ledger has no key store.
    pub fn secret(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT lookup_secret FROM planledger.key_stores WHERE ledger = $1",
                &[&self.ledger_id],
            )
            .map_err(sql("read the key store"))?
            .map(|r| r.get(0)))
        })
    }

    /// Whether the ledger has a key store. Reads only the `ledger` column, which every
    /// role may read (migration 8), so that a reader's role set up before the key store
    /// tables existed still learns that the ledger is encrypted.
    pub fn exists(&self) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.query_one(
                "SELECT EXISTS (SELECT 1 FROM planledger.key_stores WHERE ledger = $1)",
                &[&self.ledger_id],
            )
            .map_err(sql("read the key store"))?
            .get(0))
        })
    }

    /// Makes the ledger's key store with the wrapped lookup secret `wrapped`, unless it
    /// has one; returns the one it has now (another process's, if it was first).
    pub fn create(&self, wrapped: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO planledger.key_stores (ledger, lookup_secret) VALUES ($1, $2)
                 ON CONFLICT (ledger) DO NOTHING",
                &[&self.ledger_id, &wrapped],
            )
            .map_err(sql("create the key store"))?;
            Ok(c.query_one(
                "SELECT lookup_secret FROM planledger.key_stores WHERE ledger = $1",
                &[&self.ledger_id],
            )
            .map_err(sql("read the key store"))?
            .get(0))
        })
    }

    /// The key id of the client whose lookup hash is `lookup`.
    pub fn key_of(&self, lookup: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT key_id FROM planledger.client_keys WHERE ledger = $1 AND lookup = $2",
                &[&self.ledger_id, &lookup],
            )
            .map_err(sql("look a client up in the key store"))?
            .map(|r| r.get(0)))
        })
    }

    /// Adds `row` unless its client has a key already; returns the key id the client
    /// has now (the one another writer made first, if one did).
    pub fn insert(&self, row: &KeyRow) -> Result<Vec<u8>, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO planledger.client_keys (ledger, key_id, lookup, wrapped, owner)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ledger, lookup) DO NOTHING",
                &[
                    &self.ledger_id,
                    &row.key_id,
                    &row.lookup,
                    &row.wrapped,
                    &row.owner,
                ],
            )
            .map_err(sql("add a client key"))?;
            Ok(c.query_one(
                "SELECT key_id FROM planledger.client_keys WHERE ledger = $1 AND lookup = $2",
                &[&self.ledger_id, &row.lookup],
            )
            .map_err(sql("read a client key"))?
            .get(0))
        })
    }

    /// The row of key `key_id`.
    pub fn row(&self, key_id: &[u8]) -> Result<Option<KeyRow>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT key_id, lookup, wrapped, owner FROM planledger.client_keys
                 WHERE ledger = $1 AND key_id = $2",
                &[&self.ledger_id, &key_id],
            )
            .map_err(sql("read a client key"))?
            .map(|r| KeyRow {
                key_id: r.get(0),
                lookup: r.get(1),
                wrapped: r.get(2),
                owner: r.get(3),
            }))
        })
    }

    /// Every key id of the ledger.
    pub fn key_ids(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT key_id FROM planledger.client_keys WHERE ledger = $1 ORDER BY key_id",
                &[&self.ledger_id],
            )
            .map_err(sql("list the client keys"))?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    /// Rewrites the key table in one transaction: every row of other ledgers stays as
    /// it is; of this ledger's rows, `keep` returns the wrapped key to store instead
    /// (rewrapped, or the same bytes), or `None` to drop the row. With `secret`, the
    /// ledger's lookup secret is replaced too. The table gets new files (see the module
    /// documentation), so dropped rows and replaced wrappings are in none of them. A
    /// failure of `keep` rolls everything back. Returns how many rows it dropped.
    pub fn rewrite(&self, keep: &mut Keep<'_>, secret: Option<&[u8]>) -> Result<usize, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(sql("begin rewriting the key table"))?;
            // Readers and writers of every ledger's keys wait for the commit (the table
            // holds one row per client: this takes moments).
            tx.batch_execute("LOCK TABLE planledger.client_keys IN ACCESS EXCLUSIVE MODE")
                .map_err(sql("lock the key table"))?;
            let rows = tx
                .query(
                    "SELECT ledger, key_id, lookup, wrapped, owner FROM planledger.client_keys",
                    &[],
                )
                .map_err(sql("read the key table"))?;
            let (mut ledgers, mut ids, mut lookups, mut wrapped, mut owners) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut dropped = 0;
            for r in rows {
                let ledger: i32 = r.get(0);
                let row = KeyRow {
                    key_id: r.get(1),
                    lookup: r.get(2),
                    wrapped: r.get(3),
                    owner: r.get(4),
                };
                let stored = if ledger == self.ledger_id {
                    match keep(&row)? {
                        Some(w) => w,
                        None => {
                            dropped += 1;
                            continue;
                        }
                    }
                } else {
                    row.wrapped
                };
                ledgers.push(ledger);
                ids.push(row.key_id);
                lookups.push(row.lookup);
                wrapped.push(stored);
                owners.push(row.owner);
            }
            tx.batch_execute("TRUNCATE planledger.client_keys")
                .map_err(sql("truncate the key table"))?;
            tx.execute(
                "INSERT INTO planledger.client_keys (ledger, key_id, lookup, wrapped, owner)
                 SELECT * FROM unnest($1::integer[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[])",
                &[&ledgers, &ids, &lookups, &wrapped, &owners],
            )
            .map_err(sql("write the key table back"))?;
            if let Some(secret) = secret {
                tx.execute(
                    "UPDATE planledger.key_stores SET lookup_secret = $2 WHERE ledger = $1",
                    &[&self.ledger_id, &secret],
                )
                .map_err(sql("replace the lookup secret"))?;
            }
            tx.commit().map_err(sql("commit the key table"))?;
            Ok(dropped)
        })
    }
}
