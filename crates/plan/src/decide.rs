//! `decide`: who may do what (roles), and what may happen when (lifecycle).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use crate::calendar::swedish_date;
use crate::command::Command;
use crate::completeness::is_vague;
use crate::content::PlanContent;
use crate::event::{
    CorrectionNoted, DeviationRecorded, Event, FollowUpDone, OrderReceived, PlanApproved,
    PlanClosed, PlanDrafted, PlanRevised, PlanSigned, PlanSubmitted, ReviewDone, Signer,
    SupplementProvided, SupplementRequested,
};
use crate::role::{Actor, Role};
use crate::state::PlanState;

/// Why a command was refused: the rule broken and what would satisfy it. The text names
/// roles, versions, dates and fields, never personal data, so it can go to a terminal
/// or a log as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    #[error("{} may not {command}; this needs one of: {}", with_article(.role.describe()), describe_roles(.allowed))]
    NotPermitted {
        role: Role,
        command: &'static str,
        allowed: &'static [Role],
    },
    #[error(
        "the command is for another plan than this stream holds; send it to its own plan's stream"
    )]
    WrongPlan,
    #[error("the plan has no order yet; record the order (receive_order) before {command}")]
    NoOrder { command: &'static str },
    #[error(
        "a new order must be for the plan's own {field}; an order for another {field} starts a new plan"
    )]
    OrderConflict { field: &'static str },
    #[error("this order is already recorded for the plan; a new decision needs a new order id")]
    DuplicateOrder,
    #[error("the plan already has version {current}; make a new version with revise")]
    AlreadyDrafted { current: u32 },
    #[error("the plan has no version yet; draft version 1 before {command}")]
    NotDrafted { command: &'static str },
    #[error("version {version} does not exist; the latest is version {latest}")]
    NoSuchVersion { version: u32, latest: u32 },
    #[error(
        "version {version} was replaced by version {current}; {command} binds to the current version {current}"
    )]
    NotCurrentVersion {
        version: u32,
        current: u32,
        command: &'static str,
    },
    #[error(
        "the content's {field} differs from the plan's; a plan keeps its {field} (start a new plan for another)"
    )]
    ContentMismatch { field: &'static str },
    #[error("version {version} is already signed by {signer}; a new signature needs a new version")]
    AlreadySigned { version: u32, signer: &'static str },
    #[error(
        "a staff member signs in their own name only; the signer must be the user recording the signature"
    )]
    SignerNotActor,
    #[error("version {version} was already submitted; revise to send a new version")]
    AlreadySubmitted { version: u32 },
    #[error("version {version} was not submitted to the authority; submit it first")]
    NotSubmitted { version: u32 },
    #[error("version {version} is already approved")]
    AlreadyApproved { version: u32 },
    #[error(
        "a supplement due {due_on} is outstanding; deliver it with provide_supplement before {command}"
    )]
    SupplementOutstanding {
        due_on: NaiveDate,
        command: &'static str,
    },
    #[error("no supplement was requested; provide_supplement answers a request_supplement")]
    NoSupplementRequested,
    #[error(
        "the supplement was asked for version {asked}; deliver version {asked} or a later one, not version {version}"
    )]
    SupplementVersionTooOld { version: u32, asked: u32 },
    #[error("{field} {date} lies after today ({today}); record it on or after the day it happens")]
    DateInFuture {
        field: &'static str,
        date: NaiveDate,
        today: NaiveDate,
    },
    #[error("{field} {date} has already passed (today is {today}); give a date from today on")]
    DateInPast {
        field: &'static str,
        date: NaiveDate,
        today: NaiveDate,
    },
    #[error("{field} is empty or says too little; write it out")]
    EmptyText { field: &'static str },
    #[error(
        "there is no record {refers_to} in this plan (it has {last}); a correction refers to an earlier record of the same plan"
    )]
    NoSuchRecord { refers_to: u64, last: u64 },
    #[error("the plan is closed; {command} is not possible (a correction note still is)")]
    Closed { command: &'static str },
}

fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

