//! [`RedbStore`]: the [`Store`] trait over one redb file.

use std::fmt;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use planledger_ledger::{Hash, NodeId, Record, hash_record_bytes, leaf_hash, node_hash, peak_ids};
use planledger_store::{
    AppendBatch, Appended, BatchOutcome, Chain, GroupCommit, Head, RecordBytes, Store, StoreError,
    StreamSummary, StreamTag,
};
use redb::{
    Database, Durability, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable,
    ReadableTableMetadata, Table, TableDefinition, WriteTransaction,
};

use crate::layout::{
    COMMANDS, DERIVED, LAYOUT, LAYOUT_V1, LAYOUT_V2, LOWEST_KEPT_LEVEL, META, META_HEAD,
    META_LAYOUT, META_SEALED, NODES, RECORDS, STREAMS, SUMMARIES, TAGS, TAGS_BY_VALUE, decode_head,
    encode_head,
};

/// The embedded store: one redb file, immediate durability, group commit.
pub struct RedbStore {
    /// Always `Some` until the store is dropped (see its `Drop`).
    db: Option<Db>,
    /// redb has one writer at a time and every commit fsyncs: appends that arrive
    /// during a commit share the next one.
    group: GroupCommit,
    path: PathBuf,
    /// Set once the storage engine panicked (see `guarded`).
    stopped: std::sync::atomic::AtomicBool,
}

impl Drop for RedbStore {
    fn drop(&mut self) {
        // Closing the file can read pages too: a damaged one must not turn the end of
        // a command that reported the damage into a crash.
        let db = self.db.take();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(db)));
    }
}

/// The file opened for writing, or for reading only (a user who may not write it).
enum Db {
    Write(Database),
    Read(ReadOnlyDatabase),
}

impl fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Why a file cannot be created or opened as a store. Reported inside
/// [`StoreError::Backend`]; an inconsistent ledger is [`StoreError::Corrupt`] instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error("{path} already exists; a store is created only in a new file")]
    Exists { path: PathBuf },
    #[error("{path} is not a planledger store (it has no layout marker)")]
    NotAStore { path: PathBuf },
    #[error("{path} has store layout {found:?}; this build reads {LAYOUT:?}")]
    UnsupportedLayout { path: PathBuf, found: String },
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A write to a store opened with [`RedbStore::open_read_only`].
    #[error(
        "the ledger is read-only for this user ({path} is opened for reading only): \
         nothing was written; record as a user who may write the file"
    )]
    ReadOnly { path: PathBuf },
}

fn backend(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Backend(Box::new(e.into()))
}

fn decode(position: u64, bytes: &[u8]) -> Result<Record, StoreError> {
    let record = Record::decode(bytes.to_vec()).map_err(|e| StoreError::Corrupt {
        position,
        reason: format!("the stored record does not decode: {e}"),
    })?;
    if record.position() != position {
        return Err(StoreError::Corrupt {
            position,
            reason: format!("the record stored here says position {}", record.position()),
        });
    }
    Ok(record)
}

/// The Merkle node `id`: read from `nodes` from [`LOWEST_KEPT_LEVEL`] up, computed from
/// the records it covers below; `None` while the records it covers are not all there.
fn node_in(
    records: &impl ReadableTable<u64, &'static [u8]>,
    nodes: &impl ReadableTable<(u8, u64), &'static [u8; 32]>,
    id: NodeId,
) -> Result<Option<Hash>, StoreError> {
    if id.level >= LOWEST_KEPT_LEVEL {
        let found = nodes.get((id.level, id.index)).map_err(backend)?;
        return Ok(found.map(|h| Hash(*h.value())));
    }
    let first = id.index << id.level;
    let count = 1u64 << id.level;
    let mut level = Vec::with_capacity(count as usize);
    for entry in records.range(first..first + count).map_err(backend)? {
        let (_, bytes) = entry.map_err(backend)?;
        level.push(leaf_hash(&hash_record_bytes(bytes.value())));
    }
    if level.len() as u64 != count {
        return Ok(None);
    }
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
    }
    Ok(level.pop())
}

/// The stream's last version in `streams`, 0 if it has none.
fn stream_version_in(
    streams: &impl ReadableTable<(&'static str, u64), u64>,
    stream_id: &str,
) -> Result<u64, StoreError> {
    let last = streams
        .range((stream_id, 0u64)..=(stream_id, u64::MAX))
        .map_err(backend)?
        .next_back()
        .transpose()
        .map_err(backend)?;
    Ok(last.map_or(0, |(k, _)| k.value().1))
}

fn load_chain(meta: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<Chain, StoreError> {
    let head = meta
        .get(META_HEAD)
        .map_err(backend)?
        .ok_or_else(|| StoreError::Corrupt {
            position: 0,
            reason: "the store has no stored head".into(),
        })?;
    let mut chain = decode_head(head.value())?;
    chain.last_sealed_micros = match meta.get(META_SEALED).map_err(backend)? {
        None => None,
        Some(v) => Some(i64::from_le_bytes(v.value().try_into().map_err(|_| {
            StoreError::Corrupt {
                position: chain.frontier.size().saturating_sub(1),
                reason: "the stored last sealing time is not 8 bytes".into(),
            }
        })?)),
    };
    Ok(chain)
}

/// The tables of a write transaction.
/// redb's page cache. Its default (1 GiB) lets a process that reads a whole ledger grow
/// to that size; a query reads each page about once, and an append touches a few, so a
/// small cache costs little and keeps every process's memory bounded.
const CACHE_BYTES: usize = 32 << 20;

struct Writer<'t> {
    records: Table<'t, u64, &'static [u8]>,
    streams: Table<'t, (&'static str, u64), u64>,
    nodes: Table<'t, (u8, u64), &'static [u8; 32]>,
    meta: Table<'t, &'static str, &'static [u8]>,
    tags: Table<'t, (&'static str, &'static str), &'static str>,
    tags_by_value: Table<'t, (&'static str, &'static str, &'static str), ()>,
    summaries: Table<'t, &'static str, (u64, &'static [u8])>,
    commands: Table<'t, &'static str, u64>,
}

