//! The read side: one plan's version (`show`), a history, and the audit reports, each
//! written in the format and language asked for. Every as-of is a Swedish calendar day
//! (the ledger as it stood at the end of that day, [`Scope::cutoff`]), the same for every
//! reader.

use std::io::Write;

use chrono::NaiveDate;
use planledger_audit::{Format, Lang, Row, Scope, Subject, render};
use planledger_plan::{DeadlinePolicy, PlanId, VersionRecord, swedish_date};
use planledger_projection::{LedgerPlans, Plans};
use planledger_store::Store;
use serde::Serialize;

use crate::error::{Error, Kind, Result};
use crate::recorder::load_plan;

/// How a read is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Output {
    pub format: Format,
    pub lang: Lang,
}

/// A failed write of the output, keeping an I/O cause (a closed pipe is no failure to
/// the CLI).
fn write_failed<E: std::error::Error + 'static>(e: E) -> Error {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return Error::io(
                "cannot write the output",
                std::io::Error::new(io.kind(), io.to_string()),
            );
        }
        cause = c.source();
    }
    Error::new(Kind::Storage, format!("cannot write the output: {e}"))
}

/// Which version `show` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Current,
    Number(u32),
    /// The version in force at the end of this Swedish day.
    InForceOn(NaiveDate),
}

/// One version as `show` writes it.
#[derive(Debug, Serialize)]
struct Shown<'a> {
    plan: &'a PlanId,
    version: u32,
    versions: usize,
    recorded_on: NaiveDate,
    recorded_at: chrono::DateTime<chrono::Utc>,
    by: &'a str,
    role: &'a str,
    replaced_on: Option<NaiveDate>,
    signatures: Vec<String>,
    submitted_on: Option<NaiveDate>,
    approved_on: Option<NaiveDate>,
    content: serde_json::Value,
}

/// `show`: one version of one plan, its header and its content. Personnummer in the
/// content are masked unless `reveal_personnummer`.
pub fn show(
    store: &dyn Store,
    plan: &PlanId,
    which: Which,
    reveal_personnummer: bool,
    output: Output,
    out: &mut dyn Write,
) -> Result<()> {
    if let Some(text) = weeded_text(store, plan, output)? {
        return out.write_all(text.as_bytes()).map_err(write_failed);
    }
    let state = load_plan(store, plan)?;
    if state.plan().is_none() {
        return Err(Error::new(
            Kind::NotFound,
            format!("there is no plan {plan}"),
        ));
    }
    let chosen: &VersionRecord = match which {
        Which::Number(n) => state.version(n).ok_or_else(|| {
            Error::new(
                Kind::NotFound,
                format!(
                    "plan {plan} has no version {n}; it has {}",
                    state.versions().len()
                ),
            )
        })?,
        Which::InForceOn(day) => state
            .version_in_force(Scope::new(day).cutoff())
            .ok_or_else(|| {
                Error::new(
                    Kind::NotFound,
                    format!("no version of plan {plan} was in force on {day}"),
                )
            })?,
        Which::Current => state.current_version().ok_or_else(|| {
            Error::new(
                Kind::NotFound,
                format!("plan {plan} has no version yet (it has an order only)"),
            )
        })?,
    };
    // The state is folded from the records, which keep every version's content.
    let whole = state
        .content(chosen.number)
        .expect("a plan folded from its records has every version's content");
    let mut content = serde_json::to_value(whole).expect("plan content serialises");
    if !reveal_personnummer {
        if let Some(pnr) = content.pointer_mut("/client/personnummer") {
            *pnr = whole.client.personnummer.to_string().into();
        }
    }
    let shown = Shown {
        plan,
        version: chosen.number,
        versions: state.versions().len(),
        recorded_on: swedish_date(chosen.recorded_at),
        recorded_at: chosen.recorded_at,
        by: chosen.by.user.as_str(),
        role: chosen.by.role.as_str(),
        replaced_on: chosen.superseded_at.map(swedish_date),
        signatures: chosen
            .signatures
            .iter()
            .map(|s| s.signer.describe().to_owned())
            .collect(),
        submitted_on: chosen.submitted.as_ref().map(|s| swedish_date(s.at)),
        approved_on: chosen.approved.as_ref().map(|s| swedish_date(s.at)),
        content,
    };
    write_shown(&shown, &chosen.signatures, output, out).map_err(write_failed)
}

