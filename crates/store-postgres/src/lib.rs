//! planledger's scale-out store, on PostgreSQL.
//!
//! When an organisation, a region or a hosting provider outgrows one machine, the
//! ledger moves from the embedded redb store to PostgreSQL: one ledger per organisation,
//! many ledgers in one database, and high availability by PostgreSQL's own synchronous
//! streaming replication. Nothing here replicates or clusters by itself; the engine does
//! that, and has done it for decades.
//!
//! - [`migrate`] brings a database to the schema this build knows (versioned, idempotent;
//!   `planledger db migrate` calls it). Tables `planledger.ledgers` (one row per ledger:
//!   its name and head), `planledger.records` (ledger, position, stream id and version,
//!   the sealed bytes) and `planledger.nodes` (Merkle nodes). The schema enforces gapless
//!   positions, unique and gapless stream versions, append-only records and nodes (for
//!   superusers too, unless they switch triggers off), and grants the application role
//!   `planledger_app` only SELECT and INSERT, plus UPDATE of the head columns.
//! - [`PostgresStore`] implements [`planledger_store::Store`] for one ledger. An append
//!   locks its ledger's head row (`SELECT … FOR UPDATE`), seals the batch with the shared
//!   [`planledger_store::Chain`], inserts the records and Merkle nodes, updates the head
//!   and commits (appends of this process that arrive meanwhile share the next commit:
//!   group commit, [`planledger_store::GroupCommit`]); it returns once the commit is
//!   durable (`synchronous_commit`, and on a replicated cluster the synchronous standby
//!   too).
//! - [`PostgresKeyTable`] keeps the rows of a ledger's key store (per-client data keys,
//!   wrapped by the key-encryption key, for weeding by crypto-shredding) in
//!   `planledger.key_stores` and `planledger.client_keys`; the application layer
//!   encrypts and decrypts (`planledger_app::keystore`).
//! - [`testing`] starts a throwaway server for tests and benches.

mod keys;
mod schema;
mod store;
pub mod testing;
mod tls;

pub use keys::{Keep, KeyRow, PostgresKeyTable};
/// The client crate, re-exported: [`testing::TestServer::admin`] hands out its
/// `Client`, and benches and tests speak plain SQL through it.
pub use postgres;
pub use schema::{MIGRATIONS, Migration, SCHEMA_VERSION, migrate};
pub use store::PostgresStore;

/// What went wrong talking to PostgreSQL. Store operations wrap it in
/// [`planledger_store::StoreError::Backend`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    #[error("cannot connect to PostgreSQL: {}", detail(source))]
    Connect {
        #[source]
        source: postgres::Error,
    },
    /// The URL's TLS settings (`sslmode`, `sslrootcert`) cannot be used.
    #[error("cannot connect to PostgreSQL over TLS: {message}")]
    Tls { message: String },
    #[error("PostgreSQL failed to {what}: {}", detail(source))]
    Sql {
        what: &'static str,
        #[source]
        source: postgres::Error,
    },
    #[error("migration {version} failed: {}", detail(source))]
    Migration {
        version: u32,
        #[source]
        source: postgres::Error,
    },
    #[error(
        "the database schema is at version {found}, this build needs {needed}: \
         run `planledger db migrate` first"
    )]
    NotMigrated { found: u32, needed: u32 },
    #[error(
        "the database schema is at version {found}, newer than this build knows ({known}): \
         upgrade planledger"
    )]
    NewerSchema { found: u32, known: u32 },
    #[error("{what} {value} does not fit PostgreSQL's bigint")]
    OutOfRange { what: &'static str, value: u64 },
}

/// The server's own message and SQLSTATE where there is one: `postgres::Error` alone
/// displays only "db error".
fn detail(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            // The client library's text names the step ("error performing TLS
            // handshake"); the reason is in its sources.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let more = s.to_string();
                if !text.contains(&more) {
                    text = format!("{text}: {more}");
                }
                source = s.source();
            }
            if text.contains("invalid peer certificate") {
                format!(
                    "{text} (the server's certificate is not signed by a CA in sslrootcert, \
                     or does not name the URL's host: check sslrootcert and the host)"
                )
            } else if text.contains("server does not support TLS") {
                format!("{text} (the server has ssl = off; or connect without sslmode=require)")
            } else {
                text
            }
        }
    }
}

impl PostgresError {
    /// Whether the database could not be reached at all (the address, the password, TLS),
    /// as against a database that answered but is not ready (not migrated, no ledger).
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            PostgresError::Connect { .. } | PostgresError::Tls { .. }
        )
    }
}
