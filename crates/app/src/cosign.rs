//! Independent witnesses (FORMAT.md §13): what a witness runs ([`cosign`], with its own
//! key and state directory), what the log's operator runs ([`request`] to ask a witness,
//! [`attach`] to keep what it answered on the checkpoint), and the witness policy a
//! verifier applies ([`load_policy`], [`check_latest`]).
//!
//! A witness's state directory holds, for each log origin, the latest checkpoint it
//! cosigned (`<hash of the origin>.cosigned`: the note with its cosignature), and a
//! `lock` file: the check against the state and the write of the new state happen under
//! an exclusive lock, so that two requests at once can never roll the state back.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use planledger_ledger::{
    AddCheckpoint, Checkpoint, CheckpointVerifier, Cosignature, CosignatureError, NoteSignature,
    Refusal, SignedNote, WitnessPolicy, WitnessSigner, WitnessVerifier,
};
use planledger_store::{Store, StoreNodes};

use crate::error::{Error, Kind, Result};
use crate::files::{lock, read_limited, read_text_limited, replace};
use crate::limits::Limits;
use crate::witness::{Witnessed, checkpoint_files, latest};

/// The request for a cosignature of the latest checkpoint in the operator's witness
/// directory `dir` (signed by `key`), from the tree of `old` records: the size the
/// witness last cosigned (0 for a witness that never cosigned this log). The ledger must
/// extend every checkpoint there ([`latest`]); the proof is checked before it is given.
pub fn request(
    store: &dyn Store,
    dir: &Path,
    key: &CheckpointVerifier,
    old: u64,
    limits: &Limits,
) -> Result<(AddCheckpoint, Witnessed)> {
    let newest = latest(store, dir, key, limits)?;
    let cp = &newest.checkpoint;
    if old > cp.size {
        return Err(Error::new(
            Kind::BadInput,
            format!(
                "--old must not be larger than the latest checkpoint's size ({} records); it is the size the witness last cosigned",
                cp.size
            ),
        ));
    }
    let unreadable = |e: planledger_ledger::ProofError<planledger_store::StoreError>| {
        Error::new(
            Kind::Verification,
            format!("the ledger's tree cannot give the proof ({e})"),
        )
    };
    let nodes = StoreNodes(store);
    let proof = planledger_ledger::consistency_proof(&nodes, old, cp.size).map_err(unreadable)?;
    let old_root = planledger_ledger::tree_root(&nodes, old).map_err(unreadable)?;
    proof.verify(&old_root, &cp.root).map_err(|e| {
        Error::new(
            Kind::Verification,
            format!(
                "the ledger's consistency proof does not verify ({e}); run `planledger verify`"
            ),
        )
    })?;
    Ok((
        AddCheckpoint {
            old_size: old,
            proof: proof.path,
            note: newest.note.clone(),
        },
        newest,
    ))
}

/// What a witness did with a request.
#[derive(Debug, Clone)]
pub struct Cosigned {
    /// The cosignature line, with its final newline: the answer to the operator.
    pub line: String,
    pub checkpoint: Checkpoint,
    /// The size the witness had cosigned before (0 if none).
    pub previous: u64,
    /// The state file.
    pub state: PathBuf,
}

/// The witness's state file for a log origin: a hash of the origin (which may hold any
/// character but a newline), so that every origin has a plain file name.
fn state_file(state: &Path, origin: &str) -> PathBuf {
    let mut h = blake3::Hasher::new();
    h.update(b"planledger witness state\n");
    h.update(origin.as_bytes());
    let hex = planledger_ledger::Hash(*h.finalize().as_bytes()).to_hex();
    state.join(format!("{}.cosigned", &hex[..32]))
}

