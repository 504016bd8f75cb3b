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
//! DESIGN.md keeps projection state beside the records. What a snapshot must hold is
//! exactly [`Projection::position`] and [`Projection::last_hash`] (to resume, and to
//! check on resume that the ledger still has the same record there:
//! [`ProjectionError::Diverged`]) and, per plan, the [`EventRef`]s; the [`PlanState`]s
//! and indexes are refolded from those without reading the store. [`PlanState`] has no
//! serde yet, which is why nothing is persisted so far.

mod error;
mod projection;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use error::ProjectionError;
pub use projection::{DEFAULT_CHUNK, EventRef, PlanView, Projection, fold_stream};

/// Re-exported so that users of a projection name the same plan types.
pub use planledger_plan::{PlanState, VersionRecord};
