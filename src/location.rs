//! Where a ledger lives, and the one function that opens it: a directory holds the
//! embedded redb store, a `postgres://` URL a PostgreSQL database.

use std::path::PathBuf;

use anyhow::Context;
use planledger_store::{Store, StoreError};
use planledger_store_postgres::PostgresStore;
use planledger_store_redb::RedbStore;

use crate::exit::{Exit, failure};

/// The file of the embedded store inside a ledger directory.
const REDB_FILE: &str = "ledger.redb";

/// A validated ledger location.
#[derive(Debug, Clone)]
pub enum Location {
    /// A directory holding `ledger.redb`.
    Dir(PathBuf),
    /// A PostgreSQL database and the ledger's name in it.
    Postgres { url: String, name: String },
}

impl Location {
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

    /// For messages: the directory, or the ledger name (never the URL, which may hold a
    /// password).
    pub fn describe(&self) -> String {
        match self {
            Location::Dir(d) => d.display().to_string(),
            Location::Postgres { name, .. } => format!("PostgreSQL ledger {name:?}"),
        }
    }
}

/// Opens the existing ledger at `loc`. A corrupt store (its head disagrees with its
/// records) is returned as the store error, so `verify` can report it as a finding.
pub fn open(loc: &Location) -> anyhow::Result<Box<dyn Store>> {
    match loc {
        Location::Dir(dir) => {
            let file = dir.join(REDB_FILE);
            if !file.exists() {
                return Err(failure(
                    Exit::NotFound,
                    format!(
                        "there is no ledger in {}; create one with `planledger --ledger {} init`",
                        dir.display(),
                        dir.display()
                    ),
                ));
            }
            let store = RedbStore::open(&file)
                .with_context(|| format!("cannot open the ledger in {}", dir.display()))?;
            Ok(Box::new(store))
        }
        Location::Postgres { url, name } => {
            let store = PostgresStore::open(url, name).with_context(|| {
                format!(
                    "cannot open {}; run `planledger db migrate` and `init` first",
                    loc.describe()
                )
            })?;
            Ok(Box::new(store))
        }
    }
}

/// Creates a new, empty ledger at `loc`; an existing one is refused.
pub fn create(loc: &Location) -> anyhow::Result<Box<dyn Store>> {
    match loc {
        Location::Dir(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory {}", dir.display()))?;
            let file = dir.join(REDB_FILE);
            if file.exists() {
                return Err(failure(
                    Exit::BadInput,
                    format!(
                        "{} already holds a ledger; nothing was changed",
                        dir.display()
                    ),
                ));
            }
            let store = RedbStore::create(&file)
                .with_context(|| format!("cannot create the ledger in {}", dir.display()))?;
            Ok(Box::new(store))
        }
        Location::Postgres { url, name } => {
            let existed = PostgresStore::ledgers(url)
                .context("cannot read the database's ledgers; run `planledger db migrate` first")?
                .contains(name);
            if existed {
                return Err(failure(
                    Exit::BadInput,
                    format!("{} already exists; nothing was changed", loc.describe()),
                ));
            }
            Ok(Box::new(PostgresStore::create(url, name).map_err(
                |e: StoreError| {
                    anyhow::Error::new(e).context(format!("cannot create {}", loc.describe()))
                },
            )?))
        }
    }
}

/// Opens the ledger at `loc`, creating it if it does not exist (the target of `copy`).
pub fn open_or_create(loc: &Location) -> anyhow::Result<Box<dyn Store>> {
    match loc {
        Location::Dir(dir) if !dir.join(REDB_FILE).exists() => create(loc),
        Location::Postgres { url, name } => Ok(Box::new(
            PostgresStore::create(url, name)
                .with_context(|| format!("cannot open {}", loc.describe()))?,
        )),
        _ => open(loc),
    }
}
