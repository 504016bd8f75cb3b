//! Commands: what someone asks to happen to a plan. [`crate::decide`] turns a command
//! into events or a [`crate::Rejection`].
//!
//! The serde shape is one JSON object per command, tagged by `"command"` (the JSON Lines
//! import of a case-management system); see the crate documentation for a line of each.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::content::{ActKind, PlanContent};
use crate::event::{CloseReason, ReviewChecklist, RevisionReason, Signer};
use crate::id::{OrderId, Personnummer, PlanId, UnitId};

/// A request to change one plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Command {
    /// Record the authority's order (starts the clock; opens the plan if new).
    ReceiveOrder {
        plan: PlanId,
        order: OrderId,
        unit: UnitId,
        act: ActKind,
        client: Personnummer,
        received_on: NaiveDate,
        #[serde(default)]
        granted_services: Vec<String>,
    },
    /// Draw up version 1.
    Draft { plan: PlanId, content: PlanContent },
    /// Make a new whole version.
    Revise {
        plan: PlanId,
        reason: RevisionReason,
        #[serde(default)]
        note: String,
        content: PlanContent,
    },
    /// Record a signature on a version.
    Sign {
        plan: PlanId,
        version: u32,
        signer: Signer,
    },
    /// Send a version to the authority.
    Submit { plan: PlanId, version: u32 },
    /// Approve a submitted version (case officer).
    Approve { plan: PlanId, version: u32 },
    /// Ask for a supplement by a due date (case officer).
    RequestSupplement {
        plan: PlanId,
        version: u32,
        reason: String,
        due_on: NaiveDate,
    },
    /// Deliver the supplement, as `version` (the one asked about or a revision of it).
    ProvideSupplement {
        plan: PlanId,
        version: u32,
        #[serde(default)]
        note: String,
    },
    /// Record the monthly review (002).
    RecordReview {
        plan: PlanId,
        version: u32,
        checklist: ReviewChecklist,
        #[serde(default)]
        findings: String,
    },
    /// Record a follow-up.
    RecordFollowUp {
        plan: PlanId,
        version: u32,
        #[serde(default)]
        findings: String,
        #[serde(default)]
        next_follow_up_on: Option<NaiveDate>,
    },
    /// Record a deviation from the plan (003).
    RecordDeviation {
        plan: PlanId,
        occurred_on: NaiveDate,
        #[serde(default)]
        service: Option<String>,
        description: String,
    },
    /// Append a correction to an earlier record (by its stream version).
    Correct {
        plan: PlanId,
        refers_to: u64,
        note: String,
    },
    /// Close the plan.
    Close {
        plan: PlanId,
        reason: CloseReason,
        closed_on: NaiveDate,
    },
}

impl Command {
    /// The plan (stream) the command is for.
    pub fn plan(&self) -> &PlanId {
        match self {
            Command::ReceiveOrder { plan, .. }
            | Command::Draft { plan, .. }
            | Command::Revise { plan, .. }
            | Command::Sign { plan, .. }
            | Command::Submit { plan, .. }
            | Command::Approve { plan, .. }
            | Command::RequestSupplement { plan, .. }
            | Command::ProvideSupplement { plan, .. }
            | Command::RecordReview { plan, .. }
            | Command::RecordFollowUp { plan, .. }
            | Command::RecordDeviation { plan, .. }
            | Command::Correct { plan, .. }
            | Command::Close { plan, .. } => plan,
        }
    }

    /// The command's name as in JSON (`receive_order`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Command::ReceiveOrder { .. } => "receive_order",
            Command::Draft { .. } => "draft",
            Command::Revise { .. } => "revise",
            Command::Sign { .. } => "sign",
            Command::Submit { .. } => "submit",
            Command::Approve { .. } => "approve",
            Command::RequestSupplement { .. } => "request_supplement",
            Command::ProvideSupplement { .. } => "provide_supplement",
            Command::RecordReview { .. } => "record_review",
            Command::RecordFollowUp { .. } => "record_follow_up",
            Command::RecordDeviation { .. } => "record_deviation",
            Command::Correct { .. } => "correct",
            Command::Close { .. } => "close",
        }
    }
}
