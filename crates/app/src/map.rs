//! The authenticated map of streams and clients (FORMAT.md §12) as of a tree size, and
//! the secret map key its client leaves are keyed with.
//!
//! The map is derived (FORMAT.md §12.7): [`build`] reads the records (headers and
//! hashes; only each plan's first order is decoded) and builds the tree from the sorted
//! leaves. The leaves as of the last build are kept in the store, without the key and
//! without personnummer (clients are under their salted map keys), and the next build
//! resumes from them, reading only the records after them, once it has checked that
//! their map has the root a signed checkpoint commits. `checkpoint` signs its root,
//! `export` proves one client's part of it against a checkpoint that may be older than
//! the head, and `verify --map-key` rebuilds it from every record for every checkpoint
//! that signs one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use planledger_ledger::{
    Hash, Map, Record, RecordHeader, client_key, client_salt, client_value, hash_record_bytes,
    stream_key, stream_value,
};
use planledger_plan::{Event, Personnummer};
use planledger_store::{Store, StoreError};
use verify_bundle::{BundleCompleteness, BundleStream};

use crate::error::{Error, Kind, Result};
use crate::files::{read_text_limited, write_new};
use crate::limits::Limits;

/// The first word of a map key file.
const KEY_PREFIX: &str = "planledger-map-key/1 ";

/// Records read per call while building.
const CHUNK: usize = 8192;

/// The ledger's secret map key (FORMAT.md §12.3): it keys the client salts, so that
/// no one holding a bundle can test a guessed personnummer against the map. Its
/// `Debug` never shows the key.
#[derive(Clone)]
pub struct MapKey([u8; 32]);

impl std::fmt::Debug for MapKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MapKey(..)")
    }
}

impl MapKey {
    pub fn from_bytes(bytes: [u8; 32]) -> MapKey {
        MapKey(bytes)
    }

    /// The key file text: `planledger-map-key/1 <64 hex digits>`.
    pub fn to_text(&self) -> String {
        format!("{KEY_PREFIX}{}", Hash(self.0).to_hex())
    }

    /// Parses [`to_text`](Self::to_text)'s form (surrounding whitespace ignored).
    pub fn from_text(text: &str) -> Option<MapKey> {
        let hex = text.trim().strip_prefix(KEY_PREFIX)?;
        Some(MapKey(Hash::from_hex(hex).ok()?.0))
    }
}

/// Makes a new map key from the OS random number generator and writes it to `out`
/// (mode 0600, never overwritten).
pub fn keygen(out: &Path) -> Result<MapKey> {
    let key = crate::crypt::random()?;
    let key = MapKey(key);
    write_new(out, &format!("{}\n", key.to_text()), true)?;
    Ok(key)
}

/// The map key in `path` (from [`keygen`]).
pub fn load_key(path: &Path, limits: &Limits) -> Result<MapKey> {
    let text = read_text_limited(path, "the map key", limits.file_bytes, "--max-file-bytes")?;
    MapKey::from_text(&text).ok_or_else(|| {
        Error::new(
            Kind::BadInput,
            format!(
                "{} is not a map key from `planledger map-keygen` (`{} <64 hex digits>`)",
                path.display(),
                KEY_PREFIX.trim_end()
            ),
        )
    })
}

/// The map of a ledger's first `size` records, with the leaf data provers need, and
/// the key its client leaves are keyed with.
#[derive(Clone)]
pub struct LedgerMap {
    pub size: u64,
    /// How many records this build read (fewer than `size` when it resumed from kept
    /// leaves).
    pub records_read: u64,
    map: Map,
    key: MapKey,
    /// Each stream's length and last record hash.
    streams: BTreeMap<String, (u64, Hash)>,
    /// Each client's plans, by the client's map key (FORMAT.md §12.3: a salted hash of
    /// the personnummer under the map key, never the number).
    clients: BTreeMap<Hash, BTreeSet<String>>,
}

fn corrupt(position: u64, e: impl std::fmt::Display) -> Error {
    Error::Store(StoreError::Corrupt {
        position,
        reason: format!("the record's bytes do not parse: {e}"),
    })
}

/// The name of the map's leaves kept in the store ([`Store::derived`]).
const LEAVES: &str = "map-leaves";

