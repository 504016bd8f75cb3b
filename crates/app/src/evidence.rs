//! Evidence bundles (FORMAT.md §11): one client's records as stored, an inclusion proof
//! per record, and the signed checkpoint they lead to; `verify-bundle` checks one
//! offline with nothing but the verifier key.

use std::path::Path;

use planledger_ledger::inclusion_proof;
use planledger_plan::Personnummer;
use planledger_store::{Store, StoreNodes};
use verify_bundle::{BUNDLE_FORMAT, Bundle, BundleRecord};

use crate::error::{Error, Kind, Result};
use crate::files::write_new;
use crate::witness::Witnessed;
use planledger_projection::Plans;

/// What [`export`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub records: usize,
    pub plans: usize,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The client's records after the checkpoint, left out.
    pub later: usize,
}

/// The bundle of `client`'s records proven against `checkpoint`.
pub fn bundle(
    store: &dyn Store,
    client: &Personnummer,
    checkpoint: &Witnessed,
) -> Result<(Bundle, Exported)> {
    let plans: Vec<_> = (crate::read::plans(store)?.plans_of_client(client)?.iter())
        .map(|v| v.id().clone())
        .collect();
    if plans.is_empty() {
        return Err(Error::new(
            Kind::NotFound,
            "no plan in the ledger has that client",
        ));
    }
    let size = checkpoint.checkpoint.size;
    let nodes = StoreNodes(store);
    let (mut records, mut later) = (Vec::new(), 0);
    for plan in &plans {
        let mut from = 1;
        loop {
            let chunk = store.read_stream(plan.as_str(), from, 1024)?;
            if chunk.is_empty() {
                break;
            }
            from += chunk.len() as u64;
            for record in chunk {
                if record.position() >= size {
                    later += 1;
                    continue;
                }
                let proof = inclusion_proof(&nodes, record.position(), size).map_err(|e| {
                    Error::new(
                        Kind::Storage,
                        format!("cannot prove a record's inclusion: {e}"),
                    )
                })?;
                records.push(BundleRecord::new(&record, &proof));
            }
        }
    }
    if records.is_empty() {
        return Err(Error::new(
            Kind::NotFound,
            "the client's records all come after the checkpoint; make a new checkpoint first",
        ));
    }
    let exported = Exported {
        records: records.len(),
        plans: plans.len(),
        size,
        later,
    };
    let bundle = Bundle {
        format: BUNDLE_FORMAT.to_owned(),
        checkpoint: checkpoint.note.clone(),
        records,
    };
    Ok((bundle, exported))
}

/// Writes `client`'s bundle to `out` (a new file, mode 0600: it holds personal data).
pub fn export(
    store: &dyn Store,
    client: &Personnummer,
    checkpoint: &Witnessed,
    out: &Path,
) -> Result<Exported> {
    let (bundle, exported) = bundle(store, client, checkpoint)?;
    let text = serde_json::to_string_pretty(&bundle).expect("a bundle serialises");
    write_new(out, &format!("{text}\n"), true)?;
    Ok(exported)
}
