//! [`PostgresStore`]: one ledger in a PostgreSQL database.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use planledger_ledger::{Frontier, Hash, NodeId, Record, peak_ids};
use planledger_store::{
    AppendBatch, Appended, BatchOutcome, Chain, GroupCommit, Head, Store, StoreError,
    StreamSummary, StreamTag,
};
use postgres::{Client, NoTls, Statement, Transaction};

use crate::PostgresError;

/// Opens a connection. Commits must be durable before an append returns, so a session
/// that inherits `synchronous_commit = off` is switched back on; `local`, `on`,
/// `remote_write` and `remote_apply` are the administrator's choice and are kept.
/// TLS as the URL's `sslmode` and `sslrootcert` ask (see the `tls` module).
pub(crate) fn connect(url: &str) -> Result<Client, PostgresError> {
    let parsed = crate::tls::parse(url)?;
    let connected = match parsed.mode {
        crate::tls::Mode::Plain => Client::connect(&parsed.url, NoTls),
        _ => Client::connect(
            &parsed.url,
            tokio_postgres_rustls::MakeRustlsConnect::new(crate::tls::config(&parsed)?),
        ),
    };
    let mut client = connected.map_err(|source| PostgresError::Connect { source })?;
    let sql = |source| PostgresError::Sql {
        what: "check synchronous_commit",
        source,
    };
    let mode: String = client
        .query_one("SHOW synchronous_commit", &[])
        .map_err(sql)?
        .get(0);
    if mode == "off" {
        client
            .batch_execute("SET synchronous_commit = on")
            .map_err(sql)?;
    }
    Ok(client)
}

/// The statements of one connection, prepared once.
struct Statements {
    lock_head: Statement,
    read_head: Statement,
    stream_version: Statement,
    stream_versions: Statement,
    insert_records: Statement,
    insert_nodes: Statement,
    update_head: Statement,
    read_all: Statement,
    read_stream: Statement,
    node: Statement,
    put_tags: Statement,
    put_summaries: Statement,
    command_position: Statement,
    command_positions: Statement,
    insert_commands: Statement,
}

struct Conn {
    client: Client,
    st: Statements,
}

impl Conn {
    fn open(url: &str) -> Result<Conn, PostgresError> {
        Conn::prepare(connect(url)?)
    }

    fn prepare(mut client: Client) -> Result<Conn, PostgresError> {
        let mut p = |what: &'static str, q: &str| {
            client
                .prepare(q)
                .map_err(|source| PostgresError::Sql { what, source })
        };
        // The head, and the database server's clock: the store's clock that seals records.
        let head_cols = "SELECT size, last_hash, peaks, sealed_at,
                (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
             FROM planledger.ledgers WHERE id = $1";
        let st = Statements {
            lock_head: p("prepare", &format!("{head_cols} FOR UPDATE"))?,
            read_head: p("prepare", head_cols)?,
            stream_version: p(
                "prepare",
                "SELECT COALESCE(max(stream_version), 0) FROM planledger.records
                 WHERE ledger = $1 AND stream_id = $2",
            )?,
            // One round trip for every stream of a group or a copied chunk (a query per
            // stream made `copy` wait on the network: 8,900 records/s).
            stream_versions: p(
                "prepare",
                "SELECT s, (SELECT COALESCE(max(stream_version), 0) FROM planledger.records
                            WHERE ledger = $1 AND stream_id = s)
                 FROM unnest($2::text[]) AS s",
            )?,
            insert_records: p(
                "prepare",
                "INSERT INTO planledger.records (ledger, position, stream_id, stream_version, bytes)
                 SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bytea[])",
            )?,
            insert_nodes: p(
                "prepare",
                "INSERT INTO planledger.nodes (ledger, level, idx, hash)
                 SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])",
            )?,
            update_head: p(
                "prepare",
                "UPDATE planledger.ledgers SET size = $2, last_hash = $3, peaks = $4, sealed_at = $5
                 WHERE id = $1",
            )?,
            command_position: p(
                "prepare",
                "SELECT position FROM planledger.commands WHERE ledger = $1 AND command_id = $2",
            )?,
            command_positions: p(
                "prepare",
                "SELECT command_id, position FROM planledger.commands
                 WHERE ledger = $1 AND command_id = ANY($2::text[])",
            )?,
            insert_commands: p(
                "prepare",
                "INSERT INTO planledger.commands (ledger, command_id, position)
                 SELECT $1, * FROM unnest($2::text[], $3::bigint[])
                 ON CONFLICT (ledger, command_id) DO NOTHING",
            )?,
            read_all: p(
                "prepare",
                "SELECT position, bytes FROM planledger.records
                 WHERE ledger = $1 AND position >= $2 ORDER BY position LIMIT $3",
            )?,
            read_stream: p(
                "prepare",
                "SELECT position, bytes FROM planledger.records
                 WHERE ledger = $1 AND stream_id = $2 AND stream_version >= $3
                 ORDER BY stream_version LIMIT $4",
            )?,
            node: p(
                "prepare",
                "SELECT hash FROM planledger.nodes WHERE ledger = $1 AND level = $2 AND idx = $3",
            )?,
            put_tags: p(
                "prepare",
                "INSERT INTO planledger.stream_tags (ledger, stream_id, key, value)
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
                 ON CONFLICT (ledger, stream_id, key) DO UPDATE SET value = EXCLUDED.value",
            )?,
            put_summaries: p(
                "prepare",
                "INSERT INTO planledger.stream_summaries (ledger, stream_id, stream_version, summary)
                 SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bytea[])
                 ON CONFLICT (ledger, stream_id) DO UPDATE
                 SET stream_version = EXCLUDED.stream_version, summary = EXCLUDED.summary
                 WHERE planledger.stream_summaries.stream_version <= EXCLUDED.stream_version",
            )?,
        };
        Ok(Conn { client, st })
    }
}

