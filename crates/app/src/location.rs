//! Where a ledger lives, and the one place that opens it: a directory holds the embedded
//! redb store, a `postgres://` URL a PostgreSQL database.

use std::path::PathBuf;

use planledger_plan::DeadlinePolicy;
use planledger_store::{Head, Store};
use planledger_store_postgres::PostgresStore;
use planledger_store_redb::RedbStore;

use crate::error::{Error, Kind, Result};

/// The file of the embedded store inside a ledger directory.
const REDB_FILE: &str = "ledger.redb";

/// A ledger's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory holding `ledger.redb`.
    Dir(PathBuf),
    /// A PostgreSQL database and the ledger's name in it.
    Postgres { url: String, name: String },
}

impl Location {
    /// `text` is a directory or a `postgres://` URL; `name` the ledger's name in a
    /// PostgreSQL database.
    pub fn parse(text: &str, name: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres {
                url: text.to_owned(),
                name: name.to_owned(),
            }
        } else {
            Location::Dir(PathBuf::from(text))
        }
    }

    /// For messages: the directory, or the ledger's name (never the URL, which may hold
    /// a password).
    pub fn describe(&self) -> String {
        match self {
            Location::Dir(d) => d.display().to_string(),
            Location::Postgres { name, .. } => format!("PostgreSQL ledger {name:?}"),
        }
    }

    fn context(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::new(Kind::Storage, format!("{what} {}: {e}", self.describe()))
    }

    /// Opens the existing ledger. A store whose head disagrees with its records is
    /// returned as [`planledger_store::StoreError::Corrupt`], so `verify` can report it
    /// as a finding.
    pub fn open(&self) -> Result<Box<dyn Store>> {
        match self {
            Location::Dir(dir) => {
                let file = dir.join(REDB_FILE);
                if !file.exists() {
                    return Err(Error::new(
                        Kind::NotFound,
                        format!(
                            "there is no ledger in {}; create one with `planledger --ledger {} init`",
                            dir.display(),
                            dir.display()
                        ),
                    ));
                }
                // A user who may read the file but not write it (an inspector's account,
                // a read-only mount) opens it for reading: every report and `verify` work,
                // and a write fails saying the ledger is read-only for this user.
                let writable = match std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&file)
                {
                    Ok(_) => true,
                    Err(e) => !matches!(
                        e.kind(),
                        std::io::ErrorKind::PermissionDenied
                            | std::io::ErrorKind::ReadOnlyFilesystem
                    ),
                };
                let store = if writable {
                    RedbStore::open(&file)?
                } else {
                    RedbStore::open_read_only(&file)?
                };
                tracing::debug!(backend = "redb", read_only = !writable, "opened the ledger");
                Ok(Box::new(store))
            }
            Location::Postgres { url, name } => match PostgresStore::open(url, name) {
                Ok(store) => {
                    tracing::debug!(backend = "postgresql", "opened the ledger");
                    Ok(Box::new(store))
                }
                Err(e @ planledger_store::StoreError::Corrupt { .. }) => Err(e.into()),
                Err(e) if is_connection(&e) => Err(self.context("cannot open", e)),
                Err(e) => Err(self.context(
                    "cannot open (run `planledger db migrate` and `init` first)",
                    e,
                )),
            },
        }
    }

    /// Opens the existing ledger for the application: with a key-encryption key, its
    /// personal data is encrypted under per-client keys ([`crate::keyed::KeyedStore`];
    /// the key store is created the first time a KEK is given, `keys.redb` beside an
    /// embedded ledger or rows of the PostgreSQL database's key tables, and from then on
    /// new writes are encrypted). Without one, a ledger that has a key store is refused
    /// (its payloads cannot be read, and nothing may be written to it in plaintext); one
    /// without reads and writes plaintext as before.
    pub fn open_with(&self, kek: Option<&crate::crypt::Kek>) -> Result<Box<dyn Store>> {
        match kek {
            Some(kek) => Ok(Box::new(self.open_keyed(kek)?)),
            None => {
                let refused = || {
                    Error::new(
                        Kind::BadInput,
                        "this ledger encrypts personal data: give its key-encryption key (--kek FILE or PLANLEDGER_KEK)",
                    )
                };
                match self {
                    Location::Dir(dir) if dir.join(crate::keystore::KEYS_FILE).exists() => {
                        Err(refused())
                    }
                    Location::Dir(_) => self.open(),
                    // Opened first: its errors say what to do about a missing ledger.
                    Location::Postgres { url, name } => {
                        let store = self.open()?;
                        if crate::keystore_pg::has_key_store(url, name)
                            .map_err(|e| self.context("cannot read the key store of", e))?
                        {
                            return Err(refused());
                        }
                        Ok(store)
                    }
                }
            }
        }
    }

    /// Opens the ledger with its key store under `kek` (see [`Location::open_with`]).
    pub fn open_keyed(&self, kek: &crate::crypt::Kek) -> Result<crate::keyed::KeyedStore> {
        let store = self.open()?;
        let keys: std::sync::Arc<dyn crate::keystore::KeyStore> = match self {
            Location::Dir(dir) => crate::weeding::open_key_store(dir, kek)?,
            Location::Postgres { url, name } => std::sync::Arc::new(
                crate::keystore_pg::PostgresKeyStore::open_or_create(url, name, kek)?,
            ),
        };
        Ok(crate::keyed::KeyedStore::new(store, keys))
    }

    /// Creates a new, empty ledger; an existing one is refused and left unchanged.
    pub fn create(&self) -> Result<Box<dyn Store>> {
        let exists = || {
            Error::new(
                Kind::BadInput,
                format!(
                    "{} already holds a ledger; nothing was changed",
                    self.describe()
                ),
            )
        };
        match self {
            Location::Dir(dir) => {
                let not_a_dir = || {
                    Error::new(
                        Kind::BadInput,
                        format!(
                            "{} is a file, not a directory; give --ledger a directory (it is created if missing)",
                            dir.display()
                        ),
                    )
                };
                if dir.exists() && !dir.is_dir() {
                    return Err(not_a_dir());
                }
                // Directories it creates are mode 0700: the ledger holds personal data.
                // An existing directory keeps its mode (the operator chose it).
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder.create(dir).map_err(|e| match e.kind() {
                    // A file where a directory of the path belongs.
                    std::io::ErrorKind::NotADirectory | std::io::ErrorKind::AlreadyExists => {
                        not_a_dir()
                    }
                    _ => Error::io(format!("cannot create {}", dir.display()), e),
                })?;
                let file = dir.join(REDB_FILE);
                if file.exists() {
                    return Err(exists());
                }
                let store = RedbStore::create(&file)?;
                crate::index::mark_new(&store)?;
                Ok(Box::new(store))
            }
            Location::Postgres { url, name } => {
                let ledgers = PostgresStore::ledgers(url).map_err(|e| {
                    if is_connection(&e) {
                        self.context("cannot reach", e)
                    } else {
                        self.context(
                            "cannot read the ledgers (run `planledger db migrate` first) of",
                            e,
                        )
                    }
                })?;
                if ledgers.contains(name) {
                    return Err(exists());
                }
                let store = PostgresStore::create(url, name)?;
                crate::index::mark_new(&store)?;
                Ok(Box::new(store))
            }
        }
    }

    /// Opens the ledger, creating it if it does not exist (the target of a copy).
    pub fn open_or_create(&self) -> Result<Box<dyn Store>> {
        match self {
            Location::Dir(dir) if !dir.join(REDB_FILE).exists() => self.create(),
            Location::Postgres { url, name } => Ok(Box::new(PostgresStore::create(url, name)?)),
            _ => self.open(),
        }
    }
}

