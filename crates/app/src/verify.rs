//! `verify`: the whole ledger (every record's hash and link, the Merkle tree, the head),
//! against every checkpoint a witness holds, or only what came after the latest one.

use planledger_ledger::{Checkpoint, TreeHead, Violation, ViolationKind};
use planledger_plan::DeadlinePolicy;
use planledger_store::{Store, StoreError, VerifyReport, verify_store, verify_store_since};

use crate::error::Result;

/// What a verification found.
#[derive(Debug, Clone, Default)]
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
    /// Stored Merkle nodes compared with the tree recomputed from the records (a whole
    /// check whose records verified).
    pub nodes_checked: u64,
    /// Streams whose index was compared with their records (idem).
    pub streams_checked: u64,
    /// The first stored Merkle node or stream index that differs from the records.
    pub derived: Option<String>,
    /// Checkpoints whose map was rebuilt from the records and compared ([`check_maps`]).
    pub maps: usize,
    /// The first checkpoint whose signed map differs from the one the records give.
    pub map: Option<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.result().is_ok()
    }

    /// Rebuilds the map of every checkpoint in `checkpoints` that commits one and
    /// compares it with the signed root ([`crate::map::check`]), once the records have
    /// verified (the map is derived from them); records that failed are the finding.
    pub fn check_maps(
        &mut self,
        store: &dyn Store,
        checkpoints: &[Checkpoint],
        key: &crate::map::MapKey,
    ) -> Result<()> {
        if self.violation.is_some() {
            return Ok(());
        }
        let (checked, differs) = crate::map::check(store, checkpoints, key)?;
        self.maps = checked;
        self.map = differs;
        Ok(())
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
            "nodes_checked": self.nodes_checked,
            "streams_checked": self.streams_checked,
            "derived": self.derived,
            "maps": self.maps,
            "map": self.map,
        })
    }
}

/// Verifies `store` (the result of opening it: a store that refused to open because its
/// head disagrees with its records is a finding, not a failure to run) against the
/// signed tree heads `checkpoints` (oldest first). With `since_latest`, only the
/// records after the latest checkpoint are checked, from its signed frontier.
///
/// With `map_key`, and once the records verified, the map of every checkpoint that
/// commits one is rebuilt from the records and compared with the signed root
/// ([`Outcome::check_maps`]); that reads the ledger up to the latest such checkpoint
/// again, also with `since_latest`.
pub fn verify(
    store: Result<Box<dyn Store>>,
    signed: &[Checkpoint],
    since_latest: bool,
    policy: &DeadlinePolicy,
    map_key: Option<&crate::map::MapKey>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Outcome> {
    let heads: Vec<TreeHead> = signed.iter().map(Checkpoint::tree_head).collect();
    let checkpoints = heads.as_slice();
    let store = match store {
        Err(crate::Error::Store(StoreError::Corrupt { position, reason })) => {
            return Ok(Outcome {
                violation: Some(Violation {
                    position,
                    kind: ViolationKind::Unreadable { reason },
                }),
                ..Outcome::default()
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
        (None, false) => crate::index::check(store.as_ref(), policy, &mut |_, _| {})?,
        _ => None,
    };
    // So are the stored Merkle nodes, which every proof is built from, and the stream
    // index every read of a plan goes through: a second read of the records, hashed
    // again, a node lookup per node (about two per record) and a read of each stream.
    let derived = match (&report.violation, since_latest) {
        (None, false) => Some(planledger_store::check_derived(
            store.as_ref(),
            report.from + report.records,
            progress,
        )?),
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
    let mut outcome = Outcome {
        index,
        nodes_checked: derived.as_ref().map_or(0, |n| n.nodes),
        streams_checked: derived.as_ref().map_or(0, |n| n.streams),
        derived: derived.and_then(|n| n.differs).map(|f| f.to_string()),
        maps: 0,
        map: None,
        from: report.from,
        violation: report.violation.clone(),
        report: Some(report),
        checkpoints: checkpoints.len(),
    };
    if let Some(key) = map_key {
        outcome.check_maps(store.as_ref(), signed, key)?;
    }
    Ok(outcome)
}

impl Outcome {
    /// The outcome as a result: `Err` (a verification failure) naming the first bad
    /// position, or the first plan where the index or read model differs from the records.
    pub fn result(&self) -> Result<()> {
        if let (None, Some(differs)) = (&self.violation, &self.derived) {
            return Err(crate::Error::new(
                crate::Kind::Verification,
                format!(
                    "the records verify, but {differs}: what is read or proven through it would be wrong; \
                     keep the files as they are and restore from a copy that verifies"
                ),
            ));
        }
        if let (None, Some(differs)) = (&self.violation, &self.map) {
            return Err(crate::Error::new(
                crate::Kind::Verification,
                format!(
                    "the records verify, but {differs}; bundles proven against it would prove a wrong history"
                ),
            ));
        }
        if let Some(differs) = &self.index {
            return Err(crate::Error::new(
                crate::Kind::Verification,
                format!(
                    "the records verify, but {differs} (derived data beside them) differs from them: \
                     readers would be shown what the records do not say; rebuild it with `planledger reindex`"
                ),
            ));
        }
        match &self.violation {
            None => Ok(()),
            Some(v) => Err(crate::Error::new(
                crate::Kind::Verification,
                format!(
                    "verification FAILED at position {}: {}; the ledger was altered or damaged from there \
                     on — keep the files as they are and restore from a copy that verifies",
                    v.position, v.kind
                ),
            )),
        }
    }
}

/// What a Prometheus textfile collector reads of the last verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metrics {
    /// When it ran.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The exit code it ended with (0: intact).
    pub exit_code: u8,
    pub took: std::time::Duration,
    /// Records read; `None` when the ledger could not be read.
    pub records: Option<u64>,
}

impl Metrics {
    /// The textfile (Prometheus exposition format, gauges).
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut text = String::new();
        let mut metric = |name: &str, help: &str, value: String| {
            let _ = write!(
                text,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
            );
        };
        metric(
            "planledger_verify_last_run_timestamp_seconds",
            "When planledger verify last ran (Unix time).",
            self.at.timestamp().to_string(),
        );
        metric(
            "planledger_verify_ok",
            "1 if the last verify found the ledger intact, 0 if it did not or could not run.",
            u8::from(self.exit_code == 0).to_string(),
        );
        metric(
            "planledger_verify_exit_code",
            "The exit code of the last verify (0 intact, 1 verification failure, 2-5 could not run).",
            self.exit_code.to_string(),
        );
        metric(
            "planledger_verify_duration_seconds",
            "How long the last verify took.",
            format!("{:.3}", self.took.as_secs_f64()),
        );
        if let Some(records) = self.records {
            metric(
                "planledger_verify_records",
                "Records the last verify read (absent when it could not read the ledger).",
                records.to_string(),
            );
        }
        text
    }

    /// Writes the textfile to `file`: to a temporary file in the same directory, then
    /// renamed over it, so the collector never reads half a file.
    pub fn write(&self, file: &std::path::Path) -> Result<()> {
        use crate::{Error, Kind};
        let name = file
            .file_name()
            .ok_or_else(|| Error::new(Kind::BadInput, "--prom needs a file name"))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.tmp", std::process::id()));
        let temp = file.with_file_name(temp_name);
        let what = || format!("cannot write the Prometheus textfile {}", file.display());
        std::fs::write(&temp, self.text()).map_err(|e| Error::io(what(), e))?;
        std::fs::rename(&temp, file).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            Error::io(what(), e)
        })
    }
}