fn describe_roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.describe())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Rejection {
    /// A stable snake_case name of the rule (for JSON output and exit-code mapping).
    pub fn rule(&self) -> &'static str {
        match self {
            Rejection::NotPermitted { .. } => "not_permitted",
            Rejection::WrongPlan => "wrong_plan",
            Rejection::NoOrder { .. } => "no_order",
            Rejection::OrderConflict { .. } => "order_conflict",
            Rejection::DuplicateOrder => "duplicate_order",
            Rejection::AlreadyDrafted { .. } => "already_drafted",
            Rejection::NotDrafted { .. } => "not_drafted",
            Rejection::NoSuchVersion { .. } => "no_such_version",
            Rejection::NotCurrentVersion { .. } => "not_current_version",
            Rejection::ContentMismatch { .. } => "content_mismatch",
            Rejection::AlreadySigned { .. } => "already_signed",
            Rejection::SignerNotActor => "signer_not_actor",
            Rejection::AlreadySubmitted { .. } => "already_submitted",
            Rejection::NotSubmitted { .. } => "not_submitted",
            Rejection::AlreadyApproved { .. } => "already_approved",
            Rejection::SupplementOutstanding { .. } => "supplement_outstanding",
            Rejection::NoSupplementRequested => "no_supplement_requested",
            Rejection::SupplementVersionTooOld { .. } => "supplement_version_too_old",
            Rejection::DateInFuture { .. } => "date_in_future",
            Rejection::DateInPast { .. } => "date_in_past",
            Rejection::EmptyText { .. } => "empty_text",
            Rejection::NoSuchRecord { .. } => "no_such_record",
            Rejection::Closed { .. } => "closed",
        }
    }
}

use Role::{Admin, CaseOfficer, KeyWorker, Staff, UnitManager};

/// The roles that may give each command. Inspectors and administrative officers read
/// only; the case officer alone takes the authority's decisions; an administrator
/// registers and corrects but never approves.
pub fn allowed_roles(command: &Command) -> &'static [Role] {
    match command {
        Command::ReceiveOrder { .. } => &[CaseOfficer, UnitManager, Admin],
        Command::Draft { .. } | Command::Revise { .. } => &[KeyWorker, UnitManager, Admin],
        Command::Sign { .. } => &[KeyWorker, Staff, UnitManager, Admin],
        Command::Submit { .. } | Command::ProvideSupplement { .. } => {
            &[KeyWorker, UnitManager, Admin]
        }
        Command::Approve { .. } | Command::RequestSupplement { .. } => &[CaseOfficer],
        Command::RecordReview { .. } | Command::RecordFollowUp { .. } => &[KeyWorker, UnitManager],
        Command::RecordDeviation { .. } => &[Staff, KeyWorker, UnitManager],
        Command::Correct { .. } => &[KeyWorker, Staff, UnitManager, CaseOfficer, Admin],
        Command::Close { .. } => &[KeyWorker, UnitManager, CaseOfficer, Admin],
    }
}

