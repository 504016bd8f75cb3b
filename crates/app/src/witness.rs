//! Signed checkpoints (FORMAT.md §6) and the witness directory that keeps them: one new
//! file per checkpoint, `<size, 20 digits>-<µs>.checkpoint`, none ever overwritten.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use planledger_ledger::{Checkpoint, CheckpointSigner, CheckpointVerifier};
use planledger_store::Store;

use crate::error::{Error, Kind, Result};
use crate::files::{read_text, write_new};

/// A checkpoint, its signature checked, with the note it was signed as.
#[derive(Debug, Clone)]
pub struct Witnessed {
    pub note: String,
    pub checkpoint: Checkpoint,
}

/// Every checkpoint file in `dir`, each verified with `key`, ordered by tree size. A
/// file that does not verify is a verification failure: a witness holds nothing else.
pub fn checkpoints(dir: &Path, key: &CheckpointVerifier) -> Result<Vec<Witnessed>> {
    let unreadable = |e| {
        Error::io(
            format!("cannot read the witness directory {}", dir.display()),
            e,
        )
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_none_or(|e| e != "checkpoint") {
            continue;
        }
        let note = read_text(&path, "the checkpoint")?;
        let checkpoint = Checkpoint::verify(&note, std::slice::from_ref(key)).map_err(|e| {
            Error::new(
                Kind::Verification,
                format!("the checkpoint {} does not verify: {e}", path.display()),
            )
        })?;
        out.push(Witnessed { note, checkpoint });
    }
    out.sort_by_key(|w| (w.checkpoint.size, w.checkpoint.time_micros));
    Ok(out)
}

/// The latest checkpoint in `dir`.
pub fn latest(dir: &Path, key: &CheckpointVerifier) -> Result<Witnessed> {
    checkpoints(dir, key)?.pop().ok_or_else(|| {
        Error::new(
            Kind::NotFound,
            format!(
                "{} holds no checkpoint; make one with `planledger checkpoint`",
                dir.display()
            ),
        )
    })
}

/// Signs the store's current head at `now`, with `origin` or the key's name.
pub fn sign_head(
    store: &dyn Store,
    signer: &CheckpointSigner,
    origin: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Witnessed> {
    let head = store.head()?;
    let checkpoint = Checkpoint {
        origin: origin.unwrap_or(signer.name()).to_owned(),
        size: head.size,
        root: head.root,
        time_micros: now.timestamp_micros(),
    };
    let note = signer
        .sign(&checkpoint)
        .map_err(|e| Error::new(Kind::BadInput, format!("cannot sign the checkpoint: {e}")))?;
    Ok(Witnessed { note, checkpoint })
}

/// Writes a signed checkpoint into the witness directory (created if missing); returns
/// the new file.
pub fn write(dir: &Path, w: &Witnessed) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io(
            format!("cannot create the witness directory {}", dir.display()),
            e,
        )
    })?;
    let file = dir.join(format!(
        "{:020}-{}.checkpoint",
        w.checkpoint.size, w.checkpoint.time_micros
    ));
    write_new(&file, &w.note, false)?;
    Ok(file)
}
