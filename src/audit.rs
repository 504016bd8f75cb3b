//! The reads: `show`, `history`, `audit`, and `demo` (which ends in a unit overview).

use chrono::Days;
use planledger_app::read::{self, Output, Report, Which};
use planledger_app::{Error, Kind, Location, Result};
use planledger_audit::{Format, Lang, Scope, Subject};
use planledger_plan::{ActKind, swedish_date};
use planledger_synth::Organisation;

use crate::flags::{AuditArgs, HistoryArgs, OutputArgs, ShowArgs};
use crate::{Context, stdout};

fn output(o: &OutputArgs) -> Output {
    Output {
        format: o.format,
        lang: o.lang,
    }
}

/// The scope of a read: as of a Swedish day (today by default), a unit, masking.
fn scope(ctx: &Context, as_of: Option<chrono::NaiveDate>, o: &OutputArgs) -> Scope {
    let mut scope = Scope::new(as_of.unwrap_or_else(|| swedish_date(ctx.now)));
    scope.reveal_personnummer = o.show_personnummer;
    scope
}

fn subject(
    plan: Option<planledger_plan::PlanId>,
    client: Option<planledger_plan::Personnummer>,
) -> Option<Subject> {
    plan.map(Subject::Plan).or(client.map(Subject::Client))
}

pub fn show(ctx: &Context, a: ShowArgs) -> Result<()> {
    let which = match (a.version, a.as_of) {
        (Some(n), _) => Which::Number(n),
        (None, Some(day)) => Which::InForceOn(day),
        (None, None) => Which::Current,
    };
    let store = ctx.open()?;
    read::show(
        store.as_ref(),
        &a.plan,
        which,
        a.output.show_personnummer,
        output(&a.output),
        &mut stdout(),
    )
}

pub fn history(ctx: &Context, a: HistoryArgs) -> Result<()> {
    let scope = scope(ctx, a.as_of, &a.output);
    let subject = subject(a.plan, a.client).expect("clap requires --plan or --client");
    read::history(
        ctx.open()?.as_ref(),
        &scope,
        &subject,
        output(&a.output),
        &mut stdout(),
    )
}

pub fn audit(ctx: &Context, a: AuditArgs) -> Result<()> {
    let mut scope = scope(ctx, a.as_of, &a.output);
    scope.unit = a.unit;
    let subject = subject(a.plan, a.client);
    let policy = ctx.policy()?;
    let store = ctx.open()?;
    read::audit(
        store.as_ref(),
        a.report,
        &policy,
        &scope,
        subject.as_ref(),
        output(&a.output),
        &mut stdout(),
    )
}

/// `demo`: a synthetic organisation, recorded, verified, reported on.
pub fn demo(ctx: &Context, clients: usize, seed: u64, months: u32) -> Result<()> {
    let loc: &Location = ctx.location()?;
    let policy = ctx.policy()?;
    let org = Organisation {
        seed,
        clients,
        months,
        policy: policy.clone(),
        ..Organisation::default()
    };
    eprintln!(
        "recording {clients} synthetic clients over {months} months (seed {seed}) into {}",
        loc.describe()
    );
    let bar = crate::progress("{spinner} {pos} commands recorded ({per_sec})", 0);
    let demo = planledger_app::demo::run(loc, &org, &|| bar.inc(1))?;
    bar.finish_and_clear();
    println!(
        "recorded {} commands as {} records in {:.1} s; verified in {:.2} s: {}",
        demo.commands,
        demo.report.records,
        demo.recorded_in.as_secs_f64(),
        demo.verified_in.as_secs_f64(),
        demo.report.message()
    );
    let projection = read::projection(demo.store.as_ref())?;
    let last_day = swedish_date(org.end_at())
        .checked_sub_days(Days::new(1))
        .ok_or_else(|| Error::new(Kind::BadInput, "the period has no last day"))?;
    let scope = Scope::new(last_day);
    use planledger_audit as a;
    println!(
        "as of {last_day}: {} plans; {} deadlines overdue, {} met late; {} unsigned, {} unapproved, {} incomplete",
        projection.plan_count(),
        a::overdue(&projection, &policy, &scope).len(),
        a::late(&projection, &policy, &scope).len(),
        a::unsigned(&projection, &scope).len(),
        a::unapproved(&projection, &scope).len(),
        a::incomplete(&projection, &scope).len(),
    );
    // Seed 001's act, home care, if the organisation has it: the README's example.
    let units = org.units();
    let Some(unit) = units
        .iter()
        .find(|u| u.act == ActKind::HomeCare)
        .or(units.first())
    else {
        return Ok(());
    };
    println!("\nunit overview: {} ({})\n", unit.name, unit.id);
    let output = Output {
        format: Format::Table,
        lang: Lang::En,
    };
    read::write_report(
        &projection,
        Report::Overview,
        &policy,
        &scope.unit(unit.id.clone()),
        None,
        output,
        &mut stdout(),
    )?;
    println!(
        "\nnext: `planledger --ledger {loc} audit late --as-of {last_day}`, `… verify`, `… history --plan PLAN`",
        loc = loc.describe()
    );
    Ok(())
}
