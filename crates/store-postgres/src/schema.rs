//! The versioned schema and the migrations that build it.
//!
//! Many ledgers share one set of tables, told apart by a `ledger` id column (a row of
//! `planledger.ledgers`), rather than a schema per ledger: one migration brings every
//! ledger of a database up to date, the application role's grants are written once, and
//! a new organisation is one INSERT, not DDL run by an administrator. Each ledger's
//! head row is its lock: appends to one ledger serialise on it, appends to others don't
//! wait.
//!
//! What the schema itself enforces, so that a bug or a careless administrator cannot
//! quietly break the ledger's promises:
//! - positions are gapless from 0 and unique, and stream versions gapless from 1 and
//!   unique (the conflict check): primary and unique keys, and a statement trigger that
//!   checks each INSERT continues what is stored;
//! - records and nodes are append-only, for superusers too: UPDATE, DELETE and TRUNCATE
//!   are refused by triggers;
//! - the application role `planledger_app` may only read and insert records and Merkle
//!   nodes; it may update nothing but the three head columns of `ledgers`, and delete
//!   nothing.
//!
//! A superuser can still switch the triggers off (`session_replication_role = replica`);
//! `verify` catches what they do then.

use postgres::Client;

use crate::PostgresError;

/// One schema change, applied once per database and recorded in
/// `planledger.schema_migrations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub version: u32,
    pub description: &'static str,
    sql: &'static str,
}

/// Every migration, in order. A released migration is never edited: changes are new
/// migrations.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "ledgers, records and Merkle nodes; append-only application role",
        sql: r#"
DO $$ BEGIN
    CREATE ROLE planledger_app NOLOGIN;
EXCEPTION
    -- Roles are cluster-wide: another database (or a concurrent migration of one) may
    -- have created it already.
    WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

CREATE TABLE planledger.ledgers (
    id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name      text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    size      bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    last_hash bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'
              CHECK (length(last_hash) = 32),
    -- The Merkle frontier: the roots of the perfect subtrees, largest first, 32 bytes each.
    peaks     bytea NOT NULL DEFAULT '' CHECK (length(peaks) % 32 = 0)
);

CREATE TABLE planledger.records (
    ledger         integer NOT NULL,
    position       bigint NOT NULL CHECK (position >= 0),
    stream_id      text NOT NULL,
    stream_version bigint NOT NULL CHECK (stream_version >= 1),
    -- The sealed record exactly as hashed; every other column is an index into it.
    bytes          bytea NOT NULL,
    PRIMARY KEY (ledger, position),
    UNIQUE (ledger, stream_id, stream_version)
);

CREATE TABLE planledger.nodes (
    ledger integer NOT NULL,
    level  smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx    bigint NOT NULL CHECK (idx >= 0),
    hash   bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (ledger, level, idx)
);

-- Gapless positions and stream versions, checked once per INSERT statement over the
-- rows it adds (a foreign key from each row to its predecessor would say the same, at
-- the price of a lookup and a row lock per record). With the primary key and the
-- unique key, "the new values are contiguous and the first one's predecessor is
-- stored" keeps every ledger and stream gapless, since nothing is ever deleted.
CREATE FUNCTION planledger.records_stay_gapless() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.ledger, n.lo INTO bad
    FROM (SELECT ledger, min(position) AS lo, max(position) AS hi, count(*) AS k
          FROM new_rows GROUP BY ledger) n
    WHERE n.hi - n.lo + 1 <> n.k
       OR NOT EXISTS (SELECT 1 FROM planledger.ledgers l WHERE l.id = n.ledger)
       OR (n.lo > 0 AND NOT EXISTS (SELECT 1 FROM planledger.records r
                                    WHERE r.ledger = n.ledger AND r.position = n.lo - 1))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'records of ledger % would not continue its positions gaplessly (near position %)',
            bad.ledger, bad.lo USING ERRCODE = 'check_violation';
    END IF;
    SELECT s.ledger, s.lo INTO bad
    FROM (SELECT ledger, stream_id, min(stream_version) AS lo, max(stream_version) AS hi,
                 count(*) AS k
          FROM new_rows GROUP BY ledger, stream_id) s
    WHERE s.hi - s.lo + 1 <> s.k
       OR (s.lo > 1 AND NOT EXISTS (SELECT 1 FROM planledger.records r
                                    WHERE r.ledger = s.ledger AND r.stream_id = s.stream_id
                                      AND r.stream_version = s.lo - 1))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'records of ledger % would not continue a stream''s versions gaplessly (near version %)',
            bad.ledger, bad.lo USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER records_stay_gapless AFTER INSERT ON planledger.records
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION planledger.records_stay_gapless();

