//! `verify`: the whole ledger (every record's hash and link, the Merkle tree, the head),
//! against every checkpoint a witness holds, or only what came after the latest one.

use planledger_ledger::{TreeHead, Violation, ViolationKind};
use planledger_store::{Store, StoreError, VerifyReport, verify_store, verify_store_since};

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
    /// Where the plan index differs from what the records give (`None`: it agrees, or
    /// was not checked because the records failed first or only a tail was checked).
    pub index: Option<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.violation.is_none() && self.index.is_none()
    }

    /// The report for a nightly job: `ok`, `from`, `records`, `bytes`, `last_hash`,
    /// `root`, `checkpoints`, `violation: {position, what}`.
    pub fn to_json(&self) -> serde_json::Value {
        let r = self.report.as_ref();
        serde_json::json!({
            "ok": self.ok(),
            "from": self.from,
            "records": r.map(|r| r.records),
            "bytes": r.map(|r| r.bytes),
            "last_hash": r.map(|r| r.last_hash.to_hex()),
            "root": r.map(|r| r.root.to_hex()),
            "checkpoints": self.checkpoints,
            "violation": self.violation.as_ref().map(|v| serde_json::json!({
                "position": v.position, "what": v.kind.to_string()})),
            "index": self.index,
        })
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
                index: None,
            });
        }
        other => other?,
    };
    let report = match (since_latest, checkpoints.last()) {
        (true, Some(latest)) => verify_store_since(store.as_ref(), *latest, progress)?,
        (true, None) => {
            return Err(crate::Error::new(
                crate::Kind::NotFound,
                "the witness directory holds no checkpoint; make one with `planledger checkpoint`",
            ));
        }
        (false, _) => verify_store(store.as_ref(), checkpoints, progress)?,
    };
    // The index is derived from records that verified: check it only then, and only on
    // a whole check (a tail check is the quick nightly one).
    let index = match (&report.violation, since_latest) {
        (None, false) => crate::index::check(store.as_ref())?,
        _ => None,
    };
    tracing::info!(
        records = report.records,
        from = report.from,
        checkpoints = checkpoints.len(),
        intact = report.violation.is_none(),
        index_matches = index.is_none(),
        "verified"
    );
    Ok(Outcome {
        index,
        from: report.from,
        violation: report.violation.clone(),
        report: Some(report),
        checkpoints: checkpoints.len(),
    })
}