impl<'t> Writer<'t> {
    fn open(txn: &'t WriteTransaction) -> Result<Writer<'t>, StoreError> {
        Ok(Writer {
            records: txn.open_table(RECORDS).map_err(backend)?,
            streams: txn.open_table(STREAMS).map_err(backend)?,
            nodes: txn.open_table(NODES).map_err(backend)?,
            meta: txn.open_table(META).map_err(backend)?,
            tags: txn.open_table(TAGS).map_err(backend)?,
            tags_by_value: txn.open_table(TAGS_BY_VALUE).map_err(backend)?,
            summaries: txn.open_table(SUMMARIES).map_err(backend)?,
            commands: txn.open_table(COMMANDS).map_err(backend)?,
        })
    }

    fn put(&mut self, records: &[Record], nodes: &[(NodeId, Hash)]) -> Result<(), StoreError> {
        for r in records {
            self.records
                .insert(r.position(), r.bytes())
                .map_err(backend)?;
            self.streams
                .insert((r.stream_id(), r.stream_version()), r.position())
                .map_err(backend)?;
            let id = r.entry().command_id.as_str();
            if !id.is_empty() && self.commands.get(id).map_err(backend)?.is_none() {
                self.commands.insert(id, r.position()).map_err(backend)?;
            }
        }
        for (id, h) in nodes.iter().filter(|(id, _)| id.level >= LOWEST_KEPT_LEVEL) {
            self.nodes
                .insert((id.level, id.index), h.as_bytes())
                .map_err(backend)?;
        }
        Ok(())
    }

    /// Sets a stream's tag, keeping the by-value table in step.
    fn put_tag(&mut self, stream: &str, key: &str, value: &str) -> Result<(), StoreError> {
        let old = self.tags.insert((stream, key), value).map_err(backend)?;
        if let Some(old) = old {
            self.tags_by_value
                .remove((key, old.value(), stream))
                .map_err(backend)?;
        }
        self.tags_by_value
            .insert((key, value, stream), ())
            .map_err(backend)?;
        Ok(())
    }

    /// Sets a stream's summary unless the stored one is of a later stream version.
    fn put_summary(&mut self, stream: &str, version: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let newer = (self.summaries.get(stream).map_err(backend)?)
            .is_some_and(|old| old.value().0 > version);
        if !newer {
            self.summaries
                .insert(stream, (version, bytes))
                .map_err(backend)?;
        }
        Ok(())
    }

    fn put_head(&mut self, chain: &Chain) -> Result<(), StoreError> {
        self.meta
            .insert(META_HEAD, encode_head(chain).as_slice())
            .map_err(backend)?;
        if let Some(sealed) = chain.last_sealed_micros {
            self.meta
                .insert(META_SEALED, sealed.to_le_bytes().as_slice())
                .map_err(backend)?;
        }
        Ok(())
    }
}

impl RedbStore {
    /// Creates a new, empty store in a file that must not exist yet. The file is created
    /// mode 0600 (the ledger holds personal data): it is never readable by others, not
    /// even for a moment.
    pub fn create(path: impl AsRef<Path>) -> Result<RedbStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        // create_new makes "the file is new" atomic: two creators cannot both succeed.
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&path).map_err(|source| {
            StoreError::Backend(Box::new(
                if source.kind() == std::io::ErrorKind::AlreadyExists {
                    OpenError::Exists { path: path.clone() }
                } else {
                    OpenError::Create {
                        path: path.clone(),
                        source,
                    }
                },
            ))
        })?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(backend)?;
        let mut txn = db.begin_write().map_err(backend)?;
        txn.set_durability(Durability::Immediate).map_err(backend)?;
        {
            let mut w = Writer::open(&txn)?;
            w.meta
                .insert(META_LAYOUT, LAYOUT.as_bytes())
                .map_err(backend)?;
            w.put_head(&Chain::default())?;
        }
        txn.commit().map_err(backend)?;
        Ok(RedbStore {
            db: Some(Db::Write(db)),
            group: GroupCommit::default(),
            path,
            stopped: Default::default(),
        })
    }

    /// Opens an existing store and checks its head against its last record and its
    /// Merkle nodes; an inconsistency is [`StoreError::Corrupt`], never repaired.
    pub fn open(path: impl AsRef<Path>) -> Result<RedbStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        guard(|| {
            let db = Database::builder().set_cache_size(CACHE_BYTES).open(&path);
            let store = RedbStore::opened(path.clone(), Db::Write(db.map_err(backend)?))?;
            store.upgrade_layout()?;
            Ok(store)
        })
    }

    /// Opens an existing store for reading only, with the same opening check as
    /// [`RedbStore::open`]: for a user who may read the file but not write it (an
    /// inspector's account, a read-only mount). Nothing is ever written to the file;
    /// every write fails with [`OpenError::ReadOnly`]. Like a writer, it cannot be opened
    /// while another process has the file open for writing.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<RedbStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        guard(|| {
            let db = Database::builder()
                .set_cache_size(CACHE_BYTES)
                .open_read_only(&path);
            RedbStore::opened(path.clone(), Db::Read(db.map_err(backend)?))
        })
    }

    /// The store of an opened file, once its opening check passed.
    fn opened(path: PathBuf, db: Db) -> Result<RedbStore, StoreError> {
        let store = RedbStore {
            db: Some(db),
            group: GroupCommit::default(),
            path,
            stopped: Default::default(),
        };
        store.check_head()?;
        Ok(store)
    }

    fn db(&self) -> &Db {
        self.db
            .as_ref()
            .expect("the database is open until the store is dropped")
    }

    /// Brings a file of layout 1 or 2 to [`LAYOUT`] (see [`LAYOUT_V1`], [`LAYOUT_V2`]):
    /// deletes the Merkle nodes below [`LOWEST_KEPT_LEVEL`], in one transaction.
    fn upgrade_layout(&self) -> Result<(), StoreError> {
        let found = {
            let txn = self.read_txn()?;
            let meta = txn.open_table(META).map_err(backend)?;
            meta.get(META_LAYOUT)
                .map_err(backend)?
                .map(|v| v.value().to_vec())
        };
        if [LAYOUT_V1, LAYOUT_V2]
            .map(str::as_bytes)
            .iter()
            .any(|old| found.as_deref() == Some(old))
        {
            let txn = self.write_txn()?;
            {
                let mut w = Writer::open(&txn)?;
                w.nodes
                    .retain_in((0u8, 0u64)..(LOWEST_KEPT_LEVEL, 0u64), |_, _| false)
                    .map_err(backend)?;
                w.meta
                    .insert(META_LAYOUT, LAYOUT.as_bytes())
                    .map_err(backend)?;
            }
            txn.commit().map_err(backend)?;
        }
        Ok(())
    }

    /// Whether this store was opened for reading only.
    pub fn is_read_only(&self) -> bool {
        matches!(self.db, Some(Db::Read(_)))
    }

    fn read_txn(&self) -> Result<ReadTransaction, StoreError> {
        match self.db() {
            Db::Write(db) => db.begin_read(),
            Db::Read(db) => db.begin_read(),
        }
        .map_err(backend)
    }

    /// A durable write transaction, or [`OpenError::ReadOnly`].
    fn write_txn(&self) -> Result<WriteTransaction, StoreError> {
        let Db::Write(db) = self.db() else {
            return Err(StoreError::Backend(Box::new(OpenError::ReadOnly {
                path: self.path.clone(),
            })));
        };
        let mut txn = db.begin_write().map_err(backend)?;
        txn.set_durability(Durability::Immediate).map_err(backend)?;
        Ok(txn)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The opening check: the layout marker, then the stored head (size, last hash,
    /// root, peaks) against the records and nodes tables.
    fn check_head(&self) -> Result<(), StoreError> {
        let txn = self.read_txn()?;
        let meta = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => {
                return Err(StoreError::Backend(Box::new(OpenError::NotAStore {
                    path: self.path.clone(),
                })));
            }
            Err(e) => return Err(backend(e)),
        };
        match meta.get(META_LAYOUT).map_err(backend)? {
            None => {
                return Err(StoreError::Backend(Box::new(OpenError::NotAStore {
                    path: self.path.clone(),
                })));
            }
            Some(v)
                if ![LAYOUT, LAYOUT_V2, LAYOUT_V1]
                    .map(str::as_bytes)
                    .contains(&v.value()) =>
            {
                return Err(StoreError::Backend(Box::new(
                    OpenError::UnsupportedLayout {
                        path: self.path.clone(),
                        found: String::from_utf8_lossy(v.value()).into_owned(),
                    },
                )));
            }
            Some(_) => {}
        }
        let chain = load_chain(&meta)?;
        let size = chain.frontier.size();
        let records = txn.open_table(RECORDS).map_err(backend)?;
        let last = records.last().map_err(backend)?;
        match (size, last) {
            (0, None) => {}
            (0, Some((k, _))) => {
                return Err(StoreError::Corrupt {
                    position: k.value(),
                    reason: "the stored head says the ledger is empty, but records exist".into(),
                });
            }
            (_, None) => {
                return Err(StoreError::Corrupt {
                    position: size - 1,
                    reason: format!("the stored head says {size} records, but none exist"),
                });
            }
            (_, Some((k, v))) => {
                let position = k.value();
                if position != size - 1 {
                    return Err(StoreError::Corrupt {
                        position,
                        reason: format!(
                            "the last stored record is at position {position}, but the stored head says {size} records"
                        ),
                    });
                }
                let record = decode(position, v.value())?;
                if record.hash() != chain.last_hash {
                    return Err(StoreError::Corrupt {
                        position,
                        reason: "the last record's hash differs from the stored head's".into(),
                    });
                }
                if record.sealed_at_micros() != chain.last_sealed_micros {
                    return Err(StoreError::Corrupt {
                        position,
                        reason: "the last record's sealing time differs from the stored one".into(),
                    });
                }
            }
        }
        if records.len().map_err(backend)? != size {
            return Err(StoreError::Corrupt {
                position: size.saturating_sub(1),
                reason: "the number of stored records differs from the stored head's size".into(),
            });
        }
        let nodes = txn.open_table(NODES).map_err(backend)?;
        // The kept peaks only: a lower one is computed from the records, whose check
        // is `verify`'s (which names the record that differs, not this head).
        let kept = peak_ids(size)
            .zip(chain.frontier.peaks())
            .filter(|(id, _)| id.level >= LOWEST_KEPT_LEVEL);
        for (id, peak) in kept {
            let NodeId { level, index } = id;
            if node_in(&records, &nodes, id)? != Some(*peak) {
                return Err(StoreError::Corrupt {
                    position: size - 1,
                    reason: format!(
                        "Merkle node (level {level}, index {index}) differs from the stored head's peak"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Commits a group of batches in one write transaction (run by the group's leader,
    /// see [`GroupCommit`]). A batch that conflicts or cannot be sealed fails alone; a
    /// storage error is returned for the whole group, and nothing of it is written.
    fn commit_group(&self, group: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError> {
        let txn = self.write_txn()?;
        let mut outcomes = Vec::with_capacity(group.len());
        let mut written = 0usize;
        {
            let mut w = Writer::open(&txn)?;
            // The chain is read in the transaction, not cached: what the leader seals on
            // is exactly what is committed, whatever happened to earlier commits.
            let mut chain = load_chain(&w.meta)?;
            for batch in group {
                if let Some(id) = &batch.command_id {
                    if let Some(position) = w.commands.get(id.as_str()).map_err(backend)? {
                        outcomes.push(Err(StoreError::AlreadyRecorded {
                            position: position.value(),
                        }));
                        continue;
                    }
                }
                let current = stream_version_in(&w.streams, &batch.stream_id)?;
                if !batch.expected.admits(current) {
                    outcomes.push(Err(StoreError::Conflict {
                        stream_id: batch.stream_id,
                        expected: batch.expected,
                        actual: current,
                    }));
                    continue;
                }
                let first_position = chain.frontier.size();
                match chain.seal_batch(&batch, current, planledger_store::clock_micros()) {
                    Err(e) => outcomes.push(Err(e)),
                    Ok((records, nodes)) => {
                        w.put(&records, &nodes)?;
                        for (key, value) in &batch.tags {
                            w.put_tag(&batch.stream_id, key, value)?;
                        }
                        let stream_version = current + records.len() as u64;
                        if let Some(bytes) = &batch.summary {
                            w.put_summary(&batch.stream_id, stream_version, bytes)?;
                        }
                        written += 1;
                        outcomes.push(Ok(Appended {
                            first_position,
                            stream_version,
                            head: chain.head(),
                            sealed_at_micros: records[0].sealed_at_micros().unwrap_or_default(),
                        }));
                    }
                }
            }
            if written > 0 {
                w.put_head(&chain)?;
            }
        }
        if written > 0 {
            txn.commit().map_err(backend)?;
        } else {
            txn.abort().map_err(backend)?;
        }
        Ok(outcomes)
    }
}

/// Runs `f`, turning a panic inside the storage engine into [`StoreError::Corrupt`]:
/// redb trusts its file's page structure and panics (an index out of bounds, an
/// unreachable branch) when a damaged file breaks it. A damaged file is a finding for
/// `verify` and an error for everyone else, never a crash.
fn guard<T>(f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| Err(stopped()))
}

fn stopped() -> StoreError {
    StoreError::Corrupt {
        position: 0,
        reason: "the storage engine stopped on the store file (a damaged page, or a bug): \
                 verify the ledger, and open it again"
            .into(),
    }
}

impl RedbStore {
    /// [`guard`] for an open store: after a caught panic the engine's state in this
    /// process is not trusted again, so every later call is refused.
    fn guarded<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        use std::sync::atomic::Ordering;
        if self.stopped.load(Ordering::Acquire) {
            return Err(stopped());
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
            self.stopped.store(true, Ordering::Release);
            Err(stopped())
        })
    }
}

impl Store for RedbStore {
    fn append(&self, batch: AppendBatch) -> Result<Appended, StoreError> {
        self.guarded(|| {
            if batch.events.is_empty() {
                return Err(StoreError::EmptyBatch);
            }
            if self.is_read_only() {
                return Err(StoreError::Backend(Box::new(OpenError::ReadOnly {
                    path: self.path.clone(),
                })));
            }
            self.group.append(batch, |group| self.commit_group(group))
        })
    }

    fn append_many(&self, batches: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError> {
        self.guarded(|| {
            // One transaction of the backend's own; appends of other threads wait for it at
            // the backend's write lock, as they wait for a group's leader.
            planledger_store::group::commit_many(batches, |group| self.commit_group(group))
        })
    }

    fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.guarded(|| {
            if limit == 0 {
                return Ok(Vec::new());
            }
            let txn = self.read_txn()?;
            let streams = txn.open_table(STREAMS).map_err(backend)?;
            let records = txn.open_table(RECORDS).map_err(backend)?;
            let mut out = Vec::new();
            for entry in streams
                .range((stream_id, from_version.max(1))..=(stream_id, u64::MAX))
                .map_err(backend)?
                .take(limit)
            {
                let (_, position) = entry.map_err(backend)?;
                let position = position.value();
                let bytes =
                    records
                        .get(position)
                        .map_err(backend)?
                        .ok_or_else(|| StoreError::Corrupt {
                            position,
                            reason: "the stream index names a record that does not exist".into(),
                        })?;
                out.push(decode(position, bytes.value())?);
            }
            Ok(out)
        })
    }

    fn read_all(&self, from_position: u64, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.guarded(|| {
            if limit == 0 {
                return Ok(Vec::new());
            }
            let txn = self.read_txn()?;
            let records = txn.open_table(RECORDS).map_err(backend)?;
            let mut out = Vec::new();
            for entry in records.range(from_position..).map_err(backend)?.take(limit) {
                let (k, v) = entry.map_err(backend)?;
                out.push(decode(k.value(), v.value())?);
            }
            Ok(out)
        })
    }

    fn read_all_bytes(&self, from_position: u64, limit: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        self.guarded(|| {
            if limit == 0 {
                return Ok(Vec::new());
            }
            let txn = self.read_txn()?;
            let records = txn.open_table(RECORDS).map_err(backend)?;
            let mut out = Vec::new();
            for entry in records.range(from_position..).map_err(backend)?.take(limit) {
                // No decoding: the verifier parses and hashes the bytes itself, and reports
                // one that does not parse at its position.
                out.push(entry.map_err(backend)?.1.value().to_vec());
            }
            Ok(out)
        })
    }

    fn read_all_bytes_into(
        &self,
        from_position: u64,
        limit: usize,
        out: &mut RecordBytes,
    ) -> Result<(), StoreError> {
        self.guarded(|| {
            out.clear();
            if limit == 0 {
                return Ok(());
            }
            let txn = self.read_txn()?;
            let records = txn.open_table(RECORDS).map_err(backend)?;
            for entry in records.range(from_position..).map_err(backend)?.take(limit) {
                // Straight from redb's page into the caller's buffer: no allocation per
                // record (allocating and freeing them cost more than hashing them).
                out.push(entry.map_err(backend)?.1.value());
            }
            Ok(())
        })
    }

    fn head(&self) -> Result<Head, StoreError> {
        self.guarded(|| {
            let txn = self.read_txn()?;
            let meta = txn.open_table(META).map_err(backend)?;
            Ok(load_chain(&meta)?.head())
        })
    }

    fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
        self.guarded(|| {
            let txn = self.read_txn()?;
            let records = txn.open_table(RECORDS).map_err(backend)?;
            let nodes = txn.open_table(NODES).map_err(backend)?;
            node_in(&records, &nodes, id)?.ok_or_else(|| StoreError::NotFound {
                what: format!("Merkle node (level {}, index {})", id.level, id.index),
            })
        })
    }

    fn nodes(&self, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, StoreError> {
        // One read transaction for them all: a transaction per node made verify's node
        // check several times slower than its check of the records.
        self.guarded(|| {
            let txn = self.read_txn()?;
            let records = txn.open_table(RECORDS).map_err(backend)?;
            let nodes = txn.open_table(NODES).map_err(backend)?;
            ids.iter()
                .map(|&id| node_in(&records, &nodes, id))
                .collect()
        })
    }

    fn nodes_kept_from_level(&self) -> u8 {
        LOWEST_KEPT_LEVEL
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        self.guarded(|| {
            let txn = self.read_txn()?;
            let streams = txn.open_table(STREAMS).map_err(backend)?;
            stream_version_in(&streams, stream_id)
        })
    }

    fn derived(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.guarded(|| {
            let txn = self.read_txn()?;
            let Some(table) = open_if_written(&txn, DERIVED)? else {
                return Ok(None);
            };
            Ok(table
                .get(name)
                .map_err(backend)?
                .map(|v| v.value().to_vec()))
        })
    }

    fn put_derived(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.guarded(|| {
            let txn = self.write_txn()?;
            {
                let mut table = txn.open_table(DERIVED).map_err(backend)?;
                table.insert(name, bytes).map_err(backend)?;
            }
            txn.commit().map_err(backend)
        })
    }

    fn command_position(&self, command_id: &str) -> Result<Option<u64>, StoreError> {
        self.guarded(|| {
            let txn = self.read_txn()?;
            let Some(table) = open_if_written(&txn, COMMANDS)? else {
                return Ok(None);
            };
            Ok(table.get(command_id).map_err(backend)?.map(|v| v.value()))
        })
    }

    fn append_sealed(&self, records: &[Record]) -> Result<Head, StoreError> {
        self.guarded(|| {
            if records.is_empty() {
                return self.head();
            }
            let txn = self.write_txn()?;
            let head = {
                let mut w = Writer::open(&txn)?;
                let mut chain = load_chain(&w.meta)?;
                let streams = &w.streams;
                let nodes = chain.accept_sealed(records, |s| stream_version_in(streams, s))?;
                w.put(records, &nodes)?;
                w.put_head(&chain)?;
                chain.head()
            };
            // On any error above, dropping the transaction aborts it: nothing is written.
            txn.commit().map_err(backend)?;
            Ok(head)
        })
    }

    fn streams_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, StoreError> {
        self.guarded(|| {
            let txn = self.read_txn()?;
            let Some(index) = open_if_written(&txn, TAGS_BY_VALUE)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for entry in index.range((key, value, "")..).map_err(backend)? {
                let (k, _) = entry.map_err(backend)?;
                let (k, v, stream) = k.value();
                if (k, v) != (key, value) {
                    break;
                }
                out.push(stream.to_owned());
            }
            Ok(out)
        })
    }

    fn streams_tagged_between(
        &self,
        key: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.guarded(|| {
            let txn = self.read_txn()?;
            let Some(index) = open_if_written(&txn, TAGS_BY_VALUE)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for entry in index.range((key, from, "")..).map_err(backend)? {
                let (k, _) = entry.map_err(backend)?;
                let (k, value, stream) = k.value();
                if k != key || value >= to {
                    break;
                }
                out.push((value.to_owned(), stream.to_owned()));
            }
            Ok(out)
        })
    }

    fn tag_values(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.guarded(|| {
            let txn = self.read_txn()?;
            let Some(index) = open_if_written(&txn, TAGS_BY_VALUE)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for entry in index.range((key, "", "")..).map_err(backend)? {
                let (k, _) = entry.map_err(backend)?;
                let (k, value, stream) = k.value();
                if k != key {
                    break;
                }
                out.push((value.to_owned(), stream.to_owned()));
            }
            Ok(out)
        })
    }

    fn stream_tags(&self, stream_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.guarded(|| {
            let txn = self.read_txn()?;
            let Some(tags) = open_if_written(&txn, TAGS)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for entry in tags.range((stream_id, "")..).map_err(backend)? {
                let (k, v) = entry.map_err(backend)?;
                let (stream, key) = k.value();
                if stream != stream_id {
                    break;
                }
                out.push((key.to_owned(), v.value().to_owned()));
            }
            Ok(out)
        })
    }

    fn put_tags(&self, tags: &[StreamTag]) -> Result<(), StoreError> {
        self.guarded(|| self.write_tags(tags, false))
    }

    fn replace_tags(&self, tags: &[StreamTag]) -> Result<(), StoreError> {
        self.guarded(|| self.write_tags(tags, true))
    }

    fn summaries(&self, stream_ids: &[String]) -> Result<Vec<Option<StreamSummary>>, StoreError> {
        self.guarded(|| {
            let txn = self.read_txn()?;
            let Some(table) = open_if_written(&txn, SUMMARIES)? else {
                return Ok(vec![None; stream_ids.len()]);
            };
            stream_ids
                .iter()
                .map(|s| {
                    Ok(table.get(s.as_str()).map_err(backend)?.map(|v| {
                        let (stream_version, bytes) = v.value();
                        StreamSummary {
                            stream_version,
                            bytes: bytes.to_vec(),
                        }
                    }))
                })
                .collect()
        })
    }

    fn summaries_after(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, StreamSummary)>, StoreError> {
        use std::ops::Bound;
        self.guarded(|| {
            let txn = self.read_txn()?;
            let Some(table) = open_if_written(&txn, SUMMARIES)? else {
                return Ok(Vec::new());
            };
            let range = table
                .range::<&str>((Bound::Excluded(after), Bound::Unbounded))
                .map_err(backend)?;
            let mut out = Vec::new();
            for entry in range.take(limit) {
                let (k, v) = entry.map_err(backend)?;
                let (stream_version, bytes) = v.value();
                out.push((
                    k.value().to_owned(),
                    StreamSummary {
                        stream_version,
                        bytes: bytes.to_vec(),
                    },
                ));
            }
            Ok(out)
        })
    }

    fn put_summaries(&self, summaries: &[(String, StreamSummary)]) -> Result<(), StoreError> {
        self.guarded(|| {
            let txn = self.write_txn()?;
            {
                let mut w = Writer::open(&txn)?;
                for (stream, s) in summaries {
                    w.put_summary(stream, s.stream_version, &s.bytes)?;
                }
            }
            txn.commit().map_err(backend)?;
            Ok(())
        })
    }

    fn forget_streams(&self, stream_ids: &[String]) -> Result<(), StoreError> {
        self.guarded(|| {
            let txn = self.write_txn()?;
            {
                let mut w = Writer::open(&txn)?;
                for stream in stream_ids {
                    let mut tags = Vec::new();
                    for entry in (w.tags)
                        .range((stream.as_str(), "")..=(stream.as_str(), "\u{10ffff}"))
                        .map_err(backend)?
                    {
                        let (k, v) = entry.map_err(backend)?;
                        tags.push((k.value().1.to_owned(), v.value().to_owned()));
                    }
                    for (key, value) in &tags {
                        w.tags
                            .remove((stream.as_str(), key.as_str()))
                            .map_err(backend)?;
                        w.tags_by_value
                            .remove((key.as_str(), value.as_str(), stream.as_str()))
                            .map_err(backend)?;
                    }
                    w.summaries.remove(stream.as_str()).map_err(backend)?;
                }
            }
            txn.commit().map_err(backend)?;
            Ok(())
        })
    }
}

impl RedbStore {
    /// Writes tags in one durable transaction, first removing every tag if `replace`.
    fn write_tags(&self, tags: &[StreamTag], replace: bool) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        if replace {
            txn.delete_table(TAGS).map_err(backend)?;
            txn.delete_table(TAGS_BY_VALUE).map_err(backend)?;
        }
        {
            let mut w = Writer::open(&txn)?;
            for t in tags {
                w.put_tag(&t.stream_id, &t.key, &t.value)?;
            }
        }
        txn.commit().map_err(backend)?;
        Ok(())
    }
}

/// A table of a read transaction, or `None` in a file that has never written it (a
/// store made before the table existed).
fn open_if_written<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &redb::ReadTransaction,
    table: TableDefinition<K, V>,
) -> Result<Option<redb::ReadOnlyTable<K, V>>, StoreError> {
    match txn.open_table(table) {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(backend(e)),
    }
}

#[cfg(test)]
mod tests {
    use planledger_store::{ExpectedVersion, conformance};

    use super::*;

    fn store_with_records() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.redb");
        let store = RedbStore::create(&path).unwrap();
        for i in 0..5 {
            store
                .append(conformance::batch(
                    &format!("plan-{}", i % 2),
                    ExpectedVersion::Any,
                    2,
                ))
                .unwrap();
        }
        (dir, path)
    }

    /// Changes the file behind the store's back, as a faulty disk or a tamperer would.
    fn tamper(path: &Path, f: impl FnOnce(&mut Writer<'_>)) {
        let db = Database::open(path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut w = Writer::open(&txn).unwrap();
            f(&mut w);
        }
        txn.commit().unwrap();
    }

    fn expect_corrupt(path: &Path, what: &str) {
        match RedbStore::open(path) {
            Err(StoreError::Corrupt { .. }) => {}
            other => panic!("{what}: opening must report Corrupt, got {other:?}"),
        }
    }

    fn layout_of(path: &Path) -> String {
        let db = Database::open(path).unwrap();
        let txn = db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        let v = meta.get(META_LAYOUT).unwrap().unwrap();
        String::from_utf8(v.value().to_vec()).unwrap()
    }

    #[test]
    fn a_layout_1_file_is_read_and_upgraded_and_an_unknown_layout_refused() {
        let (_dir, path) = store_with_records();
        assert_eq!(layout_of(&path), LAYOUT);
        tamper(&path, |w| {
            w.meta.insert(META_LAYOUT, LAYOUT_V1.as_bytes()).unwrap();
        });
        let read_only = RedbStore::open_read_only(&path).unwrap();
        assert_eq!(read_only.head().unwrap().size, 10);
        drop(read_only);
        assert_eq!(layout_of(&path), LAYOUT_V1, "a reader writes nothing");
        drop(RedbStore::open(&path).unwrap());
        assert_eq!(layout_of(&path), LAYOUT, "a writer upgrades the marker");
        tamper(&path, |w| {
            w.meta
                .insert(META_LAYOUT, b"planledger-store-redb/9".as_slice())
                .unwrap();
        });
        assert!(matches!(
            RedbStore::open(&path),
            Err(StoreError::Backend(e)) if e.to_string().contains("planledger-store-redb/9")
        ));
    }

    #[test]
    fn open_accepts_a_consistent_store() {
        let (_dir, path) = store_with_records();
        let store = RedbStore::open(&path).unwrap();
        assert_eq!(conformance::assert_chain_valid(&store).len(), 10);
    }

    #[test]
    fn open_reports_a_head_whose_last_hash_differs_from_the_last_record() {
        let (_dir, path) = store_with_records();
        tamper(&path, |w| {
            let mut chain = load_chain(&w.meta).unwrap();
            chain.last_hash = Hash([7; 32]);
            w.put_head(&chain).unwrap();
        });
        expect_corrupt(&path, "a head with a foreign last hash");
    }

    #[test]
    fn open_reports_a_missing_last_record() {
        let (_dir, path) = store_with_records();
        tamper(&path, |w| {
            w.records.remove(9).unwrap();
        });
        expect_corrupt(&path, "a head past the last record");
    }

    #[test]
    fn open_reports_a_record_beyond_the_head() {
        let (_dir, path) = store_with_records();
        tamper(&path, |w| {
            let bytes = w.records.get(9).unwrap().unwrap().value().to_vec();
            w.records.insert(10, bytes.as_slice()).unwrap();
        });
        expect_corrupt(&path, "a record beyond the head");
    }

    #[test]
    fn open_reports_a_changed_last_record() {
        let (_dir, path) = store_with_records();
        tamper(&path, |w| {
            let mut bytes = w.records.get(9).unwrap().unwrap().value().to_vec();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            w.records.insert(9, bytes.as_slice()).unwrap();
        });
        expect_corrupt(&path, "a changed last record");
    }

    #[test]
    fn open_reports_a_merkle_peak_that_differs_from_the_head() {
        let (_dir, path) = store_with_records();
        let store = RedbStore::open(&path).unwrap();
        for i in 0..4 {
            store
                .append(conformance::batch(
                    "plan-9",
                    ExpectedVersion::Any,
                    2 + i % 2,
                ))
                .unwrap();
        }
        assert_eq!(store.head().unwrap().size, 20);
        drop(store);
        tamper(&path, |w| {
            // 20 records: peaks (4, 0), kept, and (2, 4), computed from its records.
            w.nodes.insert((4u8, 0u64), &[9u8; 32]).unwrap();
        });
        expect_corrupt(&path, "a changed Merkle peak");
    }

    /// Every node of the tree of `size` leaves, by walking the levels.
    fn every_node(size: u64) -> Vec<NodeId> {
        (0..64u8)
            .take_while(|&level| size >> level > 0)
            .flat_map(|level| (0..size >> level).map(move |index| NodeId { level, index }))
            .collect()
    }

    #[test]
    fn nodes_below_the_kept_level_are_computed_from_their_records_and_a_layout_2_file_drops_them() {
        let (_dir, path) = store_with_records();
        let store = RedbStore::open(&path).unwrap();
        for _ in 0..20 {
            store
                .append(conformance::batch("plan-7", ExpectedVersion::Any, 3))
                .unwrap();
        }
        let size = store.head().unwrap().size; // 70: nodes up to level 6
        let ids = every_node(size);
        // The tree as the memory store, which keeps every node, has it.
        let memory = planledger_store::MemoryStore::new();
        planledger_store::copy_ledger(&store, &memory, &mut |_, _| {}).unwrap();
        let expected: Vec<Option<Hash>> = ids.iter().map(|&id| memory.node(id).ok()).collect();
        assert!(expected.iter().all(Option::is_some));
        assert_eq!(store.nodes(&ids).unwrap(), expected);
        for (&id, hash) in ids.iter().zip(&expected) {
            assert_eq!(store.node(id).ok(), *hash, "{id:?}");
        }
        // Incomplete nodes are not found, computed or kept.
        for id in [
            NodeId {
                level: 0,
                index: size,
            },
            NodeId { level: 3, index: 8 },
            NodeId { level: 6, index: 1 },
        ] {
            assert!(
                matches!(store.node(id), Err(StoreError::NotFound { .. })),
                "{id:?}"
            );
        }
        let kept = |path: &Path| -> Vec<(u8, u64)> {
            let db = Database::open(path).unwrap();
            let txn = db.begin_read().unwrap();
            let nodes = txn.open_table(NODES).unwrap();
            nodes
                .iter()
                .unwrap()
                .map(|e| e.unwrap().0.value())
                .collect()
        };
        drop(store);
        let high: Vec<(u8, u64)> = ids
            .iter()
            .filter(|id| id.level >= LOWEST_KEPT_LEVEL)
            .map(|id| (id.level, id.index))
            .collect();
        assert_eq!(
            kept(&path),
            high,
            "only the nodes from the kept level up are stored"
        );
        // A file of layout 2 kept them all (here: wrong ones, which nobody reads now).
        tamper(&path, |w| {
            for id in ids.iter().filter(|id| id.level < LOWEST_KEPT_LEVEL) {
                w.nodes.insert((id.level, id.index), &[7u8; 32]).unwrap();
            }
            w.meta.insert(META_LAYOUT, LAYOUT_V2.as_bytes()).unwrap();
        });
        let read_only = RedbStore::open_read_only(&path).unwrap();
        assert_eq!(read_only.nodes(&ids).unwrap(), expected);
        drop(read_only);
        assert_eq!(layout_of(&path), LAYOUT_V2, "a reader writes nothing");
        let upgraded = RedbStore::open(&path).unwrap();
        assert_eq!(upgraded.nodes(&ids).unwrap(), expected);
        drop(upgraded);
        assert_eq!(layout_of(&path), LAYOUT);
        assert_eq!(
            kept(&path),
            high,
            "a writer deletes the nodes below the kept level"
        );
    }

    #[test]
    fn open_rejects_a_redb_file_that_is_not_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.redb");
        drop(Database::create(&path).unwrap());
        match RedbStore::open(&path) {
            Err(StoreError::Backend(e)) => assert!(
                matches!(e.downcast_ref(), Some(OpenError::NotAStore { .. })),
                "{e}"
            ),
            other => panic!("expected NotAStore, got {other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_new_store_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path) = store_with_records();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }

    /// A store opened read-only reads everything a writer does, runs the same opening
    /// check, and refuses every write, leaving the file byte for byte as it was.
    #[test]
    fn a_read_only_store_reads_everything_and_refuses_every_write() {
        let (_dir, path) = store_with_records();
        let writer = RedbStore::open(&path).unwrap();
        let (head, all) = (writer.head().unwrap(), writer.read_all(0, 100).unwrap());
        let stream = writer.read_stream("plan-1", 1, 100).unwrap();
        drop(writer);
        let before = std::fs::read(&path).unwrap();

        let store = RedbStore::open_read_only(&path).unwrap();
        assert!(store.is_read_only());
        assert_eq!(store.head().unwrap(), head);
        assert_eq!(store.read_all(0, 100).unwrap(), all);
        assert_eq!(store.read_stream("plan-1", 1, 100).unwrap(), stream);
        assert_eq!(conformance::assert_chain_valid(&store).len(), 10);
        let read_only = |r: Result<(), StoreError>| match r {
            Err(StoreError::Backend(e)) => {
                assert!(
                    matches!(e.downcast_ref(), Some(OpenError::ReadOnly { .. })),
                    "{e}"
                );
                assert!(
                    e.to_string()
                        .contains("the ledger is read-only for this user")
                );
            }
            other => panic!("expected ReadOnly, got {other:?}"),
        };
        read_only(
            store
                .append(conformance::batch("plan-9", ExpectedVersion::Any, 1))
                .map(drop),
        );
        read_only(store.append_sealed(&all[..1]).map(drop));
        read_only(store.put_tags(&[]));
        read_only(store.replace_tags(&[]));
        drop(store);
        assert!(std::fs::read(&path).unwrap() == before, "the file changed");
    }

    #[test]
    fn a_read_only_open_runs_the_opening_check() {
        let (_dir, path) = store_with_records();
        tamper(&path, |w| {
            w.records.remove(9).unwrap();
        });
        match RedbStore::open_read_only(&path) {
            Err(StoreError::Corrupt { .. }) => {}
            other => panic!("opening must report Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn create_refuses_an_existing_file() {
        let (_dir, path) = store_with_records();
        match RedbStore::create(&path) {
            Err(StoreError::Backend(e)) => assert!(
                matches!(e.downcast_ref(), Some(OpenError::Exists { .. })),
                "{e}"
            ),
            other => panic!("expected Exists, got {other:?}"),
        }
        // And the store is untouched.
        assert_eq!(RedbStore::open(&path).unwrap().head().unwrap().size, 10);
    }

    /// In one group, a conflicting or unsealable batch fails alone; the others are
    /// committed, and a later batch sees the earlier ones of the same group.
    #[test]
    fn in_a_group_a_failing_batch_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::create(dir.path().join("ledger.redb")).unwrap();
        let mut unsealable = conformance::batch("plan-c", ExpectedVersion::Any, 2);
        unsealable.events[1].event_type = "x".repeat(256);
        let group = vec![
            conformance::batch("plan-a", ExpectedVersion::NoStream, 2),
            conformance::batch("plan-a", ExpectedVersion::NoStream, 1),
            unsealable,
            conformance::batch("plan-a", ExpectedVersion::Exact(2), 1),
            conformance::batch("plan-b", ExpectedVersion::NoStream, 3),
        ];
        let outcomes = store.commit_group(group).unwrap();
        let summary: Vec<String> = outcomes
            .iter()
            .enumerate()
            .map(|(t, r)| match r {
                Ok(a) => format!("{t}:ok@{}v{}", a.first_position, a.stream_version),
                Err(StoreError::Conflict { actual, .. }) => format!("{t}:conflict({actual})"),
                Err(StoreError::Format(_)) => format!("{t}:format"),
                Err(e) => format!("{t}:{e}"),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "0:ok@0v2",
                "1:conflict(2)",
                "2:format",
                "3:ok@2v3",
                "4:ok@3v3"
            ]
        );
        let records = conformance::assert_chain_valid(&store);
        assert_eq!(records.len(), 6);
        assert_eq!(outcomes[4].as_ref().unwrap().head, store.head().unwrap());
    }
}