/// The checkpoint of `origin` this witness last cosigned, read from its state and
/// checked: the log's signature and the witness's own cosignature on it verify, and its
/// origin is `origin`. `None` if it never cosigned one.
fn read_state(
    file: &Path,
    origin: &str,
    log: &CheckpointVerifier,
    me: &WitnessVerifier,
    limits: &Limits,
) -> Result<Option<Checkpoint>> {
    if !file.exists() {
        return Ok(None);
    }
    let bad = |why: String| {
        Error::new(
            Kind::Verification,
            format!(
                "the witness state {} {why}; it is what this witness cosigned, and must be restored from a backup, never edited",
                file.display()
            ),
        )
    };
    let bytes = read_limited(
        file,
        "the witness state",
        limits.file_bytes,
        "--max-file-bytes",
        Kind::Verification,
    )?;
    let note = String::from_utf8(bytes).map_err(|_| bad("is not text (not UTF-8)".into()))?;
    let cp = Checkpoint::verify(&note, std::slice::from_ref(log))
        .map_err(|e| bad(format!("does not verify with the log's key ({e})")))?;
    if cp.origin != origin {
        return Err(bad("is of another log origin".into()));
    }
    match me.cosignature_on(&note) {
        Ok(Some(_)) => Ok(Some(cp)),
        Ok(None) => Err(bad("carries no cosignature by this witness's key".into())),
        Err(e) => Err(bad(format!("has a cosignature that does not verify ({e})"))),
    }
}

/// Runs the witness (FORMAT.md §13.4) on the file `request`, a request from the operator of
/// the log whose verifier key is `log`, with the state in `state` (created, mode 0700,
/// if missing): cosigns at `now` only if the checkpoint's log signature verifies, the
/// request starts from the size this witness last cosigned and its consistency proof
/// shows the log extends that checkpoint; then stores the checkpoint as the new state
/// (atomically and durably) before returning the cosignature. Otherwise the state is
/// left as it was and the error says why: a fork or a checkpoint not signed by the log
/// is a verification failure, a request from another size a conflict naming the size
/// this witness holds, a malformed request bad input.
pub fn cosign(
    signer: &WitnessSigner,
    state: &Path,
    log: &CheckpointVerifier,
    request: &Path,
    now: DateTime<Utc>,
    limits: &Limits,
) -> Result<Cosigned> {
    let text = read_text_limited(
        request,
        "the witness request",
        limits.file_bytes,
        "--max-file-bytes",
    )?;
    let request = AddCheckpoint::parse(&text)
        .map_err(|e| Error::new(Kind::BadInput, format!("{}: {e}", request.display())))?;
    let checkpoint = Checkpoint::verify(&request.note, std::slice::from_ref(log)).map_err(|e| {
        Error::new(
            Kind::Verification,
            format!("the request's checkpoint does not verify with the log's key: {e}"),
        )
    })?;
    let timestamp = u64::try_from(now.timestamp()).map_err(|_| {
        Error::new(
            Kind::BadInput,
            "--now: a cosignature's time is after 1970 (C2SP tlog-cosignature)",
        )
    })?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(state)
        .map_err(|e| {
            Error::io(
                format!(
                    "cannot create the witness state directory {}",
                    state.display()
                ),
                e,
            )
        })?;
    let _held = lock(&state.join("lock"))?;
    let file = state_file(state, &checkpoint.origin);
    let me = signer.verifier();
    let cosigned = read_state(&file, &checkpoint.origin, log, &me, limits)?;
    let previous = cosigned.as_ref().map_or(0, |c| c.size);
    planledger_ledger::check_request(
        cosigned.as_ref().map(Checkpoint::tree_head),
        &request,
        checkpoint.tree_head(),
    )
    .map_err(|r| {
        let kind = match r {
            Refusal::OldSizeTooLarge { .. } => Kind::BadInput,
            Refusal::OldSizeMismatch { .. } => Kind::Conflict,
            _ => Kind::Verification,
        };
        Error::new(kind, r.to_string())
    })?;
    let body = SignedNote::parse(&request.note)
        .map_err(|e| Error::new(Kind::BadInput, e.to_string()))?
        .body;
    let line = signer
        .cosign(body, timestamp)
        .map_err(|e| Error::new(Kind::BadInput, e.to_string()))?;
    // Never backwards: the rule above guarantees it; this keeps it true whatever changes.
    assert!(checkpoint.size >= previous, "a witness never moves back");
    if cosigned.is_none() || checkpoint.size > previous {
        replace(&file, &format!("{}{line}", request.note), false)?;
    }
    Ok(Cosigned {
        line,
        checkpoint,
        previous,
        state: file,
    })
}