/// One ledger in a PostgreSQL database (see the crate documentation for the schema).
///
/// Holds a small pool of connections, so that threads sharing one store read and
/// append concurrently; appends to the ledger still serialise on its head row, in the
/// database, which also orders writers in other processes.
pub struct PostgresStore {
    url: String,
    ledger: String,
    ledger_id: i32,
    pool: Mutex<Vec<Conn>>,
    /// An append holds the head row until its commit is flushed, so one appender at a
    /// time would pay a whole WAL flush; appends of this process that arrive meanwhile
    /// share the next transaction instead. Other processes appending to the same ledger
    /// still serialise with this one on the head row.
    group: GroupCommit,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("PostgresStore")
            .field("ledger", &self.ledger)
            .finish_non_exhaustive()
    }
}

fn backend(e: PostgresError) -> StoreError {
    StoreError::Backend(Box::new(e))
}

fn sql(what: &'static str) -> impl Fn(postgres::Error) -> StoreError {
    move |source| backend(PostgresError::Sql { what, source })
}

fn to_i64(v: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| backend(PostgresError::OutOfRange { what, value: v }))
}

fn hash_from(bytes: &[u8], position: u64, what: &str) -> Result<Hash, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(Hash)
        .map_err(|_| StoreError::Corrupt {
            position,
            reason: format!("{what} is {} bytes, not 32", bytes.len()),
        })
}

/// The ledger's end as stored in its head row.
fn chain_from_row(row: &postgres::Row) -> Result<Chain, StoreError> {
    let size: i64 = row.get(0);
    let last_hash: &[u8] = row.get(1);
    let peaks: &[u8] = row.get(2);
    let last_sealed_micros: Option<i64> = row.get(3);
    let size = u64::try_from(size).map_err(|_| StoreError::Corrupt {
        position: 0,
        reason: format!("the head row's size is negative ({size})"),
    })?;
    let last_hash = hash_from(last_hash, size, "the head row's last hash")?;
    let peaks: Vec<Hash> = peaks
        .chunks(32)
        .map(|c| hash_from(c, size, "a Merkle peak"))
        .collect::<Result<_, _>>()?;
    let frontier = Frontier::from_peaks(size, peaks).ok_or_else(|| StoreError::Corrupt {
        position: size,
        reason: "the head row's Merkle peaks do not match its size".into(),
    })?;
    Ok(Chain {
        last_hash,
        frontier,
        last_sealed_micros,
    })
}

fn decode(position: i64, bytes: Vec<u8>) -> Result<Record, StoreError> {
    Record::decode(bytes).map_err(|e| StoreError::Corrupt {
        position: position as u64,
        reason: format!("stored bytes are not a record: {e}"),
    })
}

impl PostgresStore {
    /// Opens the existing ledger `ledger` in the database at `url`; `NotFound` if there
    /// is none. The database must be migrated ([`crate::migrate`]). Checks that the
    /// stored head matches the last record and the stored Merkle nodes
    /// ([`StoreError::Corrupt`] if not).
    pub fn open(url: &str, ledger: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::open_inner(url, ledger, false)
    }

    /// Opens `ledger`, creating it (empty) if the database has none of that name.
    pub fn create(url: &str, ledger: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::open_inner(url, ledger, true)
    }