fn write_shown(
    s: &Shown,
    signatures: &[planledger_plan::SignatureRecord],
    Output { format, lang }: Output,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let content = serde_json::to_string_pretty(&s.content).expect("JSON serialises");
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, s)?;
            writeln!(out)
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([lang.pick("fält", "field"), lang.pick("värde", "value")])?;
            let fields = [
                (lang.pick("plan", "plan"), s.plan.to_string()),
                (lang.pick("version", "version"), s.version.to_string()),
                (lang.pick("versioner", "versions"), s.versions.to_string()),
                (
                    lang.pick("upprättad", "recorded_on"),
                    s.recorded_on.to_string(),
                ),
                (lang.pick("av", "by"), format!("{} ({})", s.by, s.role)),
                (lang.pick("ersatt", "replaced_on"), opt(s.replaced_on)),
                (
                    lang.pick("underskrifter", "signatures"),
                    s.signatures.join("; "),
                ),
                (lang.pick("skickad", "submitted_on"), opt(s.submitted_on)),
                (lang.pick("godkänd", "approved_on"), opt(s.approved_on)),
                (lang.pick("innehåll", "content"), s.content.to_string()),
            ];
            for (k, v) in fields {
                w.write_record([k, v.as_str()])?;
            }
            w.flush()
        }
        Format::Table => {
            writeln!(
                out,
                "{} {} {} {} {}, {} {} {} {} ({}){}",
                lang.pick("plan", "plan"),
                s.plan,
                lang.pick("version", "version"),
                s.version,
                lang.pick(&format!("av {}", s.versions), &format!("of {}", s.versions)),
                lang.pick("upprättad", "recorded"),
                s.recorded_on,
                lang.pick("av", "by"),
                s.by,
                s.role,
                match s.replaced_on {
                    Some(d) => format!(", {} {d}", lang.pick("ersatt", "replaced")),
                    None => String::new(),
                }
            )?;
            for sig in signatures {
                writeln!(
                    out,
                    "  {} {} {}",
                    lang.pick("undertecknad av", "signed by"),
                    sig.signer.describe(),
                    swedish_date(sig.at)
                )?;
            }
            if let Some(d) = s.submitted_on {
                writeln!(out, "  {} {d}", lang.pick("skickad", "submitted"))?;
            }
            if let Some(d) = s.approved_on {
                writeln!(out, "  {} {d}", lang.pick("godkänd", "approved"))?;
            }
            writeln!(out, "{content}")
        }
    }
}

fn opt(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// The plans of the ledger in `store`, as the reports read them: found by the store's
/// index and each folded from its own records.
pub fn plans(store: &dyn Store) -> Result<LedgerPlans<'_>> {
    Ok(LedgerPlans::open(store)?)
}

/// `history`: every version of the subject's plans and every record, as of the scope.
pub fn history(
    store: &dyn Store,
    scope: &Scope,
    subject: &Subject,
    output: Output,
    out: &mut dyn Write,
) -> Result<()> {
    if let Subject::Plan(plan) = subject {
        if let Some(text) = weeded_text(store, plan, output)? {
            return out.write_all(text.as_bytes()).map_err(write_failed);
        }
    }
    let history = planledger_audit::history(&plans(store)?, scope, subject)?;
    history
        .render(output.format, output.lang, out)
        .map_err(write_failed)?;
    out.flush().map_err(write_failed)
}

/// The audit reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Report {
    Overdue,
    Late,
    Unsigned,
    Unapproved,
    Incomplete,
    Fee,
    Overview,
    InForce,
    Backdated,
}

impl Report {
    pub const ALL: [Report; 9] = [
        Report::Overdue,
        Report::Late,
        Report::Unsigned,
        Report::Unapproved,
        Report::Incomplete,
        Report::Fee,
        Report::Overview,
        Report::InForce,
        Report::Backdated,
    ];