/// Builds the map of the records of `store` at positions below `size` (FORMAT.md
/// §12.2–12.4), keyed with `key`.
///
/// It resumes from the leaves kept in the store by the last build, reading only the
/// records after them, when those leaves make a map whose root a signed checkpoint
/// commits: `signed` lists the (size, map root) of checkpoints the caller has verified.
/// Otherwise (no leaves kept, another key, leaves that match nothing signed) it reads
/// every record below `size`. Builds that reach past the kept leaves keep theirs, so
/// the next checkpoint reads only what came after this one.
pub fn build(
    store: &dyn Store,
    size: u64,
    key: &MapKey,
    signed: &[(u64, Hash)],
) -> Result<LedgerMap> {
    let weeded = weeded_clients(store, key)?;
    let resumed = Scan::resume(store, key, signed, &weeded)?.filter(|(scan, _)| scan.at <= size);
    let (mut scan, checked) = match resumed {
        // The kept leaves are the map asked for: the one their check built.
        Some((scan, map)) if scan.at == size => {
            let mut map = map;
            map.records_read = 0;
            return Ok(map);
        }
        Some((scan, _)) => (scan, true),
        None => (Scan::new(key, weeded), false),
    };
    let kept_at = scan.at;
    scan.advance_to(store, size)?;
    if size > kept_at || !checked {
        store.put_derived(LEAVES, &scan.to_bytes())?;
    }
    let mut map = scan.map()?;
    map.records_read = size - kept_at;
    Ok(map)
}

/// The name of the weeded clients' map keys kept in the store, by plan (see
/// [`remember_weeded`]).
const WEEDED: &str = "map-weeded-clients";

/// The map keys of weeded clients' plans, for one map key: postcard of this.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct WeededClients {
    key_check: [u8; 32],
    plans: Vec<(String, [u8; 32])>,
}

/// Keeps, before `client` is weeded, the client's map key (FORMAT.md §12.3, a salted
/// hash under the map key, never the number) for each of `plans`: once the client's
/// key is destroyed their first order cannot be read, and a map rebuilt from the
/// records (`verify --map-key` against checkpoints signed before the weeding) takes the
/// client's leaf from here. A hint, never trusted: a wrong one makes the rebuilt map's
/// root differ from the signed one, which `verify` reports.
pub fn remember_weeded(
    store: &dyn Store,
    key: &MapKey,
    client: &Personnummer,
    plans: &[String],
) -> Result<()> {
    let mut kept = weeded_clients(store, key)?;
    let client_key = client_map_key(key, client);
    for plan in plans {
        kept.entry(plan.clone()).or_insert(client_key);
    }
    let bytes = postcard::to_allocvec(&WeededClients {
        key_check: key_check(key),
        plans: kept.into_iter().map(|(p, k)| (p, k.0)).collect(),
    })
    .expect("plain data serialises");
    store.put_derived(WEEDED, &bytes)?;
    Ok(())
}

/// The weeded plans of `client` whose map key the weeding kept for `key` (none for
/// another key's): the one link from a weeded client's number to their plans.
pub fn weeded_plans_of(
    store: &dyn Store,
    key: &MapKey,
    client: &Personnummer,
) -> Result<Vec<String>> {
    let wanted = client_map_key(key, client);
    Ok(weeded_clients(store, key)?
        .into_iter()
        .filter(|(_, k)| *k == wanted)
        .map(|(plan, _)| plan)
        .collect())
}

/// The weeded plans' client map keys kept for `key` (none for another key's).
fn weeded_clients(store: &dyn Store, key: &MapKey) -> Result<BTreeMap<String, Hash>> {
    let Some(bytes) = store.derived(WEEDED)? else {
        return Ok(BTreeMap::new());
    };
    Ok(match postcard::from_bytes::<WeededClients>(&bytes) {
        Ok(w) if w.key_check == key_check(key) => {
            w.plans.into_iter().map(|(p, k)| (p, Hash(k))).collect()
        }
        _ => BTreeMap::new(),
    })
}

/// The leaves of the records read so far, from position 0. No `Debug`: it holds the
/// map key.
struct Scan {
    key: MapKey,
    /// Weeded plans' client map keys ([`remember_weeded`]), for orders that can no
    /// longer be read.
    weeded: BTreeMap<String, Hash>,
    at: u64,
    streams: BTreeMap<String, (u64, Hash)>,
    clients: BTreeMap<Hash, BTreeSet<String>>,
}

/// The leaves as kept in the store: postcard of this. The key is not kept, only a
/// keyed hash that tells whether the leaves were made with the key at hand.
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    format: u8,
    key_check: [u8; 32],
    at: u64,
    streams: Vec<(String, u64, [u8; 32])>,
    clients: Vec<([u8; 32], Vec<String>)>,
}

