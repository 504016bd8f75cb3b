//! `verify`: the whole ledger (every record's hash and link, the Merkle tree, the head),
//! against every checkpoint a witness holds, or only what came after the latest one.

use planledger_ledger::{Frontier, Hash, NodeId, Verifier, inclusion_proof};
use planledger_ledger::{RootSource, TreeHead, Violation, ViolationKind};
use planledger_store::{
    Store, StoreError, StoreNodes, VerifyReport, verify_store, verify_store_from,
};

use crate::error::Result;

/// What a verification found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The first position checked.
    pub from: u64,
    /// `None` when the store could not even be opened.
    pub report: Option<VerifyReport>,
    pub violation: Option<Violation>,
    /// Checkpoints matched against.
    pub checkpoints: usize,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.violation.is_none()
    }
}

/// Verifies `store` (the result of opening it: a store that refused to open because its
/// head disagrees with its records is a finding, not a failure to run) against the
/// signed tree heads `checkpoints` (oldest first). With `since_latest`, only the
/// records after the latest checkpoint are checked, from its signed frontier.
pub fn verify(
    store: Result<Box<dyn Store>>,
    checkpoints: &[TreeHead],
    since_latest: bool,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Outcome> {
    let store = match store {
        Err(crate::Error::Store(StoreError::Corrupt { position, reason })) => {
            return Ok(Outcome {
                from: 0,
                report: None,
                violation: Some(Violation {
                    position,
                    kind: ViolationKind::Unreadable { reason },
                }),
                checkpoints: 0,
            });
        }
        other => other?,
    };
    let (from, report) = match (since_latest, checkpoints.last()) {
        (true, Some(latest)) => (
            latest.size,
            verify_store_since(store.as_ref(), *latest, progress)?,
        ),
        (true, None) => {
            return Err(crate::Error::new(
                crate::Kind::NotFound,
                "the witness directory holds no checkpoint; make one with `planledger checkpoint`",
            ));
        }
        (false, _) => (0, verify_store(store.as_ref(), checkpoints, progress)?),
    };
    Ok(Outcome {
        from,
        violation: report.violation.clone(),
        report: Some(report),
        checkpoints: checkpoints.len(),
    })
}

// TEMPORARY: moves to planledger_store (issue 10); replaced when it lands.
fn verify_store_since(
    store: &dyn Store,
    cp: TreeHead,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    let head = store.head()?;
    let failed = |position, kind| VerifyReport {
        records: 0,
        bytes: 0,
        last_hash: Hash::ZERO,
        root: Hash::ZERO,
        violation: Some(Violation { position, kind }),
    };
    if cp.size > head.size {
        return Ok(failed(
            head.size,
            ViolationKind::MissingRecords {
                size: cp.size,
                by: RootSource::Checkpoint,
            },
        ));
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
    if frontier.root() != cp.root {
        return Ok(failed(
            cp.size.saturating_sub(1),
            ViolationKind::RootMismatch {
                size: cp.size,
                expected: cp.root,
                computed: frontier.root(),
                by: RootSource::Checkpoint,
            },
        ));
    }
    let prev = if cp.size == 0 {
        Hash::ZERO
    } else {
        let last = store
            .read_all(cp.size - 1, 1)?
            .pop()
            .ok_or(StoreError::NotFound {
                what: "the checkpoint's last record".into(),
            })?;
        let proof = inclusion_proof(&StoreNodes(store), cp.size - 1, cp.size).map_err(|e| {
            StoreError::Corrupt {
                position: cp.size - 1,
                reason: e.to_string(),
            }
        })?;
        if proof.verify(&last.hash(), &cp.root).is_err() {
            return Ok(failed(
                cp.size - 1,
                ViolationKind::Unreadable {
                    reason: "the record's hash is not in the checkpoint's tree".into(),
                },
            ));
        }
        last.hash()
    };
    verify_store_from(store, Verifier::with_frontier(frontier, prev), progress)
}
