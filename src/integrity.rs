//! Integrity commands: `keygen`, `head`, `verify`, `checkpoint`, `export`.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use planledger_ledger::{
    Checkpoint, CheckpointSigner, CheckpointVerifier, Frontier, NodeId, TreeHead, Verifier,
    Violation, inclusion_proof, leaf_hash,
};
use planledger_plan::{Event, Personnummer};
use planledger_store::{
    Store, StoreError, StoreNodes, VerifyReport, verify_store, verify_store_from,
};
use serde_json::json;
use verify_bundle::{BUNDLE_FORMAT, Bundle, BundleRecord};

use crate::exit::{Exit, failure};
use crate::record::{decode, read_stream};

/// Writes a new file that must not exist yet, readable by its owner only when `private`.
fn write_new(path: &Path, text: &str, private: bool) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    if private {
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            failure(
                Exit::BadInput,
                format!("{} already exists; it is never overwritten", path.display()),
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
        }
    })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `keygen`: a new ed25519 key from the OS random number generator.
pub fn keygen(name: &str, out: &Path) -> anyhow::Result<()> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| {
        failure(
            Exit::Storage,
            format!("the OS random number generator failed: {e}"),
        )
    })?;
    let signer = CheckpointSigner::from_seed(name, seed)
        .map_err(|e| failure(Exit::BadInput, format!("--name: {e}")))?;
    write_new(out, &format!("{}\n", signer.to_key_text()), true)?;
    eprintln!(
        "wrote the secret key to {} (mode 0600); keep it away from the ledger's machine. \
         The verifier key, to publish and give to inspectors:",
        out.display()
    );
    println!("{}", signer.verifier().to_text());
    Ok(())
}

pub fn load_signer(path: &Path) -> anyhow::Result<CheckpointSigner> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    CheckpointSigner::from_key_text(&text).map_err(|e| {
        failure(
            Exit::BadInput,
            format!(
                "{} is not a secret key from `planledger keygen`: {e}",
                path.display()
            ),
        )
    })
}

pub fn load_verifier(path: &Path) -> anyhow::Result<CheckpointVerifier> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the verifier key {}", path.display()))?;
    CheckpointVerifier::from_text(&text).map_err(|e| {
        failure(
            Exit::BadInput,
            format!(
                "{} is not a verifier key from `planledger keygen`: {e}",
                path.display()
            ),
        )
    })
}

/// A checkpoint found in a witness directory, its signature checked.
pub struct Witnessed {
    pub note: String,
    pub checkpoint: Checkpoint,
}

/// Every checkpoint file in `dir`, each verified with `key`, ordered by tree size. A
/// file that does not verify is a verification failure: a witness holds nothing else.
pub fn witness_checkpoints(dir: &Path, key: &CheckpointVerifier) -> anyhow::Result<Vec<Witnessed>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the witness directory {}", dir.display()))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read the witness directory {}", dir.display()))?
            .path();
        if path.extension().is_none_or(|e| e != "checkpoint") {
            continue;
        }
        let note = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let checkpoint = Checkpoint::verify(&note, std::slice::from_ref(key)).map_err(|e| {
            failure(
                Exit::Verification,
                format!("the checkpoint {} does not verify: {e}", path.display()),
            )
        })?;
        out.push(Witnessed { note, checkpoint });
    }
    out.sort_by(|a, b| {
        (a.checkpoint.size, a.checkpoint.time_micros)
            .cmp(&(b.checkpoint.size, b.checkpoint.time_micros))
    });
    Ok(out)
}

/// `head`.
pub fn head(store: &dyn Store, as_json: bool) -> anyhow::Result<()> {
    let h = store.head()?;
    if as_json {
        println!(
            "{}",
            json!({"size": h.size, "last_hash": h.last_hash.to_hex(), "root": h.root.to_hex()})
        );
    } else {
        println!(
            "size {}\nlast hash {}\nroot {}",
            h.size, h.last_hash, h.root
        );
    }
    Ok(())
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "verifying {wide_bar} {pos}/{len} records ({per_sec}, {eta})",
        )
        .expect("a valid template"),
    );
    bar
}

/// What `verify` found, for printing.
struct Outcome {
    from: u64,
    report: Option<VerifyReport>,
    violation: Option<Violation>,
    checkpoints: usize,
}

