//! Evidence bundles (FORMAT.md §11): one client's records as stored, an inclusion proof
//! per record, and the signed checkpoint they lead to; `verify-bundle` checks one
//! offline with nothing but the verifier key.
//!
//! A weeded client's bundle holds their records as stored (ciphertext whose key is
//! destroyed: what the chain hashes, no plaintext) and the weeding records that
//! destroyed the key, each with its proof, so that it verifies and says the client was
//! weeded, when and under what. The client is found by number through the ledger's map
//! (the weeding keeps the client's map key when given `--map-key`): nothing else links
//! a weeded client's number to their plans.
//!
//! An encrypted client who is not weeded has their records stored as ciphertext too; the
//! bundle carries them as stored (so every hash and proof is the ledger's) and the
//! client's data key in `data_keys`, with which the verifier opens each one. That is
//! the same disclosure as a plaintext ledger's bundle, the client's records and nothing
//! else: only the keys of the records in the bundle are added.

use std::path::Path;

use planledger_ledger::{Record, inclusion_proof};
use planledger_plan::Personnummer;
use planledger_plan::retention::{self, CLIENT_WEEDED, RETENTION_STREAM};
use planledger_projection::TAG_CLIENT;
use planledger_store::{Store, StoreNodes};
use verify_bundle::{BUNDLE_FORMAT, Bundle, BundleConsistency, BundleRecord};

use crate::error::{Error, Kind, Result};
use crate::files::write_new;
use crate::map::MapKey;
use crate::witness::Witnessed;

/// What [`export`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub records: usize,
    pub plans: usize,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The client's records after the checkpoint, left out.
    pub later: usize,
    /// How many of the plans were weeded (their records sealed, their weeding included).
    pub weeded: usize,
}

/// The bundle of `client`'s records proven against `checkpoint`. When the checkpoint
/// commits a map (FORMAT.md §12), `map_key` is needed: the map is rebuilt as of the
/// checkpoint's size, must have the signed root, names the client's plans as of then,
/// and gives the bundle its completeness proof.
pub fn bundle(
    store: &dyn Store,
    client: &Personnummer,
    checkpoint: &Witnessed,
    since: Option<&Witnessed>,
    map_key: Option<&MapKey>,
) -> Result<(Bundle, Exported)> {
    let size = checkpoint.checkpoint.size;
    let mut completeness = None;
    let plans = match (checkpoint.checkpoint.map_root, map_key) {
        (Some(root), Some(key)) => {
            // The map signing the checkpoint built, if this process signed it.
            let map = match &checkpoint.map {
                Some(map) => map.clone(),
                None => std::sync::Arc::new(crate::map::build(store, size, key, &[(size, root)])?),
            };
            if map.root() != root {
                return Err(Error::new(
                    Kind::Verification,
                    format!(
                        "the map rebuilt from the ledger's first {size} records differs from the one the checkpoint signs: \
                         the map key is another than the one the checkpoint was made with, or the ledger was altered; \
                         run `planledger verify --map-key` with the witness"
                    ),
                ));
            }
            let plans = map.plans_of(client);
            completeness = map.completeness(client);
            if plans.is_empty()
                && store
                    .streams_tagged(TAG_CLIENT, &client.digits())?
                    .is_empty()
            {
                return Err(no_plan());
            }
            plans
        }
        (Some(_), None) => {
            return Err(Error::new(
                Kind::BadInput,
                "the checkpoint commits a map of the ledger: give the map key with --map-key, so that the bundle proves it holds all of the client's records",
            ));
        }
        (None, key) => {
            // The index names the client's plans; their streams are read once, below.
            crate::read::plans(store)?;
            let mut plans = store.streams_tagged(TAG_CLIENT, &client.digits())?;
            // A weeded client's plans are known by number only through the map keys
            // the weeding kept.
            if let Some(key) = key {
                plans.extend(crate::map::weeded_plans_of(store, key, client)?);
                plans.sort();
                plans.dedup();
            }
            if plans.is_empty() {
                return Err(no_plan());
            }
            plans
        }
    };
    let nodes = StoreNodes(store);
    let prove = |record: &Record| {
        inclusion_proof(&nodes, record.position(), size)
            .map(|proof| BundleRecord::new(record, &proof))
            .map_err(|e| {
                Error::new(
                    Kind::Storage,
                    format!("cannot prove a record's inclusion: {e}"),
                )
            })
    };
    let (mut records, mut later) = (Vec::new(), 0);
    // The plans whose records come sealed: their client was weeded.
    let mut sealed = std::collections::BTreeSet::new();
    // The key ids of the records stored encrypted that the store opened: the client's
    // live keys (normally one), which the bundle carries.
    let mut key_ids = std::collections::BTreeSet::new();
    for plan in &plans {
        // Read as many versions as the stream has, never "until the index gives no
        // more": a damaged index could give entries without end.
        let length = store.stream_version(plan)?;
        let mut from = 1;
        while from <= length {
            let want = usize::try_from(length - from + 1)
                .unwrap_or(usize::MAX)
                .min(1024);
            let chunk = store.read_stream(plan.as_str(), from, want)?;
            if chunk.is_empty() {
                break;
            }
            from += chunk.len() as u64;
            for record in chunk {
                if record.position() >= size {
                    later += 1;
                    continue;
                }
                if !record.entry().envelope.is_plaintext() {
                    // Read sealed: its key is destroyed (a weeded client).
                    sealed.insert(plan.clone());
                } else if let Some(id) = stored_key_id(&record)? {
                    // Read opened, stored sealed: the bundle needs the key to show it.
                    key_ids.insert(id);
                }
                records.push(prove(&record)?);
            }
        }
    }
    if records.is_empty() {
        return Err(Error::new(
            Kind::NotFound,
            "the client's records all come after the checkpoint; make a new checkpoint first",
        ));
    }
    let weedings = weedings_of(store, &sealed, size)?
        .iter()
        .map(prove)
        .collect::<Result<Vec<_>>>()?;
    let data_keys = data_keys(store, &key_ids)?;
    let exported = Exported {
        records: records.len(),
        plans: plans.len(),
        size,
        later,
        weeded: sealed.len(),
    };
    let consistency = match since {
        None => None,
        Some(old) => Some(consistency_from(store, old, checkpoint)?),
    };
    let bundle = Bundle {
        format: BUNDLE_FORMAT.to_owned(),
        checkpoint: checkpoint.note.clone(),
        records,
        consistency,
        completeness,
        weedings,
        data_keys,
    };
    Ok((bundle, exported))
}

