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
//! # Reading a ledger without folding it
//!
//! Readers do not fold the whole ledger: [`LedgerPlans`] finds the plans a question is
//! about by the tags the store keeps beside the records ([`plan_tags`]: a plan's unit,
//! act and client) and folds each of those streams on its own ([`fold_stream`]), one
//! at a time. Reports read through the [`Plans`] trait, which a [`Projection`] in
//! memory implements too. [`index_tags`] derives the tags from the records again.
//!
//! The same folding gives the same answers however the records arrive: a projection
//! caught up in steps or rebuilt from zero compare equal (`==`).

mod error;
mod plans;
mod projection;
mod summary;

pub use error::ProjectionError;
pub use plans::{
    Backdated, INDEX_VERSION, LedgerPlans, MARKER_STREAM, Plans, TAG_ACT, TAG_CLIENT, TAG_DUE,
    TAG_LATEST, TAG_UNIT, index_marker, index_tags, plan_tags, policy_key, state_tags,
};
pub use projection::{DEFAULT_CHUNK, EventRef, PlanView, Projection, fold_stream};
pub use summary::{check_summaries, decode_summary, rebuild_summaries, summary_bytes};

/// Re-exported so that users of a projection name the same plan types.
pub use planledger_plan::{PlanState, VersionRecord};