/// `verify`: exit 0 if intact, 1 with the first bad position otherwise.
pub fn verify(
    store: anyhow::Result<Box<dyn Store>>,
    witness: Option<(&Path, &CheckpointVerifier)>,
    since_checkpoint: bool,
    as_json: bool,
) -> anyhow::Result<()> {
    let checkpoints = match witness {
        Some((dir, key)) => witness_checkpoints(dir, key)?,
        None => Vec::new(),
    };
    let outcome = match store {
        Err(e) => match e.downcast_ref::<StoreError>() {
            // The store refused to open because its head disagrees with its records:
            // that is a finding, not a failure to run.
            Some(StoreError::Corrupt { position, reason }) => Outcome {
                from: 0,
                report: None,
                violation: Some(Violation {
                    position: *position,
                    kind: planledger_ledger::ViolationKind::Unreadable {
                        reason: reason.clone(),
                    },
                }),
                checkpoints: 0,
            },
            _ => return Err(e),
        },
        Ok(store) => {
            let heads: Vec<TreeHead> = checkpoints
                .iter()
                .map(|w| w.checkpoint.tree_head())
                .collect();
            if since_checkpoint {
                let latest = heads.last().copied().ok_or_else(|| {
                    failure(
                        Exit::NotFound,
                        "the witness directory holds no checkpoint; make one with `planledger checkpoint`",
                    )
                })?;
                verify_since(store.as_ref(), latest, heads.len())?
            } else {
                let bar = progress_bar(0);
                let report = verify_store(store.as_ref(), &heads, &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })?;
                bar.finish_and_clear();
                Outcome {
                    from: 0,
                    violation: report.violation.clone(),
                    report: Some(report),
                    checkpoints: heads.len(),
                }
            }
        }
    };
    let ok = outcome.violation.is_none();
    if as_json {
        let r = outcome.report.as_ref();
        println!(
            "{}",
            json!({
                "ok": ok,
                "from": outcome.from,
                "records": r.map(|r| r.records),
                "bytes": r.map(|r| r.bytes),
                "last_hash": r.map(|r| r.last_hash.to_hex()),
                "root": r.map(|r| r.root.to_hex()),
                "checkpoints": outcome.checkpoints,
                "violation": outcome.violation.as_ref().map(|v| json!({
                    "position": v.position, "what": v.kind.to_string()})),
            })
        );
    } else if let Some(r) = &outcome.report {
        if ok {
            println!(
                "OK: {} (from position {}; {} checkpoints matched)",
                r.message(),
                outcome.from,
                outcome.checkpoints
            );
        }
    }
    match outcome.violation {
        None => Ok(()),
        Some(v) => Err(failure(
            Exit::Verification,
            format!(
                "verification FAILED at position {}: {}; the ledger was altered or damaged from there \
                 on — keep the files as they are and restore from a copy that verifies",
                v.position, v.kind
            ),
        )),
    }
}

/// Verifies the records after the checkpoint `cp` only: the stored Merkle nodes of the
/// checkpoint's tree are checked against its signed root first, so the frontier the
/// check resumes from is the signed one.
fn verify_since(store: &dyn Store, cp: TreeHead, checkpoints: usize) -> anyhow::Result<Outcome> {
    let head = store.head()?;
    if cp.size > head.size {
        // Truncated: the signed tree is longer than the ledger.
        return Ok(Outcome {
            from: cp.size,
            report: None,
            violation: Some(Violation {
                position: head.size,
                kind: planledger_ledger::ViolationKind::MissingRecords {
                    size: cp.size,
                    by: planledger_ledger::RootSource::Checkpoint,
                },
            }),
            checkpoints,
        });
    }
    let mut peaks = Vec::new();
    let mut start = 0u64;
    for level in (0..64u8).rev() {
        if cp.size & (1 << level) != 0 {
            peaks.push(store.node(NodeId {
                level,
                index: start >> level,
            })?);
            start += 1 << level;
        }
    }
    let frontier = Frontier::from_peaks(cp.size, peaks).expect("one peak per set bit");
    let fail_at = |kind| Outcome {
        from: cp.size,
        report: None,
        violation: Some(Violation {
            position: cp.size.saturating_sub(1),
            kind,
        }),
        checkpoints,
    };
    if frontier.root() != cp.root {
        return Ok(fail_at(planledger_ledger::ViolationKind::RootMismatch {
            size: cp.size,
            expected: cp.root,
            computed: frontier.root(),
            by: planledger_ledger::RootSource::Checkpoint,
        }));
    }
    let prev = if cp.size == 0 {
        planledger_ledger::Hash::ZERO
    } else {
        // The last record of the checkpoint's tree: its leaf must be in the signed tree.
        let last = store
            .read_all(cp.size - 1, 1)?
            .pop()
            .ok_or_else(|| failure(Exit::Verification, "the records end before the checkpoint"))?;
        let proof = inclusion_proof(&StoreNodes(store), cp.size - 1, cp.size)?;
        if proof.verify(&last.hash(), &cp.root).is_err() {
            return Ok(fail_at(planledger_ledger::ViolationKind::Unreadable {
                reason: format!(
                    "the record's hash (leaf {}) is not in the checkpoint's tree",
                    leaf_hash(&last.hash())
                ),
            }));
        }
        last.hash()
    };
    let bar = progress_bar(head.size.saturating_sub(cp.size));
    let report = verify_store_from(
        store,
        Verifier::with_frontier(frontier, prev),
        &mut |done, _| bar.set_position(done.saturating_sub(cp.size)),
    )?;
    bar.finish_and_clear();
    Ok(Outcome {
        from: cp.size,
        violation: report.violation.clone(),
        report: Some(report),
        checkpoints,
    })
}

