//! Signed checkpoints (FORMAT.md §6) and the witness directory that keeps them: one new
//! file per checkpoint, `<size, 20 digits>-<µs>.checkpoint`, none ever overwritten.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use planledger_ledger::{Checkpoint, CheckpointSigner, CheckpointVerifier};
use planledger_store::Store;

use crate::error::{Error, Kind, Result};
use crate::files::{read_limited, write_new};
use crate::limits::Limits;
use crate::map::{LedgerMap, MapKey};

/// A checkpoint, its signature checked, with the note it was signed as.
#[derive(Debug, Clone)]
pub struct Witnessed {
    pub note: String,
    pub checkpoint: Checkpoint,
    /// The map this process built to sign the checkpoint ([`sign_head`]), which a
    /// prover reuses instead of reading the ledger again; `None` for a checkpoint read
    /// from a file.
    pub map: Option<Arc<LedgerMap>>,
}

/// Every checkpoint file in `dir`, each verified with `key`, ordered by tree size. A
/// witness holds nothing else, so anything odd in it is a verification failure naming
/// the file: a `.checkpoint` that does not verify, is not UTF-8 text, is longer than
/// `limits.file_bytes` (never read further), or is not a regular file (a directory, a
/// symlink to a device); and so is a witness path that is not a directory.
pub fn checkpoints(
    dir: &Path,
    key: &CheckpointVerifier,
    limits: &Limits,
) -> Result<Vec<Witnessed>> {
    Ok(checkpoint_files(dir, key, limits)?
        .into_iter()
        .map(|(_, w)| w)
        .collect())
}

/// [`checkpoints`], each with its file.
pub(crate) fn checkpoint_files(
    dir: &Path,
    key: &CheckpointVerifier,
    limits: &Limits,
) -> Result<Vec<(PathBuf, Witnessed)>> {
    let unreadable = |e| {
        Error::io(
            format!("cannot read the witness directory {}", dir.display()),
            e,
        )
    };
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => {
            return Err(Error::new(
                Kind::Verification,
                format!(
                    "the witness {} is not a directory; give the directory `planledger checkpoint` writes to",
                    dir.display()
                ),
            ));
        }
        Err(e) => return Err(unreadable(e)),
        Ok(_) => {}
    }
    let odd = |path: &Path, why: &str| {
        Error::new(
            Kind::Verification,
            format!(
                "the witness file {} {why}; a witness directory holds only checkpoints from `planledger checkpoint`",
                path.display()
            ),
        )
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_none_or(|e| e != "checkpoint") {
            continue;
        }
        // Follows a symlink: what counts is what would be read.
        let meta = std::fs::metadata(&path)
            .map_err(|e| Error::io(format!("cannot read the checkpoint {}", path.display()), e))?;
        if meta.is_dir() {
            return Err(odd(&path, "is a directory"));
        }
        if !meta.is_file() {
            return Err(odd(&path, "is not a regular file"));
        }
        let bytes = read_limited(
            &path,
            "the checkpoint",
            limits.file_bytes,
            "--max-file-bytes",
            Kind::Verification,
        )?;
        let note = String::from_utf8(bytes).map_err(|_| odd(&path, "is not text (not UTF-8)"))?;
        let checkpoint = Checkpoint::verify(&note, std::slice::from_ref(key)).map_err(|e| {
            Error::new(
                Kind::Verification,
                format!("the checkpoint {} does not verify: {e}", path.display()),
            )
        })?;
        out.push((
            path,
            Witnessed {
                note,
                checkpoint,
                map: None,
            },
        ));
    }
    out.sort_by_key(|(_, w)| (w.checkpoint.size, w.checkpoint.time_micros));
    Ok(out)
}

