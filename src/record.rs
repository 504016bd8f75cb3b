//! The domain commands (`order`, `draft`, … `close`): typed flags become a
//! `planledger_plan::Command`, recorded by the application's `Recorder` like an import
//! line.

use std::path::Path;

use planledger_app::{Error, Kind, Recorder, Result};
use planledger_plan::{Actor, Command, PlanContent, ReviewChecklist};

use crate::Context;
use crate::flags::{Cmd, Who};

/// The plan content in a JSON file, read as strictly as an import line.
fn content(path: &Path) -> Result<PlanContent> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::io(
            format!("cannot read the content file {}", path.display()),
            e,
        )
    })?;
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let what = format!("the content file {}", path.display());
        Error::new(
            Kind::BadInput,
            planledger_app::import::describe(&e, &what, &what),
        )
    })
}

/// The command and who gives it.
fn command(cmd: Cmd) -> Result<(Who, Command)> {
    Ok(match cmd {
        Cmd::Order(a) => {
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::ReceiveOrder {
                    plan,
                    order: a.order,
                    unit: a.unit,
                    act: a.act,
                    client: a.client,
                    received_on: a.received_on,
                    granted_services: a.services,
                },
            )
        }
        Cmd::Draft(a) => {
            let c = content(&a.content)?;
            let plan = a.who.plan.clone();
            (a.who, Command::Draft { plan, content: c })
        }
        Cmd::Revise(a) => {
            let c = content(&a.content)?;
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::Revise {
                    plan,
                    reason: a.reason,
                    note: a.note,
                    content: c,
                },
            )
        }
        Cmd::Sign(a) => {
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::Sign {
                    plan,
                    version: a.version,
                    signer: a.signer,
                },
            )
        }
        Cmd::Submit(a) => {
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::Submit {
                    plan,
                    version: a.version,
                },
            )
        }
        Cmd::Approve(a) => {
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::Approve {
                    plan,
                    version: a.version,
                },
            )
        }
        Cmd::RequestSupplement(a) => {
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::RequestSupplement {
                    plan,
                    version: a.version,
                    reason: a.reason,
                    due_on: a.due_on,
                },
            )
        }
        Cmd::Supplement(a) => {
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::ProvideSupplement {
                    plan,
                    version: a.version,
                    note: a.note,
                },
            )
        }
        Cmd::Review(a) => {
            let plan = a.who.plan.clone();
            let checklist = ReviewChecklist {
                participation_described: a.participation_described,
                services_and_goals_clear: a.services_and_goals_clear,
                usable_by_new_staff: a.usable_by_new_staff,
                matches_order: a.matches_order,
            };
            (
                a.who,
                Command::RecordReview {
                    plan,
                    version: a.version,
                    checklist,
                    findings: a.findings,
                },
            )
        }
        Cmd::FollowUp(a) => {
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::RecordFollowUp {
                    plan,
                    version: a.version,
                    findings: a.findings,
                    next_follow_up_on: a.next_follow_up_on,
                },
            )
        }
        Cmd::Deviation(a) => {
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::RecordDeviation {
                    plan,
                    occurred_on: a.occurred_on,
                    service: a.service,
                    description: a.description,
                },
            )
        }
        Cmd::Correct(a) => {
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::Correct {
                    plan,
                    refers_to: a.refers_to,
                    note: a.note,
                },
            )
        }
        Cmd::Close(a) => {
            let plan = a.who.plan.clone();
            (
                a.who,
                Command::Close {
                    plan,
                    reason: a.reason,
                    closed_on: a.closed_on,
                },
            )
        }
        _ => unreachable!("main dispatches every other command"),
    })
}

/// Records one domain command and prints what it wrote.
pub fn run(ctx: &Context, cmd: Cmd) -> Result<()> {
    let (who, command) = command(cmd)?;
    let actor = Actor::new(who.user, who.role);
    let store = ctx.open()?;
    let recorded =
        Recorder::new(store.as_ref()).record(&command, &actor, ctx.now, who.expect_version)?;
    for r in recorded {
        println!(
            "recorded {} at position {}: plan {} record {}",
            r.event_type,
            r.position,
            command.plan(),
            r.stream_version
        );
    }
    Ok(())
}