    /// Its name on the command line and in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Report::Overdue => "overdue",
            Report::Late => "late",
            Report::Unsigned => "unsigned",
            Report::Unapproved => "unapproved",
            Report::Incomplete => "incomplete",
            Report::Fee => "fee",
            Report::Overview => "overview",
            Report::InForce => "in-force",
            Report::Backdated => "backdated",
        }
    }

    /// Exactly what it lists: the domain document's table (docs/DOMAIN.md), from
    /// [`planledger_audit::REPORTS`].
    pub fn describe(self) -> &'static str {
        planledger_audit::REPORTS
            .iter()
            .find(|(name, _)| *name == self.name())
            .map(|(_, text)| *text)
            .expect("every report is described in planledger_audit::REPORTS")
    }
}

impl std::str::FromStr for Report {
    type Err = Error;
    fn from_str(s: &str) -> Result<Report> {
        Report::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                Error::new(
                    Kind::BadInput,
                    "unknown report; see `planledger audit --help`",
                )
            })
    }
}

fn write_rows<R: Row>(rows: &[R], output: Output, out: &mut dyn Write) -> Result<()> {
    render(rows, output.format, output.lang, &mut *out).map_err(write_failed)?;
    out.flush().map_err(write_failed)
}

/// Runs `report` over `plans` and writes its rows. `subject` narrows `in-force` to
/// one plan or client; the other reports refuse it.
pub fn write_report(
    plans: &dyn Plans,
    report: Report,
    policy: &DeadlinePolicy,
    scope: &Scope,
    subject: Option<&Subject>,
    output: Output,
    out: &mut dyn Write,
) -> Result<()> {
    use planledger_audit as a;
    if subject.is_some() && report != Report::InForce {
        return Err(Error::new(
            Kind::BadInput,
            "--plan and --client go with in-force only (use `history` for one plan or client)",
        ));
    }
    if let Some(unit) = &scope.unit {
        if !plans.has_unit(unit)? {
            return Err(Error::new(
                Kind::NotFound,
                format!("the ledger has no plan of unit {unit}"),
            ));
        }
    }
    let p = plans;
    match report {
        Report::Overdue => write_rows(&a::overdue(p, policy, scope)?, output, out),
        Report::Late => write_rows(&a::late(p, policy, scope)?, output, out),
        Report::Unsigned => write_rows(&a::unsigned(p, scope)?, output, out),
        Report::Unapproved => write_rows(&a::unapproved(p, policy, scope)?, output, out),
        Report::Incomplete => write_rows(&a::incomplete(p, scope)?, output, out),
        Report::Fee => write_rows(&a::new_client_fee(p, policy, scope)?, output, out),
        Report::Overview => write_rows(&a::overview(p, policy, scope)?, output, out),
        Report::InForce => write_rows(&a::in_force(p, scope, subject)?, output, out),
        Report::Backdated => write_rows(&a::backdated(p, policy, scope)?, output, out),
    }
}

/// What a reader is told of a weeded plan in place of its content: "weeded on DATE under
/// RULE" (with the decision), in the format and language asked for. `None` when `plan`
/// was not weeded.
pub fn weeded_text(store: &dyn Store, plan: &PlanId, output: Output) -> Result<Option<String>> {
    let Some((w, day)) = crate::weeding::weeded_plan(store, plan.as_str())? else {
        return Ok(None);
    };
    let lang = output.lang;
    Ok(Some(match output.format {
        Format::Json => format!(
            "{}\n",
            serde_json::json!({
                "plan": plan,
                "weeded_on": day,
                "rule": w.rule,
                "decision": w.decision,
                "last_entry": w.last_entry,
            })
        ),
        Format::Csv => format!(
            "{},{},{},{}\n{plan},{day},{},{}\n",
            lang.pick("plan", "plan"),
            lang.pick("gallrad", "weeded_on"),
            lang.pick("regel", "rule"),
            lang.pick("beslut", "decision"),
            csv_field(&w.rule),
            csv_field(&w.decision),
        ),
        Format::Table => format!(
            "{} {plan}: {} {day} {} {} ({} {}); {}\n",
            lang.pick("plan", "plan"),
            lang.pick("gallrad", "weeded on"),
            lang.pick("enligt", "under"),
            w.rule,
            lang.pick("beslut", "decision"),
            w.decision,
            lang.pick(
                "innehållet är förstört, kedjan och kontrollpunkterna gäller",
                "its content is destroyed; the chain and checkpoints still verify"
            ),
        ),
    }))
}

fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