/// The `client_weeded` records that weeded `plans` (whose records read sealed), all
/// below `size`, so that the bundle can prove them against its checkpoint.
fn weedings_of(
    store: &dyn Store,
    plans: &std::collections::BTreeSet<String>,
    size: u64,
) -> Result<Vec<Record>> {
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let mut uncovered = plans.clone();
    let mut out = Vec::new();
    let length = store.stream_version(RETENTION_STREAM)?;
    let mut from = 1;
    while from <= length {
        let chunk = store.read_stream(RETENTION_STREAM, from, 1024)?;
        if chunk.is_empty() {
            break;
        }
        from += chunk.len() as u64;
        for r in chunk {
            if r.entry().event_type != CLIENT_WEEDED {
                continue;
            }
            let w = retention::decode_weeded(r.payload()).ok_or_else(|| {
                Error::new(
                    Kind::Storage,
                    format!(
                        "the weeding record at position {} does not decode",
                        r.position()
                    ),
                )
            })?;
            if !w.plans.iter().any(|p| plans.contains(p)) {
                continue;
            }
            if r.position() >= size {
                return Err(Error::new(
                    Kind::NotFound,
                    "the client was weeded after the checkpoint, so the bundle could not prove the weeding; make a new checkpoint first",
                ));
            }
            for p in &w.plans {
                uncovered.remove(p);
            }
            out.push(r);
        }
    }
    if !uncovered.is_empty() {
        return Err(Error::new(
            Kind::Storage,
            "some of the client's records cannot be decrypted and no weeding of them is recorded: \
             is the key store the one written with this ledger?",
        ));
    }
    Ok(out)
}

/// The key id in `record`'s stored envelope (a store that encrypts gives records back
/// opened; their stored bytes keep the envelope), `None` when it was stored in plaintext.
fn stored_key_id(record: &Record) -> Result<Option<Vec<u8>>> {
    let stored = Record::decode(record.bytes().to_vec()).map_err(|e| {
        Error::new(
            Kind::Storage,
            format!(
                "the record at position {} does not parse: {e}",
                record.position()
            ),
        )
    })?;
    let envelope = &stored.entry().envelope;
    Ok((!envelope.is_plaintext()).then(|| envelope.key_id.clone()))
}