    fn open_inner(url: &str, ledger: &str, create: bool) -> Result<PostgresStore, StoreError> {
        let mut client = connect(url).map_err(backend)?;
        // Before preparing: the statements name tables an unmigrated database lacks.
        crate::schema::check_version(&mut client).map_err(backend)?;
        let mut conn = Conn::prepare(client).map_err(backend)?;
        if create {
            conn.client
                .execute(
                    "INSERT INTO planledger.ledgers (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
                    &[&ledger],
                )
                .map_err(sql("create the ledger"))?;
        }
        let id: i32 = conn
            .client
            .query_opt(
                "SELECT id FROM planledger.ledgers WHERE name = $1",
                &[&ledger],
            )
            .map_err(sql("find the ledger"))?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("ledger {ledger:?}"),
            })?
            .get(0);
        let store = PostgresStore {
            url: url.to_owned(),
            ledger: ledger.to_owned(),
            ledger_id: id,
            pool: Mutex::new(Vec::new()),
            group: GroupCommit::default(),
        };
        store.check_head(&mut conn)?;
        store
            .pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        Ok(store)
    }

    /// The ledger's name.
    pub fn ledger(&self) -> &str {
        &self.ledger
    }

    /// The names of the ledgers in the database at `url`.
    pub fn ledgers(url: &str) -> Result<Vec<String>, StoreError> {
        let mut client = connect(url).map_err(backend)?;
        crate::schema::check_version(&mut client).map_err(backend)?;
        Ok(client
            .query("SELECT name FROM planledger.ledgers ORDER BY name", &[])
            .map_err(sql("list the ledgers"))?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// The opening check: the head row agrees with the last record and with the stored
    /// Merkle nodes. Cheap (a handful of index lookups); `verify` checks everything.
    fn check_head(&self, conn: &mut Conn) -> Result<(), StoreError> {
        let id = self.ledger_id;
        let c = &mut conn.client;
        let row = c
            .query_one(&conn.st.read_head, &[&id])
            .map_err(sql("read the head"))?;
        let chain = chain_from_row(&row)?;
        let size = chain.frontier.size();
        let max: Option<i64> = c
            .query_one(
                "SELECT max(position) FROM planledger.records WHERE ledger = $1",
                &[&id],
            )
            .map_err(sql("read the last position"))?
            .get(0);
        let expected_max = size.checked_sub(1);
        if max.map(|m| m as u64) != expected_max {
            return Err(StoreError::Corrupt {
                position: size.min(max.map_or(0, |m| m as u64 + 1)),
                reason: format!(
                    "the head says {size} records, but the last stored position is {}",
                    max.map_or("none".into(), |m| m.to_string())
                ),
            });
        }
        let Some(last) = expected_max else {
            return Ok(());
        };
        let rows = c
            .query(&conn.st.read_all, &[&id, &(last as i64), &1i64])
            .map_err(sql("read the last record"))?;
        let record = decode(rows[0].get(0), rows[0].get(1))?;
        if record.hash() != chain.last_hash {
            return Err(StoreError::Corrupt {
                position: last,
                reason: "the last record's hash differs from the head's last hash".into(),
            });
        }
        if record.sealed_at_micros() != chain.last_sealed_micros {
            return Err(StoreError::Corrupt {
                position: last,
                reason: "the last record's sealing time differs from the head's".into(),
            });
        }
        // Each peak is the root of a perfect subtree, largest (leftmost) first.
        for (NodeId { level, index }, peak) in peak_ids(size).zip(chain.frontier.peaks()) {
            let idx = to_i64(index, "Merkle node index")?;
            let stored = c
                .query_opt(&conn.st.node, &[&id, &i16::from(level), &idx])
                .map_err(sql("read a Merkle node"))?;
            let matches = stored.is_some_and(|r| r.get::<_, &[u8]>(0) == peak.as_bytes());
            if !matches {
                return Err(StoreError::Corrupt {
                    position: last,
                    reason: format!(
                        "the head's Merkle peak at level {level} differs from the stored node"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Runs `f` on a pooled connection. A connection that broke is not returned.
    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => Conn::open(&self.url).map_err(backend)?,
        };
        let out = f(&mut conn);
        if !conn.client.is_closed() {
            self.pool
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
        out
    }

    /// Commits a group of batches (see [`GroupCommit`]) in one transaction: each
    /// batch is checked and sealed on its own, on top of the one before. A failure of
    /// the transaction is returned for the whole group.
    fn commit_group(&self, group: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError> {
        self.with_conn(|conn| self.seal_and_commit(conn, &group))
    }

    fn seal_and_commit(
        &self,
        conn: &mut Conn,
        group: &[AppendBatch],
    ) -> Result<Vec<BatchOutcome>, StoreError> {
        let st = &conn.st;
        let id = self.ledger_id;
        let mut tx = conn.client.transaction().map_err(sql("begin an append"))?;
        // The ledger's write lock: held until commit, so the next append to this ledger
        // seals on top of this one; other ledgers' rows are not touched.
        let row = tx
            .query_one(&st.lock_head, &[&id])
            .map_err(sql("lock the head"))?;
        let mut chain = chain_from_row(&row)?;
        let clock: i64 = row.get(4);
        // The group's streams and command ids as committed before it, each set read in
        // one round trip; then kept up to date as the group's batches are sealed.
        let mut versions =
            stream_versions(&mut tx, st, id, group.iter().map(|b| b.stream_id.as_str()))?;
        let mut commands = command_positions(
            &mut tx,
            st,
            id,
            group.iter().filter_map(|b| b.command_id.as_deref()),
        )?;
        let mut records = Vec::new();
        let mut nodes = Vec::new();
        let mut outcomes = Vec::with_capacity(group.len());
        for batch in group {
            if let Some(id) = batch.command_id.as_deref() {
                if let Some(&position) = commands.get(id) {
                    outcomes.push(Err(StoreError::AlreadyRecorded { position }));
                    continue;
                }
            }
            let current = versions[batch.stream_id.as_str()];
            if !batch.expected.admits(current) {
                outcomes.push(Err(StoreError::Conflict {
                    stream_id: batch.stream_id.clone(),
                    expected: batch.expected,
                    actual: current,
                }));
                continue;
            }
            match chain.seal_batch(batch, current, clock) {
                Ok((sealed, completed)) => {
                    let appended = Appended {
                        first_position: sealed[0].position(),
                        stream_version: current + sealed.len() as u64,
                        head: chain.head(),
                        sealed_at_micros: sealed[0].sealed_at_micros().unwrap_or_default(),
                    };
                    versions.insert(&batch.stream_id, appended.stream_version);
                    if let Some(id) = batch.command_id.as_deref() {
                        commands.insert(id, appended.first_position);
                    }
                    records.extend(sealed);
                    nodes.extend(completed);
                    outcomes.push(Ok(appended));
                }
                Err(e) => outcomes.push(Err(e)),
            }
        }
        if !records.is_empty() {
            self.write(&mut tx, st, (&records, &nodes), &chain, false)?;
            // The tags of the batches that were sealed, the later one winning per key (a
            // single upsert may not touch one row twice).
            let mut tags = BTreeMap::new();
            for (batch, outcome) in group.iter().zip(&outcomes) {
                if outcome.is_ok() {
                    for (key, value) in &batch.tags {
                        tags.insert((batch.stream_id.as_str(), key.as_str()), value.as_str());
                    }
                }
            }
            put_tags(&mut tx, st, self.ledger_id, tags)?;
            // Likewise the summaries, the later batch of a stream winning.
            let mut summaries = BTreeMap::new();
            for (batch, outcome) in group.iter().zip(&outcomes) {
                if let (Ok(appended), Some(bytes)) = (outcome, &batch.summary) {
                    summaries.insert(
                        batch.stream_id.as_str(),
                        (appended.stream_version, bytes.as_slice()),
                    );
                }
            }
            put_summaries(&mut tx, st, self.ledger_id, summaries)?;
            tx.commit().map_err(sql("commit an append"))?;
        }
        Ok(outcomes)
    }

    /// Writes sealed records, their Merkle nodes and the new head, in `tx`: the rows by
    /// `INSERT … unnest` (one round trip, what an append of a few records wants), or by
    /// binary `COPY` when `bulk` (a copied chunk of 64k records, where COPY's per-row
    /// cost is what counts). Either way the gapless trigger checks the rows added.
    fn write(
        &self,
        tx: &mut Transaction<'_>,
        st: &Statements,
        (records, nodes): (&[Record], &[(NodeId, Hash)]),
        chain: &Chain,
        bulk: bool,
    ) -> Result<(), StoreError> {
        let id = self.ledger_id;
        let mut positions = Vec::with_capacity(records.len());
        let mut versions = Vec::with_capacity(records.len());
        for r in records {
            positions.push(to_i64(r.position(), "position")?);
            versions.push(to_i64(r.stream_version(), "stream version")?);
        }
        let mut idxs = Vec::with_capacity(nodes.len());
        for (n, _) in nodes {
            idxs.push(to_i64(n.index, "Merkle node index")?);
        }
        if bulk {
            copy_rows(tx, id, records, (&positions, &versions), nodes, &idxs)?;
        } else {
            let streams: Vec<&str> = records.iter().map(|r| r.stream_id()).collect();
            let bytes: Vec<&[u8]> = records.iter().map(|r| r.bytes()).collect();
            tx.execute(
                &st.insert_records,
                &[&id, &positions, &streams, &versions, &bytes],
            )
            .map_err(sql("insert records"))?;
            let levels: Vec<i16> = nodes.iter().map(|(n, _)| i16::from(n.level)).collect();
            let hashes: Vec<&[u8]> = nodes.iter().map(|(_, h)| h.as_bytes().as_slice()).collect();
            tx.execute(&st.insert_nodes, &[&id, &levels, &idxs, &hashes])
                .map_err(sql("insert Merkle nodes"))?;
        }
        // Each command's first record (a command's records are consecutive).
        let (mut command_ids, mut command_positions) = (Vec::new(), Vec::new());
        for r in records {
            let cid = r.entry().command_id.as_str();
            if !cid.is_empty() && command_ids.last() != Some(&cid) {
                command_ids.push(cid);
                command_positions.push(to_i64(r.position(), "position")?);
            }
        }
        if !command_ids.is_empty() {
            tx.execute(
                &st.insert_commands,
                &[&id, &command_ids, &command_positions],
            )
            .map_err(sql("insert command ids"))?;
        }
        let size = to_i64(chain.frontier.size(), "size")?;
        let peaks: Vec<u8> = chain.frontier.peaks().iter().flat_map(|h| h.0).collect();
        tx.execute(
            &st.update_head,
            &[
                &id,
                &size,
                &chain.last_hash.as_bytes().as_slice(),
                &peaks,
                &chain.last_sealed_micros,
            ],
        )
        .map_err(sql("update the head"))?;
        Ok(())
    }
}

/// Upserts `(stream, key) -> value` tags in `tx`.
fn put_tags(
    tx: &mut Transaction<'_>,
    st: &Statements,
    ledger: i32,
    tags: BTreeMap<(&str, &str), &str>,
) -> Result<(), StoreError> {
    if tags.is_empty() {
        return Ok(());
    }
    let (mut streams, mut keys, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for ((stream, key), value) in tags {
        streams.push(stream);
        keys.push(key);
        values.push(value);
    }
    tx.execute(&st.put_tags, &[&ledger, &streams, &keys, &values])
        .map_err(sql("set stream tags"))?;
    Ok(())
}

/// Upserts `stream -> (stream version, bytes)` summaries in `tx`, none over a later one.
fn put_summaries(
    tx: &mut Transaction<'_>,
    st: &Statements,
    ledger: i32,
    summaries: BTreeMap<&str, (u64, &[u8])>,
) -> Result<(), StoreError> {
    if summaries.is_empty() {
        return Ok(());
    }
    let (mut streams, mut versions, mut bytes) = (Vec::new(), Vec::new(), Vec::new());
    for (stream, (version, b)) in summaries {
        streams.push(stream);
        versions.push(to_i64(version, "stream version")?);
        bytes.push(b);
    }
    tx.execute(&st.put_summaries, &[&ledger, &streams, &versions, &bytes])
        .map_err(sql("set stream summaries"))?;
    Ok(())
}

/// Where the command `command_id` was recorded, if it was, as `tx` sees it.
/// Binary `COPY` of `records` (with their positions and stream versions as bigints)
/// and `nodes` (with their indexes) of ledger `id` into their tables, in `tx`.
fn copy_rows(
    tx: &mut Transaction<'_>,
    id: i32,
    records: &[Record],
    (positions, versions): (&[i64], &[i64]),
    nodes: &[(NodeId, Hash)],
    idxs: &[i64],
) -> Result<(), StoreError> {
    use postgres::binary_copy::BinaryCopyInWriter;
    use postgres::types::Type;
    let sink = tx
        .copy_in(
            "COPY planledger.records (ledger, position, stream_id, stream_version, bytes) \
             FROM STDIN BINARY",
        )
        .map_err(sql("copy records"))?;
    let types = [Type::INT4, Type::INT8, Type::TEXT, Type::INT8, Type::BYTEA];
    let mut rows = BinaryCopyInWriter::new(sink, &types);
    for ((r, position), version) in records.iter().zip(positions).zip(versions) {
        rows.write(&[&id, position, &r.stream_id(), version, &r.bytes()])
            .map_err(sql("copy records"))?;
    }
    rows.finish().map_err(sql("copy records"))?;
    let sink = tx
        .copy_in("COPY planledger.nodes (ledger, level, idx, hash) FROM STDIN BINARY")
        .map_err(sql("copy Merkle nodes"))?;
    let types = [Type::INT4, Type::INT2, Type::INT8, Type::BYTEA];
    let mut rows = BinaryCopyInWriter::new(sink, &types);
    for ((n, h), idx) in nodes.iter().zip(idxs) {
        let level = i16::from(n.level);
        rows.write(&[&id, &level, idx, &h.as_bytes().as_slice()])
            .map_err(sql("copy Merkle nodes"))?;
    }
    rows.finish().map_err(sql("copy Merkle nodes"))?;
    Ok(())
}

/// The positions of those of `command_ids` recorded already.
fn command_positions<'a>(
    tx: &mut Transaction<'_>,
    st: &Statements,
    ledger: i32,
    command_ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<&'a str, u64>, StoreError> {
    let ids: Vec<&str> = command_ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tx
        .query(&st.command_positions, &[&ledger, &ids])
        .map_err(sql("read command ids"))?;
    let found: HashMap<String, u64> = rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
        .collect();
    Ok(ids
        .into_iter()
        .filter_map(|id| found.get(id).map(|&p| (id, p)))
        .collect())
}

/// The current version of each of `streams` (0 for a stream not begun).
fn stream_versions<'a>(
    tx: &mut Transaction<'_>,
    st: &Statements,
    ledger: i32,
    streams: impl Iterator<Item = &'a str>,
) -> Result<HashMap<&'a str, u64>, StoreError> {
    let mut distinct: Vec<&str> = streams.collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tx
        .query(&st.stream_versions, &[&ledger, &distinct])
        .map_err(sql("read the stream versions"))?;
    let found: HashMap<String, u64> = rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
        .collect();
    Ok(distinct
        .into_iter()
        .map(|s| (s, found.get(s).copied().unwrap_or(0)))
        .collect())
}

impl Store for PostgresStore {
    fn append(&self, batch: AppendBatch) -> Result<Appended, StoreError> {
        if batch.events.is_empty() {
            return Err(StoreError::EmptyBatch);
        }
        self.group.append(batch, |group| self.commit_group(group))
    }

    fn append_many(&self, batches: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError> {
        // One transaction of the backend's own; appends of other threads wait for it at
        // the backend's write lock, as they wait for a group's leader.
        planledger_store::group::commit_many(batches, |group| self.commit_group(group))
    }

    fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        // No stored version exceeds bigint: past it there is nothing to read.
        let Ok(from) = i64::try_from(from_version) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query(
                    &conn.st.read_stream,
                    &[&self.ledger_id, &stream_id, &from, &limit],
                )
                .map_err(sql("read a stream"))?;
            rows.into_iter()
                .map(|r| decode(r.get(0), r.get(1)))
                .collect()
        })
    }

    fn read_all(&self, from_position: u64, limit: usize) -> Result<Vec<Record>, StoreError> {
        let Ok(from) = i64::try_from(from_position) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query(&conn.st.read_all, &[&self.ledger_id, &from, &limit])
                .map_err(sql("read records"))?;
            rows.into_iter()
                .map(|r| decode(r.get(0), r.get(1)))
                .collect()
        })
    }

    fn head(&self) -> Result<Head, StoreError> {
        self.with_conn(|conn| {
            let row = conn
                .client
                .query_one(&conn.st.read_head, &[&self.ledger_id])
                .map_err(sql("read the head"))?;
            Ok(chain_from_row(&row)?.head())
        })
    }

    fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
        let not_found = || StoreError::NotFound {
            what: format!("Merkle node (level {}, index {})", id.level, id.index),
        };
        let idx = i64::try_from(id.index).map_err(|_| not_found())?;
        self.with_conn(|conn| {
            let row = conn
                .client
                .query_opt(
                    &conn.st.node,
                    &[&self.ledger_id, &i16::from(id.level), &idx],
                )
                .map_err(sql("read a Merkle node"))?
                .ok_or_else(not_found)?;
            hash_from(row.get(0), id.index, "a stored Merkle node")
        })
    }

    fn nodes(&self, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, StoreError> {
        // One query for them all, the ids joined as a table (a query per node made
        // verify's node check a round trip per node).
        let mut levels = Vec::with_capacity(ids.len());
        let mut idxs = Vec::with_capacity(ids.len());
        for id in ids {
            levels.push(i16::from(id.level));
            // An index past i64 cannot be stored: it is simply not found.
            idxs.push(i64::try_from(id.index).unwrap_or(-1));
        }
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query(
                    "SELECT q.i, n.hash
                     FROM unnest($2::smallint[], $3::bigint[]) WITH ORDINALITY AS q (level, idx, i)
                     JOIN planledger.nodes n ON n.ledger = $1 AND n.level = q.level AND n.idx = q.idx",
                    &[&self.ledger_id, &levels, &idxs],
                )
                .map_err(sql("read Merkle nodes"))?;
            let mut out = vec![None; ids.len()];
            for row in rows {
                let i = usize::try_from(row.get::<_, i64>(0) - 1).unwrap_or(usize::MAX);
                let Some(slot) = out.get_mut(i) else { continue };
                *slot = Some(hash_from(row.get(1), ids[i].index, "a stored Merkle node")?);
            }
            Ok(out)
        })
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        self.with_conn(|conn| {
            let v: i64 = conn
                .client
                .query_one(&conn.st.stream_version, &[&self.ledger_id, &stream_id])
                .map_err(sql("read the stream version"))?
                .get(0);
            Ok(v as u64)
        })
    }

    fn derived(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_conn(|conn| {
            let row = conn
                .client
                .query_opt(
                    "SELECT bytes FROM planledger.derived WHERE ledger = $1 AND name = $2",
                    &[&self.ledger_id, &name],
                )
                .map_err(sql("read derived bytes"))?;
            Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
        })
    }

    fn put_derived(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            conn.client
                .execute(
                    "INSERT INTO planledger.derived (ledger, name, bytes) VALUES ($1, $2, $3)
                     ON CONFLICT (ledger, name) DO UPDATE SET bytes = EXCLUDED.bytes",
                    &[&self.ledger_id, &name, &bytes],
                )
                .map_err(sql("write derived bytes"))?;
            Ok(())
        })
    }

    fn command_position(&self, command_id: &str) -> Result<Option<u64>, StoreError> {
        self.with_conn(|conn| {
            let row = conn
                .client
                .query_opt(&conn.st.command_position, &[&self.ledger_id, &command_id])
                .map_err(sql("read a command id"))?;
            Ok(row.map(|r| r.get::<_, i64>(0) as u64))
        })
    }

    fn append_sealed(&self, records: &[Record]) -> Result<Head, StoreError> {
        self.with_conn(|conn| {
            let st = &conn.st;
            let mut tx = conn.client.transaction().map_err(sql("begin a copy"))?;
            let row = tx
                .query_one(&st.lock_head, &[&self.ledger_id])
                .map_err(sql("lock the head"))?;
            let mut chain = chain_from_row(&row)?;
            let id = self.ledger_id;
            let versions = stream_versions(&mut tx, st, id, records.iter().map(|r| r.stream_id()))?;
            let nodes = chain.accept_sealed(records, |stream| Ok(versions[stream]))?;
            if !records.is_empty() {
                self.write(&mut tx, st, (records, &nodes), &chain, true)?;
                tx.commit().map_err(sql("commit a copy"))?;
            }
            Ok(chain.head())
        })
    }

    fn streams_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, StoreError> {
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query(
                    "SELECT stream_id FROM planledger.stream_tags
                     WHERE ledger = $1 AND key = $2 AND value = $3 ORDER BY stream_id COLLATE \"C\"",
                    &[&self.ledger_id, &key, &value],
                )
                .map_err(sql("read streams by tag"))?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn streams_tagged_between(
        &self,
        key: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query(
                    // COLLATE "C": byte order, as every backend compares values.
                    "SELECT value, stream_id FROM planledger.stream_tags
                     WHERE ledger = $1 AND key = $2
                       AND value COLLATE \"C\" >= $3 AND value COLLATE \"C\" < $4
                     ORDER BY value COLLATE \"C\", stream_id COLLATE \"C\"",
                    &[&self.ledger_id, &key, &from, &to],
                )
                .map_err(sql("read streams by a range of tag values"))?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn tag_values(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query(
                    "SELECT value, stream_id FROM planledger.stream_tags
                     WHERE ledger = $1 AND key = $2 ORDER BY value COLLATE \"C\", stream_id COLLATE \"C\"",
                    &[&self.ledger_id, &key],
                )
                .map_err(sql("read a tag's values"))?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn stream_tags(&self, stream_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query(
                    "SELECT key, value FROM planledger.stream_tags
                     WHERE ledger = $1 AND stream_id = $2 ORDER BY key",
                    &[&self.ledger_id, &stream_id],
                )
                .map_err(sql("read a stream's tags"))?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn put_tags(&self, tags: &[StreamTag]) -> Result<(), StoreError> {
        self.write_tags(tags, false)
    }

    fn forget_streams(&self, stream_ids: &[String]) -> Result<(), StoreError> {
        // The rows are deleted; their bytes stay in the table's pages until VACUUM
        // reuses them (see the README on weeding with PostgreSQL).
        self.with_conn(|conn| {
            let mut tx = conn
                .client
                .transaction()
                .map_err(sql("begin forgetting streams"))?;
            tx.execute(
                "DELETE FROM planledger.stream_tags WHERE ledger = $1 AND stream_id = ANY($2)",
                &[&self.ledger_id, &stream_ids],
            )
            .map_err(sql("delete stream tags"))?;
            tx.execute(
                "DELETE FROM planledger.stream_summaries WHERE ledger = $1 AND stream_id = ANY($2)",
                &[&self.ledger_id, &stream_ids],
            )
            .map_err(sql("delete stream summaries"))?;
            tx.commit().map_err(sql("commit forgetting streams"))
        })
    }

    fn replace_tags(&self, tags: &[StreamTag]) -> Result<(), StoreError> {
        self.write_tags(tags, true)
    }

    fn summaries(&self, stream_ids: &[String]) -> Result<Vec<Option<StreamSummary>>, StoreError> {
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query(
                    // Joined with the ids as a table, so that the planner looks each
                    // one up by the primary key instead of scanning for `= ANY`.
                    "SELECT s.stream_id, s.stream_version, s.summary
                     FROM unnest($2::text[]) AS q (id)
                     JOIN planledger.stream_summaries s ON s.ledger = $1 AND s.stream_id = q.id",
                    &[&self.ledger_id, &stream_ids],
                )
                .map_err(sql("read stream summaries"))?;
            let mut found: HashMap<String, StreamSummary> = rows
                .into_iter()
                .map(|r| (r.get(0), summary_from(r.get(1), r.get(2))))
                .collect();
            Ok(stream_ids.iter().map(|s| found.remove(s)).collect())
        })
    }

    fn summaries_after(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, StreamSummary)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query(
                    "SELECT stream_id, stream_version, summary FROM planledger.stream_summaries
                     WHERE ledger = $1 AND stream_id COLLATE \"C\" > $2
                     ORDER BY stream_id COLLATE \"C\" LIMIT $3",
                    &[&self.ledger_id, &after, &limit],
                )
                .map_err(sql("read stream summaries"))?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get(0), summary_from(r.get(1), r.get(2))))
                .collect())
        })
    }

    fn put_summaries(&self, summaries: &[(String, StreamSummary)]) -> Result<(), StoreError> {
        // One upsert may not touch a row twice: the latest version of each stream.
        let mut latest: BTreeMap<&str, (u64, &[u8])> = BTreeMap::new();
        for (stream, s) in summaries {
            let e = latest
                .entry(stream.as_str())
                .or_insert((s.stream_version, &s.bytes));
            if s.stream_version >= e.0 {
                *e = (s.stream_version, &s.bytes);
            }
        }
        self.with_conn(|conn| {
            let mut tx = conn
                .client
                .transaction()
                .map_err(sql("begin writing summaries"))?;
            put_summaries(&mut tx, &conn.st, self.ledger_id, latest)?;
            tx.commit().map_err(sql("commit summaries"))
        })
    }
}

fn summary_from(stream_version: i64, bytes: Vec<u8>) -> StreamSummary {
    StreamSummary {
        stream_version: stream_version as u64,
        bytes,
    }
}

impl PostgresStore {
    /// Writes tags in one transaction, first removing every tag of the ledger if
    /// `replace`; the later of two tags for one stream and key wins.
    fn write_tags(&self, tags: &[StreamTag], replace: bool) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            let mut tx = conn
                .client
                .transaction()
                .map_err(sql("begin writing tags"))?;
            if replace {
                tx.execute(
                    "DELETE FROM planledger.stream_tags WHERE ledger = $1",
                    &[&self.ledger_id],
                )
                .map_err(sql("clear the tags"))?;
            }
            let latest: BTreeMap<(&str, &str), &str> = tags
                .iter()
                .map(|t| ((t.stream_id.as_str(), t.key.as_str()), t.value.as_str()))
                .collect();
            put_tags(&mut tx, &conn.st, self.ledger_id, latest)?;
            tx.commit().map_err(sql("commit tags"))
        })
    }
}
