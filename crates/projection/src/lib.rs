//! Projections of a planledger ledger: the records folded into what people ask about.
//!
//! The ledger is the truth; a [`Projection`] is a cache of it that can be thrown away and
//! rebuilt from position 0 at any time ([`Projection::rebuild`]), or brought up to date
//! from where it stopped ([`Projection::catch_up`], which reads in chunks and so resumes
//! after an interruption). It holds:
//!
//! - per plan (one stream per plan), a [`PlanView`]: the plan's [`PlanState`] (every
//!   version kept whole, signatures, decisions, reviews, follow-ups, deviations,
//!   corrections) and, for each of its events, the record that carries it ([`EventRef`]:
//!   position, hash, recorded time, actor) as evidence and for the history;
//! - indexes from client (personnummer), unit and act to plan ids, for the audit queries.
//!
//! Every version stays addressable: [`Projection::version`] by number, and
//! [`Projection::as_of`] as the version in force at an instant. [`PlanView::state_at`]
//! refolds a plan as it stood at an instant, so a query "as of" a past date sees neither
//! later versions nor later decisions.
//!
//! ```
//! use planledger_projection::Projection;
//! use planledger_store::MemoryStore;
//!
//! let store = MemoryStore::new();
//! let mut projection = Projection::new();
//! // Nothing recorded yet: nothing to fold, and the next position needed is 0.
//! assert_eq!(projection.catch_up(&store).unwrap(), 0);
//! assert_eq!(projection.position(), 0);
//! ```
//!
//! # Persisting a projection
//!
//! [`Projection::open`] is how readers get a projection: it loads the snapshot kept
//! beside the records in the same store (`Store::load_snapshot`, under
//! [`SNAPSHOT_NAME`]), folds only what was appended since, and saves the snapshot again
//! when it moved. [`Projection::to_snapshot`] / [`Projection::from_snapshot`] are the
//! bytes (position, last record hash, and per plan its state and event records; format
//! [`SNAPSHOT_FORMAT`]). Catching up refuses a ledger that no longer has the snapshot's
//! last record at its position ([`ProjectionError::Diverged`],
//! [`ProjectionError::LedgerShorter`]). A snapshot holds plan contents: it is personal
//! data, kept under the same protection as the records.
//!
//! The same folding gives the same answers however the records arrive: a projection
//! caught up in steps, from a snapshot, or rebuilt from zero compare equal (`==`).

mod error;
mod projection;
mod snapshot;

pub use error::ProjectionError;
pub use projection::{DEFAULT_CHUNK, EventRef, PlanView, Projection, fold_stream};
pub use snapshot::{SNAPSHOT_FORMAT, SNAPSHOT_NAME};

/// Re-exported so that users of a projection name the same plan types.
pub use planledger_plan::{PlanState, VersionRecord};
