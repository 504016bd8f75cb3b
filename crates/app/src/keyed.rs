//! A store whose personal data is encrypted under per-client keys (FORMAT.md §9): wraps
//! a backend's [`Store`] and a [`KeyStore`], so that every reader and writer of the
//! application (the recorder, the projection, the read model, `verify`) works unchanged
//! and none of them sees a key. Evidence bundles carry records as stored, so a bundle of
//! an encrypted client carries ciphertext; for a client not weeded it also carries the
//! client's data key ([`Store::data_key_for_bundle`], FORMAT.md §11 `data_keys`), with
//! which `verify-bundle` opens the records, and a weeded client's bundle the weeding.
//!
//! - **Appends**: each event of a plan's stream is sealed under its client's data key
//!   (made on the client's first order), its associated data binding stream id, stream
//!   version and event type; the summary is sealed too, and the `client` tag holds the
//!   client's key id (`k:<hex>`), never the number. Events that come sealed already, and
//!   streams without a client (the retention stream), pass as they are.
//! - **Reads**: records come back with their payloads opened
//!   ([`Record::with_opened_payload`]): their stored bytes, and so their hashes, are the
//!   ciphertext. A record whose key is destroyed (a weeded client) comes back sealed,
//!   and the projection refuses to fold it ([`planledger_plan::EntryError::Encrypted`]);
//!   a summary whose key is destroyed reads as none.
//! - `read_all_bytes`, the head, nodes: the backend's, untouched (verification hashes
//!   what is stored).
//!
//! - **A recorded weeding is a weeding.** A client whose `client_weeded` event is in the
//!   retention stream reads as weeded whether or not their key is destroyed yet (a
//!   `weed` killed between its steps leaves the key until the next run finishes it): the
//!   key is treated as gone (records sealed, summaries and the `client` tag unreadable,
//!   nothing more recorded under it), and the weeded plans are out of every tag and
//!   summary read, as after the weeding's later steps. So no reader ever sees a client
//!   half-weeded. The store follows the retention stream as it grows (one look at its
//!   version per read call; the stream is only appended to).
//!
//! Plaintext records and summaries of a ledger written before encryption read as they
//! are.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use planledger_ledger::{Envelope, Hash, NodeId, Record};
use planledger_plan::retention::{self, CLIENT_WEEDED, RETENTION_STREAM};
use planledger_store::{
    AppendBatch, Appended, BatchOutcome, ExpectedVersion, Head, Store, StoreError, StreamSummary,
    StreamTag,
};

use crate::crypt::{self, KeyId};
use crate::keystore::KeyStore;

/// The tag that names a plan's client (as in `planledger_projection::TAG_CLIENT`).
const TAG_CLIENT: &str = "client";
/// How a key id is written in the `client` tag.
const KEY_TAG_PREFIX: &str = "k:";
/// The first bytes of an encrypted summary: `magic || key id || nonce || ciphertext`.
/// Plaintext summaries are JSON and start with `{`.
const SUMMARY_MAGIC: &[u8] = b"PLS1";

/// A store with per-client encryption.
pub struct KeyedStore {
    inner: Box<dyn Store>,
    keys: Arc<dyn KeyStore>,
    /// The weedings recorded, as of a version of the retention stream.
    weeded: Mutex<Arc<WeededSet>>,
}

/// The clients and plans the retention stream records as weeded, read up to `version`.
#[derive(Debug, Default)]
struct WeededSet {
    version: u64,
    keys: HashSet<KeyId>,
    plans: HashSet<String>,
}

fn key_error(e: crate::Error) -> StoreError {
    StoreError::Backend(e.to_string().into())
}

/// The key id a `client` tag's value names, if it names one.
pub fn key_of_tag(value: &str) -> Option<KeyId> {
    KeyId::from_hex(value.strip_prefix(KEY_TAG_PREFIX)?)
}

/// The `client` tag's value for a key id.
pub fn tag_of_key(id: KeyId) -> String {
    format!("{KEY_TAG_PREFIX}{}", id.to_hex())
}

impl KeyedStore {
    pub fn new(inner: Box<dyn Store>, keys: Arc<dyn KeyStore>) -> KeyedStore {
        KeyedStore {
            inner,
            keys,
            weeded: Mutex::default(),
        }
    }