/// The `data_keys` member (FORMAT.md §11): each of `ids` with its key, lowercase hex.
/// Only keys of records the bundle holds are asked for, so the bundle carries the
/// client's own keys and never another client's or the key-encryption key.
fn data_keys(
    store: &dyn Store,
    ids: &std::collections::BTreeSet<Vec<u8>>,
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for id in ids {
        let key = store.data_key_for_bundle(id)?.ok_or_else(|| {
            // The store opened the records a moment ago: a key gone since is a weeding
            // running beside this export, which the next export shows as such.
            Error::new(
                Kind::Storage,
                "a key the client's records were just opened with is gone from the key store (a weeding ran meanwhile?); export again",
            )
        })?;
        out.insert(hex(id), hex(&key));
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn no_plan() -> Error {
    Error::new(Kind::NotFound, "no plan in the ledger has that client")
}

/// Writes `client`'s bundle to `out` (a new file, mode 0600: it holds personal data).
pub fn export(
    store: &dyn Store,
    client: &Personnummer,
    checkpoint: &Witnessed,
    since: Option<&Witnessed>,
    map_key: Option<&MapKey>,
    out: &Path,
) -> Result<Exported> {
    let (bundle, exported) = bundle(store, client, checkpoint, since, map_key)?;
    let text = serde_json::to_string_pretty(&bundle).expect("a bundle serialises");
    write_new(out, &format!("{text}\n"), true)?;
    Ok(exported)
}

/// The proof, from the ledger's stored tree, that the log `checkpoint` signs extends the
/// earlier checkpoint `old` (one the inspector holds), checked here before it is given.
pub fn consistency_from(
    store: &dyn Store,
    old: &Witnessed,
    checkpoint: &Witnessed,
) -> Result<BundleConsistency> {
    let (old_cp, new_cp) = (&old.checkpoint, &checkpoint.checkpoint);
    let refuse = |why: String| {
        Error::new(
            Kind::Verification,
            format!(
                "the checkpoint of {} records does not extend the one of {} records you gave: {why}",
                new_cp.size, old_cp.size
            ),
        )
    };
    if old_cp.size > new_cp.size {
        return Err(refuse("it is the later one".into()));
    }
    let proof = planledger_ledger::consistency_proof(&StoreNodes(store), old_cp.size, new_cp.size)
        .map_err(|e| refuse(format!("the ledger's tree cannot give the proof ({e})")))?;
    proof
        .verify(&old_cp.root, &new_cp.root)
        .map_err(|e| refuse(e.to_string()))?;
    Ok(BundleConsistency {
        from: old.note.clone(),
        proof: proof.path.iter().map(|h| h.to_hex()).collect(),
    })
}

/// A consistency proof between the ledger's trees of `from` and `to` records, with the
/// two roots, as `planledger proof` prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Consistency {
    pub old_size: u64,
    pub new_size: u64,
    pub old_root: String,
    pub new_root: String,
    /// RFC 9162 §2.1.4, lowercase hex.
    pub proof: Vec<String>,
}

/// The consistency proof between the trees of `from` and `to` records of `store`.
pub fn consistency(store: &dyn Store, from: u64, to: u64) -> Result<Consistency> {
    let size = store.head()?.size;
    if from > to || to > size {
        return Err(Error::new(
            Kind::BadInput,
            format!("give sizes with --from <= --to <= {size} (the ledger's size)"),
        ));
    }
    let nodes = StoreNodes(store);
    let unreadable = |e: planledger_ledger::ProofError<planledger_store::StoreError>| {
        Error::new(
            Kind::Verification,
            format!("the ledger's tree cannot give the proof ({e})"),
        )
    };
    let proof = planledger_ledger::consistency_proof(&nodes, from, to).map_err(unreadable)?;
    let old_root = planledger_ledger::tree_root(&nodes, from).map_err(unreadable)?;
    let new_root = planledger_ledger::tree_root(&nodes, to).map_err(unreadable)?;
    Ok(Consistency {
        old_size: from,
        new_size: to,
        old_root: old_root.to_hex(),
        new_root: new_root.to_hex(),
        proof: proof.path.iter().map(|h| h.to_hex()).collect(),
    })
}
