//! The domain commands (`order`, `draft`, … `close`): typed flags become a
//! `planledger_plan::Command`, recorded by the application's `Recorder` like an import
//! line.

use planledger_app::import::read_content;
use planledger_app::limits::check_text_fields;
use planledger_app::{Error, Kind, Limits, Recorder, Result};
use planledger_plan::{Actor, Command, PlanId, ReviewChecklist};

use crate::Context;
use crate::flags::{Cmd, Who};

/// `who` gives the command that `make` builds for their plan.
fn by(who: Who, make: impl FnOnce(PlanId) -> Command) -> (Command, Who) {
    (make(who.plan.clone()), who)
}

/// The command and who gives it.
fn command(cmd: Cmd, limits: &Limits) -> Result<(Command, Who)> {
    use Command as C;
    Ok(match cmd {
        Cmd::Order(a) => by(a.who, |plan| C::ReceiveOrder {
            plan,
            order: a.order,
            unit: a.unit,
            act: a.act,
            client: a.client,
            received_on: a.received_on,
            granted_services: a.services,
        }),
        Cmd::Draft(a) => {
            let content = read_content(&a.content, limits)?;
            by(a.who, |plan| C::Draft { plan, content })
        }
        Cmd::Revise(a) => {
            let content = read_content(&a.content, limits)?;
            let (reason, note) = (a.reason, a.note);
            by(a.who, |plan| C::Revise {
                plan,
                reason,
                note,
                content,
            })
        }
        Cmd::Sign(a) => by(a.who, |plan| C::Sign {
            plan,
            version: a.version,
            signer: a.signer,
        }),
        Cmd::Submit(a) => by(a.who, |plan| C::Submit {
            plan,
            version: a.version,
        }),
        Cmd::Approve(a) => by(a.who, |plan| C::Approve {
            plan,
            version: a.version,
        }),
        Cmd::RequestSupplement(a) => by(a.who, |plan| C::RequestSupplement {
            plan,
            version: a.version,
            reason: a.reason,
            due_on: a.due_on,
        }),
        Cmd::Supplement(a) => by(a.who, |plan| C::ProvideSupplement {
            plan,
            version: a.version,
            note: a.note,
        }),
        Cmd::Review(a) => by(a.who, |plan| C::RecordReview {
            plan,
            version: a.version,
            checklist: ReviewChecklist {
                participation_described: a.participation_described,
                services_and_goals_clear: a.services_and_goals_clear,
                usable_by_new_staff: a.usable_by_new_staff,
                matches_order: a.matches_order,
            },
            findings: a.findings,
        }),
        Cmd::FollowUp(a) => by(a.who, |plan| C::RecordFollowUp {
            plan,
            version: a.version,
            findings: a.findings,
            next_follow_up_on: a.next_follow_up_on,
        }),
        Cmd::Deviation(a) => by(a.who, |plan| C::RecordDeviation {
            plan,
            occurred_on: a.occurred_on,
            service: a.service,
            description: a.description,
        }),
        Cmd::Correct(a) => by(a.who, |plan| C::Correct {
            plan,
            refers_to: a.refers_to,
            note: a.note,
        }),
        Cmd::Close(a) => by(a.who, |plan| C::Close {
            plan,
            reason: a.reason,
            closed_on: a.closed_on,
        }),
        _ => unreachable!("main dispatches every other command"),
    })
}

/// Records one domain command and prints what it wrote.
pub fn run(ctx: &Context, cmd: Cmd) -> Result<()> {
    let (command, who) = command(cmd, &ctx.limits)?;
    // The same limit on text as an import line has (a flag's text is bounded by the
    // operating system's argument size, but not below this limit).
    check_text_fields(&command, &ctx.limits).map_err(|e| Error::new(Kind::BadInput, e))?;
    let actor = Actor::new(who.user, who.role);
    if let Some(server) = ctx.server()? {
        return record_on(&server, ctx, command, actor, who.expect_version);
    }
    let store = ctx.open()?;
    let recorded = Recorder::new(store.as_ref(), ctx.policy()?).record(
        &command,
        &actor,
        ctx.claimed_now,
        who.expect_version,
    )?;
    for r in recorded {
        let (event, position, n) = (r.event_type, r.position, r.stream_version);
        println!(
            "recorded {event} at position {position}: plan {} record {n}",
            command.plan()
        );
    }
    Ok(())
}

/// What the server answers a recorded command.
#[derive(serde::Deserialize)]
struct RecordAnswer {
    recorded: Vec<RecordedEvent>,
    #[serde(default)]
    already_recorded_at: Option<u64>,
}

#[derive(serde::Deserialize)]
struct RecordedEvent {
    event_type: String,
    position: u64,
    stream_version: u64,
}

/// Sends the command to the server as an import line (`POST /v1/commands`), claimed at
/// this invocation's "now" as a local write is; prints what it recorded, as locally. A
/// command the server holds already (the same line sent again) is reported, not
/// recorded twice.
fn record_on(
    server: &planledger_serve::client::Server,
    ctx: &Context,
    command: Command,
    actor: Actor,
    expect_version: Option<u64>,
) -> Result<()> {
    let plan = command.plan().clone();
    let line = planledger_plan::ImportLine {
        id: None,
        actor,
        at: Some(ctx.claimed_now),
        expect_version,
        command,
    };
    let body = serde_json::to_vec(&line).expect("an import line serialises");
    let answer: RecordAnswer =
        server.post_json("/v1/commands", None, &[], "application/json", &body)?;
    if let Some(position) = answer.already_recorded_at {
        println!("already recorded at position {position}: plan {plan}; nothing recorded now");
    }
    for r in answer.recorded {
        let (event, position, n) = (r.event_type, r.position, r.stream_version);
        println!("recorded {event} at position {position}: plan {plan} record {n}");
    }
    Ok(())
}