/// One checkpoint file (one an inspector holds from an earlier export), verified with
/// `key`.
pub fn read_one(path: &Path, key: &CheckpointVerifier, limits: &Limits) -> Result<Witnessed> {
    let bytes = read_limited(
        path,
        "the checkpoint",
        limits.file_bytes,
        "--max-file-bytes",
        Kind::BadInput,
    )?;
    let bad = |why: String| {
        Error::new(
            Kind::Verification,
            format!("the checkpoint {} {why}", path.display()),
        )
    };
    let note = String::from_utf8(bytes).map_err(|_| bad("is not text (not UTF-8)".into()))?;
    let checkpoint = Checkpoint::verify(&note, std::slice::from_ref(key))
        .map_err(|e| bad(format!("does not verify: {e}")))?;
    Ok(Witnessed {
        note,
        checkpoint,
        map: None,
    })
}

/// The latest checkpoint in `dir`, once the ledger in `store` is shown to extend every
/// checkpoint there ([`check_extends`]): a witness that contradicts itself or the
/// ledger proves nothing.
pub fn latest(
    store: &dyn Store,
    dir: &Path,
    key: &CheckpointVerifier,
    limits: &Limits,
) -> Result<Witnessed> {
    let mut all = checkpoints(dir, key, limits)?;
    check_extends(store, &all)?;
    all.pop().ok_or_else(|| {
        Error::new(
            Kind::NotFound,
            format!(
                "{} holds no checkpoint; make one with `planledger checkpoint` or give --key",
                dir.display()
            ),
        )
    })
}

/// The checkpoint a bundle is proven against, with its verifier: with the secret key in
/// `key`, a new checkpoint of the head signed now into `dir` (after the checks of
/// [`checkpoint`]); with only the verifier key in `pubkey`, the latest checkpoint in `dir`,
/// checked ([`latest`]).
pub fn proving(
    store: &dyn Store,
    dir: &Path,
    key: Option<&Path>,
    pubkey: Option<&Path>,
    limits: &Limits,
    map_key: Option<&MapKey>,
) -> Result<(Witnessed, CheckpointVerifier)> {
    match (key, pubkey) {
        (Some(key), _) => {
            let signer = crate::keys::load_signer(key, limits)?;
            let (signed, _) = checkpoint(store, &signer, dir, None, Utc::now(), limits, map_key)?;
            Ok((signed, signer.verifier()))
        }
        (None, Some(pubkey)) => {
            let verifier = crate::keys::load_verifier(pubkey, limits)?;
            Ok((latest(store, dir, &verifier, limits)?, verifier))
        }
        (None, None) => Err(Error::new(
            Kind::BadInput,
            "give --key (sign a new checkpoint) or --pubkey (prove against the latest one)",
        )),
    }
}

/// Signs the store's current head at `now`, with `origin` or the key's name; with
/// `map_key`, the checkpoint also commits the map of the ledger at that head
/// (FORMAT.md §12), built from the records after the map of the latest of `earlier`
/// (checkpoints verified by the caller) when the leaves kept in the store have its root,
/// else from every record.
pub fn sign_head(
    store: &dyn Store,
    signer: &CheckpointSigner,
    origin: Option<&str>,
    now: DateTime<Utc>,
    map_key: Option<&MapKey>,
    earlier: &[Witnessed],
) -> Result<Witnessed> {
    if let Some(origin) = origin {
        check_name(origin, "--origin")?;
    }
    let head = store.head()?;
    let map = match map_key {
        Some(key) => {
            let signed: Vec<_> = (earlier.iter())
                .filter_map(|w| Some((w.checkpoint.size, w.checkpoint.map_root?)))
                .collect();
            Some(Arc::new(crate::map::build(store, head.size, key, &signed)?))
        }
        None => None,
    };
    let checkpoint = Checkpoint {
        origin: origin.unwrap_or(signer.name()).to_owned(),
        size: head.size,
        root: head.root,
        time_micros: now.timestamp_micros(),
        map_root: map.as_ref().map(|m| m.root()),
    };
    let note = signer.sign(&checkpoint).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!(
                "cannot sign the checkpoint: {}",
                planledger_plan::json::redact(&e.to_string())
            ),
        )
    })?;
    Ok(Witnessed {
        note,
        checkpoint,
        map,
    })
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
    // The same checkpoint signed twice (same size, root and microsecond: ed25519
    // signatures are deterministic) is the same file: it is there already, perhaps with
    // witnesses' cosignatures after the note (`planledger witness attach`).
    // Read no more of what stands there than this note's length.
    let existing = std::fs::File::open(&file).and_then(|f| {
        use std::io::Read;
        let mut bytes = Vec::new();
        f.take(w.note.len() as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    });
    if existing.is_ok_and(|existing| existing == w.note.as_bytes()) {
        return Ok(file);
    }
    write_new(&file, &w.note, false)?;
    Ok(file)
}