/// What [`attach`] did with one cosignature line.
#[derive(Debug, Clone)]
pub struct Attached {
    pub witness: String,
    /// The checkpoint file it belongs to.
    pub file: PathBuf,
    pub size: u64,
    /// `false` when the checkpoint already carried a cosignature by that witness.
    pub added: bool,
}

/// Keeps witnesses' answers (the files `responses`, cosignature lines as `planledger
/// witness cosign` prints them) on the checkpoint in the operator's witness directory `dir` that each
/// line cosigns: checks every line by one of `witnesses` against the checkpoints in
/// `dir` (signed by `log`), newest first, and appends it to the one it verifies for, by
/// replacing that file atomically with the same note and one more signature line
/// (FORMAT.md §13.2): the only way a checkpoint file ever changes, and only ever by
/// gaining a cosignature. Lines by other keys are ignored (C2SP tlog-witness); a line by
/// one of `witnesses` that verifies for no checkpoint there is a verification failure,
/// and nothing is written.
pub fn attach(
    dir: &Path,
    log: &CheckpointVerifier,
    witnesses: &[WitnessVerifier],
    responses: &[PathBuf],
    limits: &Limits,
) -> Result<Vec<Attached>> {
    let texts = responses
        .iter()
        .map(|r| {
            read_text_limited(
                r,
                "the cosignature file",
                limits.file_bytes,
                "--max-file-bytes",
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let mut lines = Vec::new();
    for (response, text) in responses.iter().zip(&texts) {
        let before = lines.len();
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let sig = NoteSignature::parse(line, i + 1).map_err(|e| {
                Error::new(
                    Kind::BadInput,
                    format!(
                        "{} is not cosignature lines from `planledger witness cosign`: {e}",
                        response.display()
                    ),
                )
            })?;
            if let Some(w) = witnesses
                .iter()
                .find(|w| w.name() == sig.name && w.key_id() == sig.key_id)
            {
                lines.push((w, sig));
            }
        }
        if lines.len() == before {
            return Err(Error::new(
                Kind::Verification,
                format!(
                    "{} holds no cosignature by the witness keys given (--witness-key)",
                    response.display()
                ),
            ));
        }
    }
    let _held = lock(&dir.join(".attach.lock"))?;
    // Newest first: a witness answers for the checkpoint it was just asked about.
    let mut notes: Vec<(PathBuf, String, u64)> = checkpoint_files(dir, log, limits)?
        .into_iter()
        .rev()
        .map(|(file, w)| (file, w.note, w.checkpoint.size))
        .collect();
    let mut done = Vec::new();
    for (witness, sig) in &lines {
        let mut target = None;
        for (i, (_, note, _)) in notes.iter().enumerate() {
            let body = SignedNote::parse(note)
                .map_err(|e| Error::new(Kind::Verification, e.to_string()))?
                .body;
            match witness.check(body, sig) {
                Ok(Some(_)) => {
                    target = Some(i);
                    break;
                }
                Ok(None) | Err(CosignatureError::BadCosignature { .. }) => {}
                Err(e) => return Err(Error::new(Kind::Verification, e.to_string())),
            }
        }
        let Some(i) = target else {
            return Err(Error::new(
                Kind::Verification,
                format!(
                    "the cosignature by witness key {} verifies for no checkpoint in {}: it was altered, or cosigns another log's checkpoint",
                    witness.name(),
                    dir.display()
                ),
            ));
        };
        let (file, note, size) = &mut notes[i];
        let added = witness
            .cosignature_on(note)
            .map_err(|e| Error::new(Kind::Verification, e.to_string()))?
            .is_none();
        if added {
            note.push_str(sig.line);
            note.push('\n');
        }
        done.push(Attached {
            witness: witness.name().to_owned(),
            file: file.clone(),
            size: *size,
            added,
        });
    }
    // Write each changed checkpoint once, after checking it opens as before.
    for (file, note, _) in &notes {
        if !done.iter().any(|a| a.added && &a.file == file) {
            continue;
        }
        Checkpoint::verify(note, std::slice::from_ref(log))
            .map_err(|e| Error::new(Kind::Verification, e.to_string()))?;
        replace(file, note, false)?;
    }
    Ok(done)
}

/// A witness policy (FORMAT.md §13.5) from witness key files (`--witness-key`) and a
/// threshold (`--witness-threshold`; all of the keys when not given).
pub fn load_policy(
    files: &[PathBuf],
    threshold: Option<usize>,
    limits: &Limits,
) -> Result<WitnessPolicy> {
    let keys = files
        .iter()
        .map(|f| crate::keys::load_witness_verifier(f, limits))
        .collect::<Result<Vec<_>>>()?;
    let n = keys.len();
    WitnessPolicy::new(keys, threshold.unwrap_or(n)).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!("--witness-key / --witness-threshold: {e}"),
        )
    })
}

