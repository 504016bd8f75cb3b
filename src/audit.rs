//! The reports: `history` and `audit`, as of a Swedish day, in a format and language.

use planledger_app::Result;
use planledger_app::read::{self, Output};
use planledger_audit::{Scope, Subject};
use planledger_plan::swedish_date;

use crate::flags::{AuditArgs, HistoryArgs, OutputArgs};
use crate::{Context, stdout};

pub fn output(o: &OutputArgs) -> Output {
    Output {
        format: o.format,
        lang: o.lang,
    }
}

/// The scope of a read: as of a Swedish day (today by default), a unit, masking.
fn scope(ctx: &Context, as_of: Option<chrono::NaiveDate>, o: &OutputArgs) -> Scope {
    let mut scope = Scope::new(as_of.unwrap_or_else(|| swedish_date(ctx.claimed_now)));
    scope.reveal_personnummer = o.show_personnummer;
    scope
}

fn subject(
    plan: Option<planledger_plan::PlanId>,
    client: Option<planledger_plan::Personnummer>,
) -> Option<Subject> {
    plan.map(Subject::Plan).or(client.map(Subject::Client))
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
    read::write_report(
        &read::plans(store.as_ref())?,
        a.report,
        &policy,
        &scope,
        subject.as_ref(),
        output(&a.output),
        &mut stdout(),
    )
}