/// A key name or checkpoint origin is written into every checkpoint and shown to
/// whoever verifies one: it must not carry a personnummer (in any separator form).
pub(crate) fn check_name(name: &str, flag: &str) -> Result<()> {
    if planledger_plan::looks_like_personnummer(name) {
        return Err(Error::new(
            Kind::BadInput,
            format!(
                "{flag} contains a run of 10 or more digits, which could be a personnummer; a key name or origin must not carry personal data (use e.g. exempel.se/planledger)"
            ),
        ));
    }
    Ok(())
}

/// Checks that the ledger in `store` extends every checkpoint of `witnessed` (oldest
/// first, as [`checkpoints`] gives them): its tree at each checkpoint's size has the
/// signed root, and the records after the latest verify from that checkpoint's signed
/// frontier on. A checkpoint it does not extend means two histories were signed, or
/// the ledger was rewritten: a verification failure naming the checkpoint, so that no
/// second history is ever signed or proven against.
pub fn check_extends(store: &dyn Store, witnessed: &[Witnessed]) -> Result<()> {
    let Some(latest) = witnessed.last() else {
        return Ok(());
    };
    let size = store.head()?.size;
    let contradicts = |cp: &Checkpoint, why: &str| {
        Error::new(
            Kind::Verification,
            format!(
                "the ledger does not extend the checkpoint of {} records signed at {} µs: {why}; \
                 refusing to sign or prove a second history — verify the ledger against the witness",
                cp.size, cp.time_micros
            ),
        )
    };
    for w in witnessed {
        let cp = &w.checkpoint;
        if cp.size > size {
            return Err(contradicts(
                cp,
                &format!("the ledger has only {size} records"),
            ));
        }
        let root = planledger_ledger::tree_root(&planledger_store::StoreNodes(store), cp.size)
            .map_err(|e| contradicts(cp, &format!("its tree cannot be read ({e})")))?;
        if root != cp.root {
            return Err(contradicts(
                cp,
                "the ledger's tree at that size has another root",
            ));
        }
    }
    let report =
        planledger_store::verify_store_since(store, latest.checkpoint.tree_head(), &mut |_, _| {})?;
    match report.violation {
        None => Ok(()),
        Some(v) => Err(contradicts(
            &latest.checkpoint,
            &format!("at position {}: {}", v.position, v.kind),
        )),
    }
}

/// Signs the store's head once it is shown to extend every checkpoint `signer` signed
/// into `dir` before ([`check_extends`]), and writes it there; returns it and its file.
/// With `map_key` the checkpoint commits the ledger's map too ([`sign_head`]).
pub fn checkpoint(
    store: &dyn Store,
    signer: &CheckpointSigner,
    dir: &Path,
    origin: Option<&str>,
    now: DateTime<Utc>,
    limits: &Limits,
    map_key: Option<&MapKey>,
) -> Result<(Witnessed, PathBuf)> {
    let earlier = match dir.exists() {
        true => checkpoints(dir, &signer.verifier(), limits)?,
        false => Vec::new(),
    };
    let checked = store.head()?;
    check_extends(store, &earlier)?;
    let signed = sign_head(store, signer, origin, now, map_key, &earlier)?;
    if signed.checkpoint.size != checked.size {
        // Records appended while the earlier checkpoints were checked were not part of
        // the check: sign only what was checked.
        return Err(Error::new(
            Kind::Conflict,
            "the ledger grew while it was checked against the witness; run it again",
        ));
    }
    let file = write(dir, &signed)?;
    Ok((signed, file))
}