/// How the checkpoint a verifier relies on met a witness policy.
#[derive(Debug, Clone)]
pub struct PolicyCheck {
    /// The size of the checkpoint checked (the latest in the witness directory).
    pub size: Option<u64>,
    pub threshold: usize,
    pub keys: usize,
    /// One valid cosignature per policy key that cosigned it.
    pub cosigned_by: Vec<Cosignature>,
    /// Why it does not meet the policy.
    pub failure: Option<String>,
}

impl PolicyCheck {
    pub fn result(&self) -> Result<()> {
        match &self.failure {
            None => Ok(()),
            Some(why) => Err(Error::new(Kind::Verification, why.clone())),
        }
    }

    /// The `witnesses` member of `verify --json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "ok": self.failure.is_none(),
            "checkpoint_size": self.size,
            "threshold": self.threshold,
            "keys": self.keys,
            "found": self.cosigned_by.len(),
            "cosigned_by": self.cosigned_by.iter().map(|c| serde_json::json!({
                "witness": c.key_name, "time": c.timestamp})).collect::<Vec<_>>(),
        })
    }
}

/// Checks the latest of `witnessed` (the witness directory's checkpoints, oldest first,
/// their log signatures verified) against `policy`: the checkpoint everything is
/// verified up to must carry the cosignatures of at least K of the policy's witnesses.
pub fn check_latest(witnessed: &[Witnessed], policy: &WitnessPolicy) -> PolicyCheck {
    let mut check = PolicyCheck {
        size: None,
        threshold: policy.threshold(),
        keys: policy.keys().len(),
        cosigned_by: Vec::new(),
        failure: None,
    };
    let Some(latest) = witnessed.last() else {
        check.failure = Some(
            "the witness directory holds no checkpoint to check the witness policy against".into(),
        );
        return check;
    };
    check.size = Some(latest.checkpoint.size);
    match policy.check(&latest.note) {
        Ok(found) => check.cosigned_by = found,
        Err(e) => {
            if let CosignatureError::TooFew { .. } = e {
                // Count what is there for the report.
                check.cosigned_by = policy
                    .keys()
                    .iter()
                    .filter_map(|k| k.cosignature_on(&latest.note).ok().flatten())
                    .collect();
            }
            check.failure = Some(format!(
                "the latest checkpoint ({} records) does not meet the witness policy: {e}{}",
                latest.checkpoint.size,
                match e {
                    CosignatureError::TooFew { .. } =>
                        "; ask the witnesses to cosign it (`planledger witness request`) and keep their answers with `planledger witness attach`",
                    _ => "",
                }
            ));
        }
    }
    check
}