impl Scan {
    fn new(key: &MapKey, weeded: BTreeMap<String, Hash>) -> Scan {
        Scan {
            key: key.clone(),
            weeded,
            at: 0,
            streams: BTreeMap::new(),
            clients: BTreeMap::new(),
        }
    }

    /// The kept leaves and their map, if they are of `key` and their map has a root
    /// `signed` holds at their size; `None` otherwise (they are then rebuilt from the
    /// records).
    fn resume(
        store: &dyn Store,
        key: &MapKey,
        signed: &[(u64, Hash)],
        weeded: &BTreeMap<String, Hash>,
    ) -> Result<Option<(Scan, LedgerMap)>> {
        let Some(bytes) = store.derived(LEAVES)? else {
            return Ok(None);
        };
        let Ok(kept) = postcard::from_bytes::<Kept>(&bytes) else {
            return Ok(None);
        };
        if kept.format != 1 || kept.key_check != key_check(key) {
            return Ok(None);
        }
        let scan = Scan {
            key: key.clone(),
            weeded: weeded.clone(),
            at: kept.at,
            streams: (kept.streams.into_iter())
                .map(|(id, length, last)| (id, (length, Hash(last))))
                .collect(),
            clients: (kept.clients.into_iter())
                .map(|(k, plans)| (Hash(k), plans.into_iter().collect()))
                .collect(),
        };
        let map = scan.map()?;
        let root = map.root();
        Ok(signed
            .iter()
            .any(|&(size, signed_root)| size == scan.at && signed_root == root)
            .then_some((scan, map)))
    }

    fn to_bytes(&self) -> Vec<u8> {
        let kept = Kept {
            format: 1,
            key_check: key_check(&self.key),
            at: self.at,
            streams: (self.streams.iter())
                .map(|(id, (length, last))| (id.clone(), *length, last.0))
                .collect(),
            clients: (self.clients.iter())
                .map(|(k, plans)| (k.0, plans.iter().cloned().collect()))
                .collect(),
        };
        postcard::to_allocvec(&kept).expect("the leaves serialise")
    }

    /// Reads the records from where the scan stands up to position `size`.
    fn advance_to(&mut self, store: &dyn Store, size: u64) -> Result<()> {
        while self.at < size {
            let chunk = store.read_all_bytes(self.at, CHUNK.min((size - self.at) as usize))?;
            if chunk.is_empty() {
                return Err(Error::Store(StoreError::Corrupt {
                    position: self.at,
                    reason: "the ledger ends before the size the map is built at".into(),
                }));
            }
            for bytes in chunk {
                let position = self.at;
                self.at += 1;
                self.add(store, position, bytes)?;
            }
        }
        Ok(())
    }

    fn add(&mut self, store: &dyn Store, position: u64, bytes: Vec<u8>) -> Result<()> {
        let header = RecordHeader::parse(&bytes).map_err(|e| corrupt(position, e))?;
        if header.position != position {
            return Err(corrupt(position, "its position is another"));
        }
        let hash = hash_record_bytes(&bytes);
        match self.streams.get_mut(header.stream_id) {
            Some(s) => *s = (header.stream_version, hash),
            None => {
                self.streams
                    .insert(header.stream_id.to_owned(), (header.stream_version, hash));
            }
        }
        // A plan's client is fixed by its first order, which is version 1 of its stream
        // (as the plan index derives it): only those records are decoded.
        if header.event_type != "order_received" || header.stream_version != 1 {
            return Ok(());
        }
        let mut record = Record::decode(bytes).map_err(|e| corrupt(position, e))?;
        if !record.entry().envelope.is_plaintext() {
            // Encrypted: read through the store, which opens it with the client's key. A
            // weeded client's order stays sealed: its client's map key was kept when it
            // was weeded with the map key (`remember_weeded`), or it has no leaf.
            match store.read_all(position, 1)?.pop() {
                Some(r) if r.entry().envelope.is_plaintext() => record = r,
                _ => {
                    if let Some(client) = self.weeded.get(record.stream_id()) {
                        self.clients
                            .entry(*client)
                            .or_default()
                            .insert(record.stream_id().to_owned());
                    }
                    return Ok(());
                }
            }
        }
        let event = Event::decode_versioned(record.entry().schema_version, record.payload())
            .map_err(|e| corrupt(position, e))?;
        if let Event::OrderReceived(order) = event {
            self.clients
                .entry(client_map_key(&self.key, &order.client))
                .or_default()
                .insert(record.stream_id().to_owned());
        }
        Ok(())
    }