impl Location {
    /// Copies this whole ledger into the empty ledger at `to` (created if missing): the
    /// records keep their bytes, so every checkpoint signed before stays valid; the plan
    /// index is rebuilt from them.
    pub fn copy_to(&self, to: &Location, policy: &DeadlinePolicy) -> Result<Head> {
        let from = self.open()?;
        let target = to.open_or_create()?;
        let head = planledger_store::copy_ledger(from.as_ref(), target.as_ref(), &mut |_, _| {})
            .map_err(|e| {
                let why = format!(
                    "the copy failed ({e}); the target may hold part of it: delete it and copy again"
                );
                Error::new(Error::from(e).kind(), why)
            })?;
        // The records keep their bytes; the index beside them is derived again.
        crate::index::reindex(target.as_ref(), policy, &mut |_, _| {})?;
        Ok(head)
    }
}

/// Whether a PostgreSQL store failed to connect at all (address, password, TLS): then
/// the hint to migrate would mislead.
fn is_connection(e: &planledger_store::StoreError) -> bool {
    match e {
        planledger_store::StoreError::Backend(b) => b
            .downcast_ref::<planledger_store_postgres::PostgresError>()
            .is_some_and(|p| p.is_connection()),
        _ => false,
    }
}

/// Brings the PostgreSQL database at `url` to this build's schema (idempotent; as the
/// database owner). Returns how many migrations it applied now.
pub fn migrate(url: &str) -> Result<usize> {
    planledger_store_postgres::migrate(url)
        .map(|applied| applied.len())
        .map_err(|e| Error::new(Kind::Storage, format!("migration failed: {e}")))
}
