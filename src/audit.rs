//! The reports: `history` and `audit`, as of a Swedish day, in a format and language.

use planledger_app::Result;
use planledger_app::read::{self, Output};
use planledger_audit::{Scope, Subject};
use planledger_plan::swedish_date;

use crate::flags::{AuditArgs, HistoryArgs, OutputArgs};
use crate::{Context, stdout};

pub fn output(o: &OutputArgs) -> Output {
    Output {
        format: if o.spreadsheet {
            planledger_audit::Format::Csv
        } else {
            o.format
        },
        lang: o.lang,
    }
}

/// Writes what `write` writes, made spreadsheet CSV when `--spreadsheet` asks for it.
fn written(
    o: &OutputArgs,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
) -> Result<()> {
    use std::io::Write;
    if !o.spreadsheet {
        return write(&mut stdout());
    }
    let mut csv = Vec::new();
    write(&mut csv)?;
    let sheet = planledger_audit::spreadsheet_csv(&csv, o.lang).map_err(|e| {
        planledger_app::Error::new(
            planledger_app::Kind::Storage,
            format!("cannot write the CSV: {e}"),
        )
    })?;
    let mut out = stdout();
    out.write_all(&sheet)
        .and_then(|()| out.flush())
        .map_err(|e| planledger_app::Error::io("cannot write the output", e))
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
    let store = ctx.open()?;
    if a.output.spreadsheet {
        // One rectangular table: every record, its version's columns beside it.
        let plans = read::plans(store.as_ref())?;
        let history = planledger_audit::history(&plans, &scope, &subject)?;
        return written(&a.output, |out| {
            history.render_sheet(a.output.lang, out).map_err(|e| {
                planledger_app::Error::new(
                    planledger_app::Kind::Storage,
                    format!("cannot write the CSV: {e}"),
                )
            })
        });
    }
    read::history(
        store.as_ref(),
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
    let plans = read::plans(store.as_ref())?;
    written(&a.output, |out| {
        read::write_report(
            &plans,
            a.report,
            &policy,
            &scope,
            subject.as_ref(),
            output(&a.output),
            out,
        )
    })
}