    /// The map of the records read so far.
    fn map(&self) -> Result<LedgerMap> {
        let mut leaves = Vec::with_capacity(self.streams.len() + self.clients.len());
        for (id, (length, last)) in &self.streams {
            leaves.push((stream_key(id), stream_value(*length, last)));
        }
        for (client, plans) in &self.clients {
            let plans: Vec<&String> = plans.iter().collect();
            let value = client_value(&plans)
                .map_err(|e| Error::new(Kind::Storage, format!("a client's map leaf: {e}")))?;
            leaves.push((*client, value));
        }
        let map = Map::new(leaves)
            .map_err(|e| Error::new(Kind::Storage, format!("the map cannot be built: {e}")))?;
        Ok(LedgerMap {
            size: self.at,
            records_read: self.at,
            map,
            key: self.key.clone(),
            streams: self.streams.clone(),
            clients: self.clients.clone(),
        })
    }
}

/// A client's key in the map (FORMAT.md §12.3).
fn client_map_key(key: &MapKey, client: &Personnummer) -> Hash {
    let digits = client.digits();
    client_key(&client_salt(&key.0, &digits), &digits)
}

/// What tells kept leaves of one map key from another's, without keeping the key.
fn key_check(key: &MapKey) -> [u8; 32] {
    *blake3::keyed_hash(&key.0, b"planledger map leaves kept in the store").as_bytes()
}

/// Rebuilds the map at the size of every checkpoint of `checkpoints` (oldest first)
/// that commits one, in one read of the ledger, and compares it with the signed root.
/// Returns how many were checked and the first that differs (by size and time, never
/// a client).
pub fn check(
    store: &dyn Store,
    checkpoints: &[planledger_ledger::Checkpoint],
    key: &MapKey,
) -> Result<(usize, Option<String>)> {
    let mut with_map: Vec<_> = checkpoints
        .iter()
        .filter_map(|c| c.map_root.map(|root| (c.size, c.time_micros, root)))
        .collect();
    with_map.sort_by_key(|c| c.0);
    let mut scan = Scan::new(key, weeded_clients(store, key)?);
    for (i, (size, time, root)) in with_map.iter().enumerate() {
        scan.advance_to(store, *size)?;
        if scan.map()?.root() != *root {
            return Ok((
                i,
                Some(format!(
                    "the map of the checkpoint of {size} records signed at {time} µs \
                     (the map rebuilt from the records with this map key has another root: \
                     the map key is not the one the checkpoint was made with, or what the records \
                     say of a stream or client differs from what was signed)"
                )),
            ));
        }
    }
    Ok((with_map.len(), None))
}

impl std::fmt::Debug for LedgerMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerMap")
            .field("size", &self.size)
            .field("streams", &self.streams.len())
            .field("clients", &self.clients.len())
            .field("root", &self.root())
            .finish()
    }
}

impl LedgerMap {
    pub fn root(&self) -> Hash {
        self.map.root()
    }

    /// Leaves: streams, then clients.
    pub fn counts(&self) -> (usize, usize) {
        (self.streams.len(), self.clients.len())
    }

    /// `client`'s plans in this map, in ascending byte order (empty: none).
    pub fn plans_of(&self, client: &Personnummer) -> Vec<String> {
        self.clients
            .get(&client_map_key(&self.key, client))
            .map(|p| p.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The bundle member that proves `client`'s part of the map (FORMAT.md §11):
    /// the client's salt, plans and leaf proof, and each plan's length, last record and
    /// leaf proof. `None` when the client has no plan in this map.
    pub fn completeness(&self, client: &Personnummer) -> Option<BundleCompleteness> {
        let digits = client.digits();
        let plans = self.plans_of(client);
        if plans.is_empty() {
            return None;
        }
        let salt = client_salt(&self.key.0, &digits);
        let hex = |p: planledger_ledger::MapProof| p.siblings.iter().map(Hash::to_hex).collect();
        let client_proof = hex(self.map.prove(&client_key(&salt, &digits)));
        let streams = plans
            .iter()
            .map(|plan| {
                let (length, last) = self.streams[plan];
                BundleStream {
                    plan: plan.clone(),
                    length,
                    last: last.to_hex(),
                    proof: hex(self.map.prove(&stream_key(plan))),
                }
            })
            .collect();
        Some(BundleCompleteness {
            client: digits,
            salt: salt.to_hex(),
            plans,
            client_proof,
            streams,
        })
    }
}