    /// The weedings recorded now: the cached set, extended by the retention records
    /// appended since it was read (by this process or another).
    fn weeded(&self) -> Result<Arc<WeededSet>, StoreError> {
        let version = self.inner.stream_version(RETENTION_STREAM)?;
        let cached = self.weeded.lock().expect("the weeded lock").clone();
        if cached.version >= version {
            return Ok(cached);
        }
        let (mut keys, mut plans) = (cached.keys.clone(), cached.plans.clone());
        let mut from = cached.version + 1;
        while from <= version {
            let records = self.inner.read_stream(RETENTION_STREAM, from, 1024)?;
            if records.is_empty() {
                break;
            }
            for r in &records {
                from = r.stream_version() + 1;
                let e = r.entry();
                // Holds are sealed and say nothing of weeding; a weeding is plaintext.
                if e.event_type != CLIENT_WEEDED {
                    continue;
                }
                let corrupt = || StoreError::Corrupt {
                    position: r.position(),
                    reason: "the weeding record does not decode".into(),
                };
                let w = retention::decode_weeded(&e.payload).ok_or_else(corrupt)?;
                keys.insert(KeyId::from_hex(&w.key_id).ok_or_else(corrupt)?);
                plans.extend(w.plans);
            }
        }
        let fresh = Arc::new(WeededSet {
            version: from - 1,
            keys,
            plans,
        });
        *self.weeded.lock().expect("the weeded lock") = fresh.clone();
        Ok(fresh)
    }

    /// The data key of `id`, unless it is destroyed or its client's weeding is among
    /// `weeded` (read once per call of the store: [`KeyedStore::weeded`] looks at the
    /// retention stream in the backend, a round trip on PostgreSQL).
    fn live_key(
        &self,
        weeded: &WeededSet,
        id: KeyId,
    ) -> Result<Option<crypt::DataKey>, StoreError> {
        if weeded.keys.contains(&id) {
            return Ok(None);
        }
        self.keys.data_key(id).map_err(key_error)
    }

    /// Whether `stream_id` is a plan whose weeding is recorded.
    pub fn is_weeded_plan(&self, stream_id: &str) -> Result<bool, StoreError> {
        Ok(self.weeded()?.plans.contains(stream_id))
    }

    /// The key store.
    pub fn keys(&self) -> &Arc<dyn KeyStore> {
        &self.keys
    }

    /// The backend, for what must see the bytes as stored.
    pub fn inner(&self) -> &dyn Store {
        self.inner.as_ref()
    }

    /// The key id of the client whose number is `digits`, making one if `create`.
    fn key_of_client(&self, digits: &str, create: bool) -> Result<Option<KeyId>, StoreError> {
        self.keys.key_of_client(digits, create).map_err(key_error)
    }

    /// The key id of a stream's client as the backend's tags say; a plaintext tag (a
    /// plan begun before encryption) gets its client a key.
    fn stream_key(&self, stream_id: &str) -> Result<Option<KeyId>, StoreError> {
        let tags = self.inner.stream_tags(stream_id)?;
        let Some((_, value)) = tags.iter().find(|(k, _)| k == TAG_CLIENT) else {
            return Ok(None);
        };
        match key_of_tag(value) {
            Some(id) => Ok(Some(id)),
            None => self.key_of_client(value, true),
        }
    }

