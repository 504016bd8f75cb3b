//! The reports: `history` and `audit`, as of a Swedish day, in a format and language;
//! from a local ledger, or from a server (`--server`).

use std::io::Write;

use planledger_app::read::{self, Output};
use planledger_app::{Error, Kind, Result};
use planledger_audit::{Scope, Subject};
use planledger_plan::swedish_date;

use crate::flags::{AuditArgs, HistoryArgs, OutputArgs};
use crate::{Context, stdout};
use planledger_serve::client::{query, segment};

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

/// The purpose sent with a read over `--server`; required when the read shows
/// personal data (the server refuses such a read without one, and logs it with one).
pub fn purpose(o: &OutputArgs, personal: bool) -> Result<Option<String>> {
    match o.purpose.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => Ok(Some(p.to_owned())),
        _ if personal => Err(Error::new(
            Kind::BadInput,
            "give --purpose TEXT (or PLANLEDGER_PURPOSE): the server logs why a client's \
             personal data is read",
        )),
        _ => Ok(None),
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

/// The as-of day sent to a server: the one given, else `--claimed-at`'s day, else none
/// (the server's today).
fn remote_as_of(ctx: &Context, as_of: Option<chrono::NaiveDate>) -> Option<String> {
    as_of
        .or(ctx.claimed_at.map(swedish_date))
        .map(|d| d.to_string())
}

fn subject(
    plan: Option<planledger_plan::PlanId>,
    client: Option<planledger_plan::Personnummer>,
) -> Option<Subject> {
    plan.map(Subject::Plan).or(client.map(Subject::Client))
}

fn print(body: &[u8]) -> Result<()> {
    stdout()
        .write_all(body)
        .map_err(|e| Error::io("cannot write the output", e))
}

pub fn history(ctx: &Context, a: HistoryArgs) -> Result<()> {
    if let Some(server) = ctx.server()? {
        if a.output.spreadsheet {
            return Err(Error::new(
                Kind::BadInput,
                "with --server, history takes --format csv but not --spreadsheet",
            ));
        }
        let purpose = purpose(&a.output, true)?;
        let q = query(&[
            ("as_of", remote_as_of(ctx, a.as_of)),
            (
                "reveal_personnummer",
                a.output.show_personnummer.then(|| "true".into()),
            ),
            ("format", Some(output(&a.output).format.name().into())),
            ("lang", Some(a.output.lang.name().into())),
        ]);
        let body = match (&a.plan, &a.client) {
            (Some(plan), _) => server.get(
                &format!("/v1/plans/{}/history{q}", segment(plan.as_str())),
                purpose.as_deref(),
            )?,
            // The personnummer in the body, never in the URL (proxies log URLs).
            (None, Some(client)) => {
                let body = serde_json::json!({ "client": client.digits() }).to_string();
                server
                    .call(
                        "POST",
                        &format!("/v1/clients/history{q}"),
                        purpose.as_deref(),
                        &[],
                        Some(("application/json", body.as_bytes())),
                    )?
                    .1
            }
            (None, None) => unreachable!("clap requires --plan or --client"),
        };
        return print(&body);
    }
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
    if let Some(server) = ctx.server()? {
        if a.plan.is_some() || a.client.is_some() {
            return Err(Error::new(
                Kind::BadInput,
                "with --server, audit takes --unit but not --plan or --client",
            ));
        }
        let purpose = purpose(&a.output, a.output.show_personnummer)?;
        let path = format!(
            "/v1/reports/{}{}",
            segment(a.report.name()),
            query(&[
                ("unit", a.unit.as_ref().map(|u| u.to_string())),
                ("as_of", remote_as_of(ctx, a.as_of)),
                (
                    "reveal_personnummer",
                    a.output.show_personnummer.then(|| "true".into()),
                ),
                ("format", Some(output(&a.output).format.name().into())),
                ("lang", Some(a.output.lang.name().into())),
            ])
        );
        let body = server.get(&path, purpose.as_deref())?;
        return written(&a.output, |out| {
            out.write_all(&body)
                .map_err(|e| Error::io("cannot write the output", e))
        });
    }
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
