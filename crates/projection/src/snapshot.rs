//! Snapshots: a projection written out and read back, so that a process can resume
//! from where the last one stopped instead of folding the whole ledger again.
//!
//! The snapshot is a cache, never the truth: it records the position and hash it was
//! taken at, and [`crate::Projection::catch_up`] refuses to continue from it when the
//! ledger no longer has that record there ([`crate::ProjectionError::Diverged`],
//! [`crate::ProjectionError::LedgerShorter`]). Format: JSON, `{"format":1,...}`; an
//! unknown format is an error (rebuild instead). It holds personal data (plan
//! contents) and must be protected like the ledger itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use planledger_ledger::Hash;
use planledger_plan::{Actor, Event, PlanId, PlanState};
use serde::{Deserialize, Serialize};

use planledger_store::Store;

use crate::projection::{EventRef, PlanView};
use crate::{Projection, ProjectionError};

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    position: u64,
    last_hash: String,
    plans: Vec<PlanSnap>,
}

#[derive(Serialize, Deserialize)]
struct PlanSnap {
    id: PlanId,
    state: PlanState,
    events: Vec<EventSnap>,
}

#[derive(Serialize, Deserialize)]
struct EventSnap {
    position: u64,
    stream_version: u64,
    hash: String,
    recorded_at: DateTime<Utc>,
    actor: Actor,
    event: Event,
}

fn hash_from(text: &str, what: &'static str) -> Result<Hash, ProjectionError> {
    Hash::from_hex(text).map_err(|_| ProjectionError::Snapshot {
        reason: format!("{what} is not a hash"),
    })
}

/// The name under which [`Projection::open`] keeps its snapshot beside the records.
pub const SNAPSHOT_NAME: &str = "projection";

impl Projection {
    /// The projection of `store`, the way every reader should get it: resumed from the
    /// snapshot kept beside the records ([`Store::save_snapshot`]), caught up to the
    /// head, and the snapshot refreshed when anything new was folded.
    ///
    /// A snapshot of another format is ignored and the projection rebuilt from zero
    /// (it is only a cache). A ledger that no longer holds the snapshot's last record at
    /// its position is an error ([`ProjectionError::Diverged`],
    /// [`ProjectionError::LedgerShorter`]): that is a finding for `verify`, never
    /// something to rebuild over quietly.
    ///
    /// [`Store::save_snapshot`]: planledger_store::Store::save_snapshot
    pub fn open(store: &dyn Store) -> Result<Projection, ProjectionError> {
        let saved = store.load_snapshot(SNAPSHOT_NAME)?;
        let mut projection = match &saved {
            Some(s) => match Projection::from_snapshot(&s.state) {
                Ok(p) if p.position() == s.position => p,
                _ => Projection::new(),
            },
            None => Projection::new(),
        };
        let folded = projection.catch_up(store)?;
        let stale = saved.is_none_or(|s| s.position != projection.position());
        if folded > 0 || stale {
            store.save_snapshot(
                SNAPSHOT_NAME,
                projection.position(),
                &projection.to_snapshot(),
            )?;
        }
        Ok(projection)
    }

    /// The projection as snapshot bytes (see the module docs of `snapshot`).
    pub fn to_snapshot(&self) -> Vec<u8> {
        let snapshot = Snapshot {
            format: SNAPSHOT_FORMAT,
            position: self.position(),
            last_hash: self.last_hash().to_hex(),
            plans: self
                .plans()
                .map(|v| PlanSnap {
                    id: v.id().clone(),
                    state: v.state().clone(),
                    events: v
                        .events()
                        .iter()
                        .map(|e| EventSnap {
                            position: e.position,
                            stream_version: e.stream_version,
                            hash: e.hash.to_hex(),
                            recorded_at: e.recorded_at,
                            actor: e.actor.clone(),
                            event: e.event.clone(),
                        })
                        .collect(),
                })
                .collect(),
        };
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_vec(&snapshot).unwrap_or_default()
    }

    /// A projection read back from [`Projection::to_snapshot`]'s bytes; catch it up
    /// to bring it to the ledger's head.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Projection, ProjectionError> {
        let snapshot: Snapshot =
            serde_json::from_slice(bytes).map_err(|e| ProjectionError::Snapshot {
                // serde_json's message names a line and column, never the data.
                reason: format!(
                    "not a projection snapshot: line {}, column {}",
                    e.line(),
                    e.column()
                ),
            })?;
        if snapshot.format != SNAPSHOT_FORMAT {
            return Err(ProjectionError::Snapshot {
                reason: format!(
                    "snapshot format {} is not {SNAPSHOT_FORMAT}; rebuild the projection",
                    snapshot.format
                ),
            });
        }
        let mut plans = BTreeMap::new();
        for p in snapshot.plans {
            let mut events = Vec::with_capacity(p.events.len());
            for e in p.events {
                events.push(EventRef {
                    position: e.position,
                    stream_version: e.stream_version,
                    hash: hash_from(&e.hash, "an event's record hash")?,
                    recorded_at: e.recorded_at,
                    actor: e.actor,
                    event: e.event,
                });
            }
            plans.insert(p.id.clone(), PlanView::from_parts(p.id, p.state, events));
        }
        Ok(Projection::from_parts(
            snapshot.position,
            hash_from(&snapshot.last_hash, "the last hash")?,
            plans,
        ))
    }
}
