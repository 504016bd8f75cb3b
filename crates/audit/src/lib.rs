//! Supervisory audit queries over a [`Projection`], and their reports.
//!
//! Who asks (DOMAIN.md, "Who asks the ledger what"): the unit manager's self-monitoring
//! (which plans are overdue, unsigned, unapproved, incomplete?), the case officer (late
//! plans, overdue supplements), the administrative officer (which new clients qualify
//! for the fee, seed 001), and the IVO inspector (a unit's overview, a client's history
//! with what changed, the plan in force on a date).
//!
//! Every query takes the projection and a [`Scope`]: the date it is asked as of (the
//! ledger as it stood at the end of that day, deadlines counted to it), an optional
//! unit, and whether full personnummer may be shown (masked by default). It returns
//! typed rows; [`render`] writes any rows as an aligned table, JSON or CSV, headings in
//! Swedish or English ([`Lang`]).
//!
//! ```
//! use planledger_audit::{Format, Lang, Scope, overdue, render_to_string};
//! use planledger_plan::DeadlinePolicy;
//! use planledger_projection::Projection;
//!
//! let projection = Projection::new(); // normally Projection::rebuild(&store)
//! let as_of = chrono::NaiveDate::from_ymd_opt(2026, 3, 25).unwrap();
//! let rows = overdue(&projection, &DeadlinePolicy::default(), &Scope::new(as_of));
//! let table = render_to_string(&rows, Format::Table, Lang::En).unwrap();
//! assert!(table.starts_with("plan  unit  act"));
//! ```

mod compliance;
mod diff;
mod error;
mod fee;
mod history;
mod overdue;
mod overview;
mod render;
mod scope;
mod text;

pub use compliance::{
    IncompleteRow, UnapprovedRow, UnsignedRow, Waiting, incomplete, unapproved, unsigned,
};
pub use diff::{FieldChange, content_diff, schedule_text};
pub use error::AuditError;
pub use fee::{FeeRow, new_client_fee};
pub use history::{
    Detail, Done, EventRow, History, InForceRow, Signature, Subject, VersionRow, history, in_force,
};
pub use overdue::{OverdueRow, overdue};
pub use overview::{OverviewRow, PlanStatus, overview};
pub use render::{
    Column, Format, Lang, RenderError, Row, UnknownFormat, UnknownLang, render, render_to_string,
};
pub use scope::{Scope, end_of_day};

pub use planledger_projection::Projection;