    /// Seals `batch` for the backend; `keys` remembers the client keys of streams opened
    /// earlier in the same call (their tags are not stored yet).
    fn seal_batch(
        &self,
        weeded: &WeededSet,
        mut batch: AppendBatch,
        keys: &mut HashMap<String, Option<KeyId>>,
    ) -> Result<AppendBatch, StoreError> {
        let mut key = None;
        for (k, v) in batch.tags.iter_mut() {
            if k == TAG_CLIENT && key_of_tag(v).is_none() {
                let id = self.key_of_client(v, true)?;
                if let Some(id) = id {
                    *v = tag_of_key(id);
                }
                key = id;
            }
        }
        let key = match key {
            Some(id) => Some(id),
            None => match keys.get(&batch.stream_id) {
                Some(k) => *k,
                None => {
                    let k = self.stream_key(&batch.stream_id)?;
                    // A plan begun in plaintext: from now on its tag names the key.
                    if let Some(id) = k {
                        if !batch.tags.iter().any(|(k, _)| k == TAG_CLIENT) {
                            let plaintext_tag = self
                                .inner
                                .stream_tags(&batch.stream_id)?
                                .into_iter()
                                .any(|(k, v)| k == TAG_CLIENT && key_of_tag(&v).is_none());
                            if plaintext_tag {
                                batch.tags.push((TAG_CLIENT.to_owned(), tag_of_key(id)));
                            }
                        }
                    }
                    k
                }
            },
        };
        keys.insert(batch.stream_id.clone(), key);
        let Some(id) = key else {
            return Ok(batch);
        };
        let data_key = self
            .live_key(weeded, id)?
            .ok_or_else(|| StoreError::Backend("the client's key has been destroyed (the client was weeded); nothing is recorded for it".into()))?;
        let first = match batch.expected {
            ExpectedVersion::NoStream => 1,
            ExpectedVersion::Exact(v) => v + 1,
            ExpectedVersion::Any => self.inner.stream_version(&batch.stream_id)? + 1,
        };
        for (i, e) in batch.events.iter_mut().enumerate() {
            if !e.envelope.is_plaintext() {
                continue;
            }
            let ad = crypt::payload_ad(&batch.stream_id, first + i as u64, &e.event_type);
            let (nonce, ct) = crypt::seal(&data_key, &ad, &e.payload).map_err(key_error)?;
            e.envelope = Envelope {
                key_id: id.0.to_vec(),
                nonce: nonce.to_vec(),
            };
            e.payload = ct;
        }
        if let Some(summary) = batch.summary.take() {
            let version = first + batch.events.len() as u64 - 1;
            let sealed = self.seal_summary(weeded, id, &batch.stream_id, version, &summary)?;
            batch.summary = Some(sealed);
        }
        Ok(batch)
    }

    fn seal_summary(
        &self,
        weeded: &WeededSet,
        id: KeyId,
        stream_id: &str,
        version: u64,
        bytes: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        if bytes.starts_with(SUMMARY_MAGIC) {
            return Ok(bytes.to_vec());
        }
        let key = self
            .live_key(weeded, id)?
            .ok_or_else(|| StoreError::Backend("the client's key has been destroyed".into()))?;
        let (nonce, ct) =
            crypt::seal(&key, &crypt::summary_ad(stream_id, version), bytes).map_err(key_error)?;
        Ok([SUMMARY_MAGIC, &id.0, &nonce, &ct].concat())
    }

    /// A stored summary opened; `None` when its key is destroyed.
    fn open_summary(
        &self,
        weeded: &WeededSet,
        stream_id: &str,
        s: StreamSummary,
    ) -> Result<Option<StreamSummary>, StoreError> {
        let Some(rest) = s.bytes.strip_prefix(SUMMARY_MAGIC) else {
            return Ok(Some(s));
        };
        let corrupt = || {
            StoreError::Backend(
                format!("the summary of stream {stream_id} is not a sealed summary").into(),
            )
        };
        let (id, sealed) = rest
            .split_at_checked(crypt::KEY_ID_LEN)
            .ok_or_else(corrupt)?;
        let id = KeyId::from_slice(id).ok_or_else(corrupt)?;
        let Some(key) = self.live_key(weeded, id)? else {
            return Ok(None);
        };
        let (nonce, ct) = crypt::split_nonce(sealed).ok_or_else(corrupt)?;
        let bytes = crypt::open(
            &key,
            nonce,
            &crypt::summary_ad(stream_id, s.stream_version),
            ct,
        )
        .ok_or_else(|| {
            StoreError::Backend(
                format!("the summary of stream {stream_id} does not decrypt (changed bytes?)")
                    .into(),
            )
        })?;
        Ok(Some(StreamSummary {
            stream_version: s.stream_version,
            bytes,
        }))
    }