/// Signs the store's current head.
fn sign_head(
    store: &dyn Store,
    signer: &CheckpointSigner,
    origin: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<(Checkpoint, String)> {
    let head = store.head()?;
    let checkpoint = Checkpoint {
        origin: origin.unwrap_or(signer.name()).to_owned(),
        size: head.size,
        root: head.root,
        time_micros: now.timestamp_micros(),
    };
    let note = signer
        .sign(&checkpoint)
        .map_err(|e| failure(Exit::BadInput, format!("cannot sign the checkpoint: {e}")))?;
    Ok((checkpoint, note))
}

/// Writes a signed checkpoint into the witness directory; returns the file.
fn write_checkpoint(
    witness: &Path,
    checkpoint: &Checkpoint,
    note: &str,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(witness)
        .with_context(|| format!("cannot create the witness directory {}", witness.display()))?;
    let file = witness.join(format!(
        "{:020}-{}.checkpoint",
        checkpoint.size, checkpoint.time_micros
    ));
    write_new(&file, note, false)?;
    Ok(file)
}

/// `checkpoint`.
pub fn checkpoint(
    store: &dyn Store,
    key: &Path,
    witness: &Path,
    origin: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let signer = load_signer(key)?;
    let (checkpoint, note) = sign_head(store, &signer, origin, now)?;
    let file = write_checkpoint(witness, &checkpoint, &note)?;
    println!(
        "checkpoint of {} records, root {}, written to {}",
        checkpoint.size,
        checkpoint.root,
        file.display()
    );
    Ok(())
}

/// Where `export` takes its checkpoint from.
pub enum ExportCheckpoint<'a> {
    /// Sign the current head now (and keep it in the witness directory, if given).
    Sign {
        key: &'a Path,
        witness: Option<&'a Path>,
    },
    /// The latest checkpoint in the witness directory.
    Witness {
        dir: &'a Path,
        key: &'a CheckpointVerifier,
    },
}

/// The plan ids whose orders name `client`, by a scan of the whole ledger.
pub fn plans_of_client(store: &dyn Store, client: &Personnummer) -> anyhow::Result<Vec<String>> {
    let mut plans = Vec::new();
    let mut from = 0;
    loop {
        let chunk = store.read_all(from, 8192)?;
        let Some(last) = chunk.last() else { break };
        from = last.position() + 1;
        for record in chunk.iter().filter(|r| r.event_type() == "order_received") {
            let (event, ..) = decode(record).map_err(|e| failure(e.exit(), e.to_string()))?;
            if let Event::OrderReceived(o) = event {
                if o.client == *client && !plans.contains(&record.stream_id().to_owned()) {
                    plans.push(record.stream_id().to_owned());
                }
            }
        }
    }
    Ok(plans)
}

/// `export`: the client's records, an inclusion proof per record, one checkpoint.
pub fn export(
    store: &dyn Store,
    client: &str,
    out: &Path,
    source: ExportCheckpoint,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let client = Personnummer::parse(client).map_err(|e| {
        failure(
            Exit::BadInput,
            format!("--client is not a personnummer: {e}"),
        )
    })?;
    let plans = plans_of_client(store, &client)?;
    if plans.is_empty() {
        return Err(failure(
            Exit::NotFound,
            format!("no plan in the ledger has client {client}"),
        ));
    }
    let (checkpoint, note) = match source {
        ExportCheckpoint::Sign { key, witness } => {
            let signer = load_signer(key)?;
            let (cp, note) = sign_head(store, &signer, None, now)?;
            if let Some(w) = witness {
                write_checkpoint(w, &cp, &note)?;
            }
            (cp, note)
        }
        ExportCheckpoint::Witness { dir, key } => {
            let w = witness_checkpoints(dir, key)?.pop().ok_or_else(|| {
                failure(
                    Exit::NotFound,
                    format!(
                        "{} holds no checkpoint; make one with `planledger checkpoint` or give --key",
                        dir.display()
                    ),
                )
            })?;
            (w.checkpoint, w.note)
        }
    };
    let nodes = StoreNodes(store);
    let mut records = Vec::new();
    let mut later = 0usize;
    for plan in &plans {
        for record in read_stream(store, plan)? {
            if record.position() >= checkpoint.size {
                later += 1;
                continue;
            }
            let proof = inclusion_proof(&nodes, record.position(), checkpoint.size)?;
            records.push(BundleRecord::new(&record, &proof));
        }
    }
    if records.is_empty() {
        return Err(failure(
            Exit::NotFound,
            "the client's records all come after the checkpoint; make a new checkpoint first",
        ));
    }
    let bundle = Bundle {
        format: BUNDLE_FORMAT.to_owned(),
        checkpoint: note,
        records,
    };
    let text = serde_json::to_string_pretty(&bundle).expect("a bundle serialises");
    write_new(out, &format!("{text}\n"), true)?;
    println!(
        "wrote {} records of {} plans, proven against the checkpoint of size {}, to {}",
        bundle.records.len(),
        plans.len(),
        checkpoint.size,
        out.display()
    );
    if later > 0 {
        eprintln!(
            "note: {later} later records are not in the bundle; they come after the checkpoint"
        );
    }
    Ok(())
}