/// Decides what `command`, given by `actor` at `now`, does to the plan whose events
/// folded into `state`: the events to record, or why not.
pub fn decide(
    state: &PlanState,
    command: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, Rejection> {
    let name = command.name();
    let today = swedish_date(now);
    if state.plan().is_some_and(|p| p != command.plan()) {
        return Err(Rejection::WrongPlan);
    }
    let allowed = allowed_roles(command);
    if !allowed.contains(&actor.role) {
        return Err(Rejection::NotPermitted {
            role: actor.role,
            command: name,
            allowed,
        });
    }
    if state.is_closed() && !matches!(command, Command::Correct { .. }) {
        return Err(Rejection::Closed { command: name });
    }
    if state.plan().is_none() && !matches!(command, Command::ReceiveOrder { .. }) {
        return Err(Rejection::NoOrder { command: name });
    }
    let not_future = |field: &'static str, date: NaiveDate| {
        if date > today {
            Err(Rejection::DateInFuture { field, date, today })
        } else {
            Ok(())
        }
    };
    let text = |field: &'static str, s: &str| {
        if is_vague(s) {
            Err(Rejection::EmptyText { field })
        } else {
            Ok(())
        }
    };

    let event = match command {
        Command::ReceiveOrder {
            plan,
            order,
            unit,
            act,
            client,
            received_on,
            granted_services,
        } => {
            not_future("received_on", *received_on)?;
            if state.plan().is_some() {
                if state.unit() != Some(unit) {
                    return Err(Rejection::OrderConflict { field: "unit" });
                }
                if state.act() != Some(*act) {
                    return Err(Rejection::OrderConflict { field: "act" });
                }
                if state.client() != Some(client) {
                    return Err(Rejection::OrderConflict { field: "client" });
                }
                if state.orders().iter().any(|o| &o.order == order) {
                    return Err(Rejection::DuplicateOrder);
                }
            }
            Event::OrderReceived(OrderReceived {
                plan: plan.clone(),
                order: order.clone(),
                unit: unit.clone(),
                act: *act,
                client: *client,
                received_on: *received_on,
                granted_services: granted_services.clone(),
            })
        }
        Command::Draft { content, .. } => {
            if let Some(current) = state.current_version() {
                return Err(Rejection::AlreadyDrafted {
                    current: current.number,
                });
            }
            check_content(state, content)?;
            Event::PlanDrafted(PlanDrafted {
                version: 1,
                content: content.clone(),
            })
        }
        Command::Revise {
            reason,
            note,
            content,
            ..
        } => {
            let current = current(state, name)?;
            check_content(state, content)?;
            Event::PlanRevised(PlanRevised {
                version: current + 1,
                reason: *reason,
                note: note.clone(),
                content: content.clone(),
            })
        }
        Command::Sign {
            version, signer, ..
        } => {
            let v = current_is(state, *version, name)?;
            if let Signer::StaffMember(user) = signer {
                if user != &actor.user || !matches!(actor.role, Staff | KeyWorker | UnitManager) {
                    return Err(Rejection::SignerNotActor);
                }
            }
            let existing = state
                .version(v)
                .into_iter()
                .flat_map(|v| &v.signatures)
                .any(|s| &s.signer == signer);
            if existing {
                return Err(Rejection::AlreadySigned {
                    version: v,
                    signer: signer.describe(),
                });
            }
            Event::PlanSigned(PlanSigned {
                version: v,
                signer: signer.clone(),
            })
        }
        Command::Submit { version, .. } => {
            let v = current_is(state, *version, name)?;
            if let Some(open) = state.open_supplement() {
                return Err(Rejection::SupplementOutstanding {
                    due_on: open.due_on,
                    command: name,
                });
            }
            if state.version(v).is_some_and(|r| r.submitted.is_some()) {
                return Err(Rejection::AlreadySubmitted { version: v });
            }
            Event::PlanSubmitted(PlanSubmitted { version: v })
        }
        Command::Approve { version, .. } => {
            let v = awaiting_decision(state, *version, name)?;
            if let Some(open) = state.open_supplement() {
                return Err(Rejection::SupplementOutstanding {
                    due_on: open.due_on,
                    command: name,
                });
            }
            Event::PlanApproved(PlanApproved { version: v })
        }
        Command::RequestSupplement {
            version,
            reason,
            due_on,
            ..
        } => {
            let v = awaiting_decision(state, *version, name)?;
            if let Some(open) = state.open_supplement() {
                return Err(Rejection::SupplementOutstanding {
                    due_on: open.due_on,
                    command: name,
                });
            }
            text("reason", reason)?;
            if *due_on < today {
                return Err(Rejection::DateInPast {
                    field: "due_on",
                    date: *due_on,
                    today,
                });
            }
            Event::SupplementRequested(SupplementRequested {
                version: v,
                reason: reason.clone(),
                due_on: *due_on,
            })
        }
        Command::ProvideSupplement { version, note, .. } => {
            let open = state
                .open_supplement()
                .ok_or(Rejection::NoSupplementRequested)?;
            let v = current_is(state, *version, name)?;
            if v < open.version {
                return Err(Rejection::SupplementVersionTooOld {
                    version: v,
                    asked: open.version,
                });
            }
            Event::SupplementProvided(SupplementProvided {
                version: v,
                note: note.clone(),
            })
        }
        Command::RecordReview {
            version,
            checklist,
            findings,
            ..
        } => {
            let v = current_is(state, *version, name)?;
            // 002: whatever is not clearly documented needs action, so say what.
            if !checklist.all_clear() {
                text("findings", findings)?;
            }
            Event::ReviewDone(ReviewDone {
                version: v,
                checklist: *checklist,
                findings: findings.clone(),
            })
        }
        Command::RecordFollowUp {
            version,
            findings,
            next_follow_up_on,
            ..
        } => {
            let v = current_is(state, *version, name)?;
            text("findings", findings)?;
            if let Some(next) = next_follow_up_on {
                if *next <= today {
                    return Err(Rejection::DateInPast {
                        field: "next_follow_up_on",
                        date: *next,
                        today,
                    });
                }
            }
            Event::FollowUpDone(FollowUpDone {
                version: v,
                findings: findings.clone(),
                next_follow_up_on: *next_follow_up_on,
            })
        }
        Command::RecordDeviation {
            occurred_on,
            service,
            description,
            ..
        } => {
            not_future("occurred_on", *occurred_on)?;
            text("description", description)?;
            Event::DeviationRecorded(DeviationRecorded {
                occurred_on: *occurred_on,
                service: service.clone(),
                description: description.clone(),
            })
        }
        Command::Correct {
            refers_to, note, ..
        } => {
            let last = state.stream_version();
            if *refers_to == 0 || *refers_to > last {
                return Err(Rejection::NoSuchRecord {
                    refers_to: *refers_to,
                    last,
                });
            }
            text("note", note)?;
            Event::CorrectionNoted(CorrectionNoted {
                refers_to: *refers_to,
                note: note.clone(),
            })
        }
        Command::Close {
            reason, closed_on, ..
        } => {
            not_future("closed_on", *closed_on)?;
            Event::PlanClosed(PlanClosed {
                reason: *reason,
                closed_on: *closed_on,
            })
        }
    };
    Ok(vec![event])
}

