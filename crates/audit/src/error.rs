//! Why a query has no answer. Messages name plans by id and clients by masked
//! personnummer only.

use chrono::NaiveDate;
use planledger_plan::PlanId;

/// A query about something the ledger does not hold (within the scope).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error("there is no plan {plan} in scope as of {as_of}")]
    NoSuchPlan { plan: PlanId, as_of: NaiveDate },
    /// `client` is masked (`19640823-****`).
    #[error("client {client} has no plan in scope as of {as_of}")]
    NoPlansOfClient { client: String, as_of: NaiveDate },
}