    /// A record with its payload opened, or as stored when plaintext or its key is
    /// destroyed.
    fn open_record(&self, weeded: &WeededSet, record: Record) -> Result<Record, StoreError> {
        let envelope = &record.entry().envelope;
        if envelope.is_plaintext() {
            return Ok(record);
        }
        let position = record.position();
        let Some(id) = KeyId::from_slice(&envelope.key_id) else {
            return Ok(record);
        };
        let Some(key) = self.live_key(weeded, id)? else {
            return Ok(record);
        };
        let e = record.entry();
        let ad = crypt::payload_ad(&e.stream_id, e.stream_version, &e.event_type);
        match crypt::open(&key, &e.envelope.nonce, &ad, &e.payload) {
            Some(plain) => Ok(record.with_opened_payload(plain)),
            None => Err(StoreError::Corrupt {
                position,
                reason: "the payload does not decrypt under its client's key (its bytes, nonce or place were changed)".into(),
            }),
        }
    }

    fn open_records(&self, records: Vec<Record>) -> Result<Vec<Record>, StoreError> {
        let weeded = self.weeded()?;
        (records.into_iter())
            .map(|r| self.open_record(&weeded, r))
            .collect()
    }

    /// Tags for the backend: a client's number becomes its key id.
    fn seal_tags(&self, tags: &[StreamTag]) -> Result<Vec<StreamTag>, StoreError> {
        tags.iter()
            .map(|t| {
                if t.key != TAG_CLIENT || key_of_tag(&t.value).is_some() {
                    return Ok(t.clone());
                }
                let id = self.key_of_client(&t.value, true)?;
                Ok(StreamTag {
                    value: id.map_or_else(|| t.value.clone(), tag_of_key),
                    ..t.clone()
                })
            })
            .collect()
    }

    /// A `client` tag's value as readers know it: the number (`None`: the key is gone).
    fn open_tag_value(&self, value: String) -> Result<Option<String>, StoreError> {
        match key_of_tag(&value) {
            Some(id) if self.weeded()?.keys.contains(&id) => Ok(None),
            Some(id) => self.keys.client_of(id).map_err(key_error),
            None => Ok(Some(value)),
        }
    }
}

impl Store for KeyedStore {
    // A recorded weeding counts as destroying the key (`live_key`): no bundle carries a
    // weeded client's key, even in the moment before `weed` removes it from the store.
    fn data_key_for_bundle(&self, key_id: &[u8]) -> Result<Option<[u8; 32]>, StoreError> {
        let Some(id) = KeyId::from_slice(key_id) else {
            return Ok(None);
        };
        Ok(self.live_key(&*self.weeded()?, id)?.map(|k| *k.expose()))
    }

    fn append(&self, batch: AppendBatch) -> Result<Appended, StoreError> {
        let batch = self.seal_batch(&*self.weeded()?, batch, &mut HashMap::new())?;
        self.inner.append(batch)
    }

    fn append_many(&self, batches: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError> {
        let mut keys = HashMap::new();
        let weeded = self.weeded()?;
        let sealed = batches
            .into_iter()
            .map(|b| self.seal_batch(&weeded, b, &mut keys))
            .collect::<Result<Vec<_>, _>>()?;
        self.inner.append_many(sealed)
    }

    fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.open_records(self.inner.read_stream(stream_id, from_version, limit)?)
    }

    fn read_all(&self, from_position: u64, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.open_records(self.inner.read_all(from_position, limit)?)
    }

    fn read_all_bytes(&self, from_position: u64, limit: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        self.inner.read_all_bytes(from_position, limit)
    }

    fn read_all_bytes_into(
        &self,
        from_position: u64,
        limit: usize,
        out: &mut planledger_store::RecordBytes,
    ) -> Result<(), StoreError> {
        self.inner.read_all_bytes_into(from_position, limit, out)
    }

    fn head(&self) -> Result<Head, StoreError> {
        self.inner.head()
    }

    fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
        self.inner.node(id)
    }

    fn nodes(&self, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, StoreError> {
        self.inner.nodes(ids)
    }

    fn nodes_kept_from_level(&self) -> u8 {
        self.inner.nodes_kept_from_level()
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        self.inner.stream_version(stream_id)
    }

    fn command_position(&self, command_id: &str) -> Result<Option<u64>, StoreError> {
        self.inner.command_position(command_id)
    }

    fn append_sealed(&self, records: &[Record]) -> Result<Head, StoreError> {
        self.inner.append_sealed(records)
    }

    fn streams_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, StoreError> {
        let mut streams = self.inner.streams_tagged(key, value)?;
        if key == TAG_CLIENT && key_of_tag(value).is_none() {
            if let Some(id) = self.key_of_client(value, false)? {
                streams.extend(self.inner.streams_tagged(key, &tag_of_key(id))?);
                streams.sort();
                streams.dedup();
            }
        }
        let weeded = self.weeded()?;
        streams.retain(|s| !weeded.plans.contains(s));
        Ok(streams)
    }

    fn streams_tagged_between(
        &self,
        key: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        if key == TAG_CLIENT {
            let mut all: Vec<_> = self
                .tag_values(key)?
                .into_iter()
                .filter(|(v, _)| v.as_str() >= from && v.as_str() < to)
                .collect();
            all.sort();
            return Ok(all);
        }
        let mut all = self.inner.streams_tagged_between(key, from, to)?;
        let weeded = self.weeded()?;
        all.retain(|(_, s)| !weeded.plans.contains(s));
        Ok(all)
    }

    fn tag_values(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut values = self.inner.tag_values(key)?;
        let weeded = self.weeded()?;
        values.retain(|(_, s)| !weeded.plans.contains(s));
        if key != TAG_CLIENT {
            return Ok(values);
        }
        let mut out = Vec::with_capacity(values.len());
        for (value, stream) in values {
            if let Some(v) = self.open_tag_value(value)? {
                out.push((v, stream));
            }
        }
        out.sort();
        Ok(out)
    }

    fn stream_tags(&self, stream_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        if self.is_weeded_plan(stream_id)? {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (key, value) in self.inner.stream_tags(stream_id)? {
            if key == TAG_CLIENT {
                if let Some(v) = self.open_tag_value(value)? {
                    out.push((key, v));
                }
            } else {
                out.push((key, value));
            }
        }
        Ok(out)
    }

    fn put_tags(&self, tags: &[StreamTag]) -> Result<(), StoreError> {
        self.inner.put_tags(&self.seal_tags(tags)?)
    }

    fn replace_tags(&self, tags: &[StreamTag]) -> Result<(), StoreError> {
        self.inner.replace_tags(&self.seal_tags(tags)?)
    }

    fn summaries(&self, stream_ids: &[String]) -> Result<Vec<Option<StreamSummary>>, StoreError> {
        let stored = self.inner.summaries(stream_ids)?;
        let weeded = self.weeded()?;
        let mut out = Vec::with_capacity(stored.len());
        for (id, s) in stream_ids.iter().zip(stored) {
            out.push(match s {
                Some(_) if weeded.plans.contains(id) => None,
                Some(s) => self.open_summary(&weeded, id, s)?,
                None => None,
            });
        }
        Ok(out)
    }

    fn summaries_after(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, StreamSummary)>, StoreError> {
        let weeded = self.weeded()?;
        // A page whose every summary is a weeded plan's would read as the end: page on
        // until one is readable or the backend has no more.
        let mut after = after.to_owned();
        let mut out = Vec::new();
        while out.is_empty() {
            let page = self.inner.summaries_after(&after, limit)?;
            let Some((last, _)) = page.last() else { break };
            after = last.clone();
            for (id, s) in page {
                if weeded.plans.contains(&id) {
                    continue;
                }
                if let Some(s) = self.open_summary(&weeded, &id, s)? {
                    out.push((id, s));
                }
            }
        }
        Ok(out)
    }

    fn put_summaries(&self, summaries: &[(String, StreamSummary)]) -> Result<(), StoreError> {
        let weeded = self.weeded()?;
        let mut sealed = Vec::with_capacity(summaries.len());
        for (stream, s) in summaries {
            // A weeded plan gets no read model again.
            if weeded.plans.contains(stream) {
                continue;
            }
            let bytes = match self.stream_key(stream)? {
                Some(id) => self.seal_summary(&weeded, id, stream, s.stream_version, &s.bytes)?,
                None => s.bytes.clone(),
            };
            sealed.push((
                stream.clone(),
                StreamSummary {
                    stream_version: s.stream_version,
                    bytes,
                },
            ));
        }
        self.inner.put_summaries(&sealed)
    }

    fn forget_streams(&self, stream_ids: &[String]) -> Result<(), StoreError> {
        self.inner.forget_streams(stream_ids)
    }

    fn derived(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.derived(name)
    }

    fn put_derived(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.inner.put_derived(name, bytes)
    }
}