-- Append-only for everyone, superusers included, unless they deliberately switch
-- triggers off (and `verify` then finds what they did).
CREATE FUNCTION planledger.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON planledger.records
    FOR EACH STATEMENT EXECUTE FUNCTION planledger.refuse_change();
CREATE TRIGGER nodes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON planledger.nodes
    FOR EACH STATEMENT EXECUTE FUNCTION planledger.refuse_change();
CREATE TRIGGER ledgers_kept BEFORE DELETE OR TRUNCATE ON planledger.ledgers
    FOR EACH STATEMENT EXECUTE FUNCTION planledger.refuse_change();

GRANT USAGE ON SCHEMA planledger TO planledger_app;
GRANT SELECT ON planledger.schema_migrations TO planledger_app;
GRANT SELECT, INSERT ON planledger.ledgers, planledger.records, planledger.nodes TO planledger_app;
GRANT UPDATE (size, last_hash, peaks) ON planledger.ledgers TO planledger_app;
"#,
    },
    Migration {
        version: 2,
        description: "projection snapshots beside the records",
        sql: r#"
-- A cache of projection state, not part of the ledger: never hashed, replaced in place,
-- and safe to drop (the projection is refolded from the records).
CREATE TABLE planledger.snapshots (
    ledger   integer NOT NULL REFERENCES planledger.ledgers (id),
    name     text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    position bigint NOT NULL CHECK (position >= 0),
    state    bytea NOT NULL,
    PRIMARY KEY (ledger, name)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON planledger.snapshots TO planledger_app;
"#,
    },
    Migration {
        version: 3,
        description: "stream tags (a plan's unit, act and client) instead of projection snapshots",
        sql: r#"
-- What each stream (plan) is about, its unit and its client, so that a reader finds the
-- plans it needs without reading the ledger. Derived data, not part of the ledger: set in
-- the transaction of the append that carries them, rebuilt from the records by
-- `planledger reindex`, never hashed. One row per stream and key.
CREATE TABLE planledger.stream_tags (
    ledger    integer NOT NULL REFERENCES planledger.ledgers (id),
    stream_id text NOT NULL,
    key       text NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (ledger, stream_id, key)
);
CREATE INDEX stream_tags_by_value ON planledger.stream_tags (ledger, key, value, stream_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON planledger.stream_tags TO planledger_app;
-- Readers no longer keep a whole-ledger projection: its snapshots go.
DROP TABLE planledger.snapshots;
"#,
    },
    Migration {
        version: 4,
        description: "stream summaries: the read model's state of each plan",
        sql: r#"
-- The read model: each stream's summary (for a plan, its state without the versions'
-- contents and free text, as JSON), at the stream version it was derived at. Derived
-- data, not part of the ledger: written in the transaction of the append it describes,
-- rebuilt from the records by `planledger reindex`, never hashed; a summary never
-- replaces one of a later stream version.
CREATE TABLE planledger.stream_summaries (
    ledger         integer NOT NULL REFERENCES planledger.ledgers (id),
    stream_id      text NOT NULL,
    stream_version bigint NOT NULL CHECK (stream_version >= 0),
    summary        bytea NOT NULL,
    PRIMARY KEY (ledger, stream_id)
);
-- Readers page through the summaries in byte order of the stream id, as every backend does.
CREATE INDEX stream_summaries_by_id_bytes
    ON planledger.stream_summaries (ledger, (stream_id COLLATE "C"));
GRANT SELECT, INSERT, UPDATE, DELETE ON planledger.stream_summaries TO planledger_app;
-- Ranges of tag values (a plan's next due date, its latest record) in byte order,
-- whatever the database's collation.
CREATE INDEX stream_tags_by_value_bytes
    ON planledger.stream_tags (ledger, key, (value COLLATE "C"));
-- For analysts: each plan's summary as jsonb, with its unit and client from the tags.
CREATE VIEW planledger.plan_states AS
SELECT s.ledger, s.stream_id AS plan, s.stream_version,
       u.value AS unit, c.value AS client,
       convert_from(s.summary, 'UTF8')::jsonb AS state
FROM planledger.stream_summaries s
LEFT JOIN planledger.stream_tags u
       ON u.ledger = s.ledger AND u.stream_id = s.stream_id AND u.key = 'unit'
LEFT JOIN planledger.stream_tags c
       ON c.ledger = s.ledger AND c.stream_id = s.stream_id AND c.key = 'client';
GRANT SELECT ON planledger.plan_states TO planledger_app;
"#,
    },
    Migration {
        version: 5,
        description: "the last record's sealing time (record layout 2)",
        sql: r#"
-- Records of layout 2 carry the time the store sealed them, from the database server's
-- clock, never earlier than the last record's: the head keeps that time so the next
-- append can seal on from it. NULL while the ledger holds only layout-1 records.
ALTER TABLE planledger.ledgers ADD COLUMN sealed_at bigint;
GRANT UPDATE (sealed_at) ON planledger.ledgers TO planledger_app;
"#,
    },
    Migration {
        version: 6,
        description: "command ids: a command is recorded once",
        sql: r#"
-- The source system's id of each command recorded (record layout 2's command_id), and
-- the position of its first record: an append carrying an id found here is refused as
-- recorded already. Written in the append's transaction; the primary key makes two
-- concurrent appends of one id impossible.
CREATE TABLE planledger.commands (
    ledger     integer NOT NULL REFERENCES planledger.ledgers (id),
    command_id text NOT NULL,
    position   bigint NOT NULL CHECK (position >= 0),
    PRIMARY KEY (ledger, command_id)
);
GRANT SELECT, INSERT ON planledger.commands TO planledger_app;
"#,
    },
    Migration {
        version: 7,
        description: "derived bytes kept by name (the map's leaves as of a checkpoint)",
        sql: r#"
-- What a prover resumes from instead of reading every record again (the authenticated
-- map's leaves as of the last checkpoint that signed a map). Derived data, never hashed:
-- it is used only when its map has the root a signed checkpoint commits.
CREATE TABLE planledger.derived (
    ledger integer NOT NULL REFERENCES planledger.ledgers (id),
    name   text NOT NULL,
    bytes  bytea NOT NULL,
    PRIMARY KEY (ledger, name)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON planledger.derived TO planledger_app;
"#,
    },
    Migration {
        version: 8,
        description: "per-client data keys (weeding by crypto-shredding)",
        sql: r#"
-- The key store of a ledger whose personal data is encrypted under per-client keys
-- (README, "Weeding"). Not part of the ledger: nothing here is hashed, and nothing of
-- the ledger is here. One row per ledger that has a key store: its lookup secret (which
-- makes a client's lookup hash), wrapped by the key-encryption key (KEK), which is never
-- in the database.
CREATE TABLE planledger.key_stores (
    ledger        integer PRIMARY KEY REFERENCES planledger.ledgers (id),
    lookup_secret bytea NOT NULL
);
-- One row per client key: the key wrapped by the KEK; the client's lookup hash (a keyed
-- hash of the personnummer, never the number); the number sealed under the client's own
-- key (`owner`). Weeding removes rows by rewriting the table (TRUNCATE and inserting the
-- rows that stay, in one transaction): TRUNCATE gives the table and its indexes new
-- files, so the removed rows' bytes are in none of them, whatever old snapshots exist;
-- a DELETE would leave them in dead tuples until VACUUM, and even VACUUM FULL copies
-- rows some open snapshot can still see.
CREATE TABLE planledger.client_keys (
    ledger  integer NOT NULL REFERENCES planledger.key_stores (ledger),
    key_id  bytea NOT NULL CHECK (length(key_id) = 16),
    lookup  bytea NOT NULL CHECK (length(lookup) = 32),
    wrapped bytea NOT NULL,
    owner   bytea NOT NULL,
    PRIMARY KEY (ledger, key_id),
    UNIQUE (ledger, lookup)
);
GRANT SELECT, INSERT, UPDATE ON planledger.key_stores TO planledger_app;
-- Which ledgers are encrypted is no secret, and every reader must learn it (a ledger with
-- a key store is not opened without its KEK), also a role granted SELECT on the tables
-- that existed before this migration: the ledger column only, to everyone.
GRANT SELECT (ledger) ON planledger.key_stores TO PUBLIC;
GRANT SELECT, INSERT, TRUNCATE ON planledger.client_keys TO planledger_app;
-- A sealed summary (`PLS1`, key id, nonce, ciphertext) is not JSON: the analysts' view
-- shows the plans whose summaries are plaintext, instead of failing on the others.
CREATE OR REPLACE VIEW planledger.plan_states AS
SELECT s.ledger, s.stream_id AS plan, s.stream_version,
       u.value AS unit, c.value AS client,
       convert_from(s.summary, 'UTF8')::jsonb AS state
FROM planledger.stream_summaries s
LEFT JOIN planledger.stream_tags u
       ON u.ledger = s.ledger AND u.stream_id = s.stream_id AND u.key = 'unit'
LEFT JOIN planledger.stream_tags c
       ON c.ledger = s.ledger AND c.stream_id = s.stream_id AND c.key = 'client'
WHERE substring(s.summary FROM 1 FOR 4) <> '\x504c5331'::bytea;
"#,
    },
];

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Serialises concurrent migrations of one database (an arbitrary, fixed key).
const MIGRATION_LOCK: i64 = 0x706c_616e_6c65_6467; // "planledg"

/// Brings the database at `url` to [`SCHEMA_VERSION`], applying the migrations it lacks
/// in one transaction. Idempotent: running it again applies nothing. Returns the
/// versions applied. Run it as the database owner (or a superuser); the roles that
/// append get `planledger_app` granted.
pub fn migrate(url: &str) -> Result<Vec<u32>, PostgresError> {
    let mut client = crate::store::connect(url)?;
    migrate_client(&mut client)
}

fn migrate_client(client: &mut Client) -> Result<Vec<u32>, PostgresError> {
    let sql = |what: &'static str| move |source| PostgresError::Sql { what, source };
    let mut tx = client.transaction().map_err(sql("begin the migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(sql("take the migration lock"))?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS planledger;
         CREATE TABLE IF NOT EXISTS planledger.schema_migrations (
             version     integer PRIMARY KEY,
             description text NOT NULL,
             applied_at  timestamptz NOT NULL DEFAULT now()
         );",
    )
    .map_err(sql("create the migrations table"))?;
    let found = max_version(&mut tx)?;
    if found > SCHEMA_VERSION {
        return Err(PostgresError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        tx.batch_execute(m.sql)
            .map_err(|source| PostgresError::Migration {
                version: m.version,
                source,
            })?;
        tx.execute(
            "INSERT INTO planledger.schema_migrations (version, description) VALUES ($1, $2)",
            &[&(m.version as i32), &m.description],
        )
        .map_err(sql("record a migration"))?;
        applied.push(m.version);
    }
    tx.commit().map_err(sql("commit the migration"))?;
    Ok(applied)
}

/// The highest applied migration; 0 for a database never migrated.
pub(crate) fn max_version(client: &mut impl postgres::GenericClient) -> Result<u32, PostgresError> {
    let sql = |source| PostgresError::Sql {
        what: "read the schema version",
        source,
    };
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('planledger.schema_migrations') IS NOT NULL",
            &[],
        )
        .map_err(sql)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let v: Option<i32> = client
        .query_one("SELECT max(version) FROM planledger.schema_migrations", &[])
        .map_err(sql)?
        .get(0);
    Ok(v.unwrap_or(0).max(0) as u32)
}

/// Checks that the database is at exactly the version this build knows.
pub(crate) fn check_version(client: &mut Client) -> Result<(), PostgresError> {
    let found = max_version(client)?;
    match found.cmp(&SCHEMA_VERSION) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => Err(PostgresError::NotMigrated {
            found,
            needed: SCHEMA_VERSION,
        }),
        std::cmp::Ordering::Greater => Err(PostgresError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        }),
    }
}