/// The current version's number, or why there is none.
fn current(state: &PlanState, command: &'static str) -> Result<u32, Rejection> {
    state
        .current_version()
        .map(|v| v.number)
        .ok_or(Rejection::NotDrafted { command })
}

/// `version` if it is the current one: signatures, submissions, reviews and follow-ups
/// bind to exactly one version, and only the current one can still gain them.
fn current_is(state: &PlanState, version: u32, command: &'static str) -> Result<u32, Rejection> {
    let current = current(state, command)?;
    if version == 0 || version > current || state.version(version).is_none() {
        return Err(Rejection::NoSuchVersion {
            version,
            latest: current,
        });
    }
    if version != current {
        return Err(Rejection::NotCurrentVersion {
            version,
            current,
            command,
        });
    }
    Ok(version)
}

/// `version` if it is the latest version sent to the authority and not yet approved.
fn awaiting_decision(
    state: &PlanState,
    version: u32,
    command: &'static str,
) -> Result<u32, Rejection> {
    let current = current(state, command)?;
    let Some(record) = state.version(version) else {
        return Err(Rejection::NoSuchVersion {
            version,
            latest: current,
        });
    };
    let Some(last) = state.submissions().last() else {
        return Err(Rejection::NotSubmitted { version });
    };
    if record.submitted.is_none() {
        return Err(Rejection::NotSubmitted { version });
    }
    if last.version != version {
        return Err(Rejection::NotCurrentVersion {
            version,
            current: last.version,
            command,
        });
    }
    if record.approved.is_some() {
        return Err(Rejection::AlreadyApproved { version });
    }
    Ok(version)
}

/// A version's content must describe this plan's unit, act and client.
fn check_content(state: &PlanState, content: &PlanContent) -> Result<(), Rejection> {
    if state.unit() != Some(&content.unit) {
        return Err(Rejection::ContentMismatch { field: "unit" });
    }
    if state.act() != Some(content.act) {
        return Err(Rejection::ContentMismatch { field: "act" });
    }
    if state.client() != Some(&content.client.personnummer) {
        return Err(Rejection::ContentMismatch { field: "client" });
    }
    Ok(())
}

impl fmt::Display for Command {
    /// The command's name and plan; no content (which may hold personal data).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (plan {})", self.name(), self.plan())
    }
}
