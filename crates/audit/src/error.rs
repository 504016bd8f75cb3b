//! Why a query has no answer. Messages name plans by id and clients by masked
//! personnummer only.

use chrono::NaiveDate;
use planledger_plan::PlanId;

/// A query about something the ledger does not hold (within the scope), or a ledger
/// that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error("there is no plan {plan} in scope as of {as_of}")]
    NoSuchPlan { plan: PlanId, as_of: NaiveDate },
    /// `client` is masked (`19640823-****`).
    #[error("client {client} has no plan in scope as of {as_of}")]
    NoPlansOfClient { client: String, as_of: NaiveDate },
    /// The plans could not be read or folded (a storage error, a record that is not a
    /// plan event, an index to rebuild).
    #[error(transparent)]
    Read(#[from] planledger_projection::ProjectionError),
}
