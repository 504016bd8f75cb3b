//! Supervisory audit queries over a [`Projection`], and their reports.
//!
//! Who asks (docs/DOMAIN.md, "The reports"): the unit manager's self-monitoring
//! (which plans are overdue, unsigned, unapproved, incomplete?), the case officer (late
//! plans, overdue supplements), the administrative officer (which new clients qualify
//! for the fee, seed 001), and the IVO inspector (a unit's overview, a client's history
//! with what changed, the plan in force on a date).
//!
//! The queries:
//!
//! | query | rows | who asks |
//! |---|---|---|
//! | [`overdue`] | deadlines passed and not met, days late | unit manager, case officer |
//! | [`late`] | deadlines met after their date, days late | case officer |
//! | [`unsigned`] | current versions without their required signature | unit manager |
//! | [`unapproved`] | current versions not approved, and what each waits for | unit manager |
//! | [`incomplete`] | completeness gaps of current versions, listed | unit manager |
//! | [`new_client_fee`] | home-care plans, fee payable or why not (001) | administrative officer |
//! | [`overview`] | every plan of a unit: status, dates, open findings | inspector |
//! | [`history`] | every version (who, when, signed, approved, field diff) and event | inspector, complaints |
//! | [`in_force`] | the version in force on the date | inspector |
//!
//! [`REPORTS`] says exactly what each lists, in one line per report (for `--help`).
//!
//! Every query takes the projection and a [`Scope`]: the date it is asked as of (the
//! ledger as it stood at the end of that day, deadlines counted to it), an optional
//! unit, and whether full personnummer may be shown (masked by default). It returns
//! typed rows; [`render`] writes any rows as an aligned table, JSON or CSV, headings in
//! Swedish or English ([`Lang`]).
//!
//! ```
//! use planledger_audit::{Format, Lang, Scope, overdue, render_to_string};
//! use planledger_plan::DeadlinePolicy;
//! use planledger_projection::Projection;
//!
//! let projection = Projection::new(); // normally Projection::rebuild(&store)
//! let as_of = chrono::NaiveDate::from_ymd_opt(2026, 3, 25).unwrap();
//! let rows = overdue(&projection, &DeadlinePolicy::default(), &Scope::new(as_of)).unwrap();
//! let table = render_to_string(&rows, Format::Table, Lang::En).unwrap();
//! assert!(table.starts_with("plan  unit  act"));
//! ```

mod backdated;
mod compliance;
mod diff;
mod error;
mod fee;
mod history;
mod overdue;
mod overview;
mod render;
mod scope;
mod sheet;
pub mod text;

pub use backdated::{BackdatedRow, backdated};
pub use compliance::{
    IncompleteRow, UnapprovedRow, UnsignedRow, Waiting, incomplete, unapproved, unsigned,
};
pub use diff::{FieldChange, content_diff, schedule_text};
pub use error::AuditError;
pub use fee::{FeeRow, new_client_fee};
pub use history::{
    Detail, Done, EventRow, History, InForceRow, Signature, Subject, VersionRow, history, in_force,
};
pub use overdue::{LateRow, OverdueRow, late, overdue};
pub use overview::{OverviewRow, PlanStatus, overview};
pub use render::{
    Column, Format, Lang, RenderError, Row, UnknownFormat, UnknownLang, render, render_to_string,
    spreadsheet_csv,
};
pub use scope::Scope;

pub use planledger_projection::Projection;

/// Every report, by the name the command line gives it, with one line saying exactly
/// which plans or versions it lists: the text of `--help`, and of the report table in
/// `docs/DOMAIN.md` (a test checks that each line stands there verbatim).
pub const REPORTS: &[(&str, &str)] = &[
    (
        "overdue",
        "Each deadline passed and not met by the end of the date, one row per deadline \
         (draw up, send a first version or a revision, review, follow up, deliver a \
         supplement), with the days late; plans closed by then have none.",
    ),
    (
        "late",
        "Each deadline met after its date, by the end of the date, one row per deadline, \
         with the day it was met and the days late; closed plans included.",
    ),
    (
        "unsigned",
        "The current version of each open plan that lacks the signature its act requires \
         (the client or a trustee/guardian; a staff member in housing support), with the \
         days since it was recorded.",
    ),
    (
        "unapproved",
        "The current version of each open plan that is not approved (or the plan, while \
         none is drawn up), with what it waits for: drawing up, signature, sending, the \
         case officer's decision, a supplement, or the decision after a supplement; \
         plans of an act the policy sends nothing of (housing support by default) only \
         once one was sent.",
    ),
    (
        "incomplete",
        "The current version of each open plan that lacks something its act requires, \
         its signature included, with each gap named.",
    ),
    (
        "fee",
        "Each home-care plan, with whether the new-client fee is payable for the \
         client's first plan (sent within the deadline counted from the first order, then \
         approved or supplemented as asked) and why; later versions do not change it.",
    ),
    (
        "backdated",
        "Each entry sealed by the end of the date more than the policy's \
         backdated_after_days (7 by default) after the time it claims, in ledger order: \
         who recorded what, the time the entry claims, when the ledger sealed it, and the \
         days between.",
    ),
    (
        "overview",
        "Each plan in scope (a unit's, when one is given), closed ones included, by \
         client: status, current version, the days it was drawn up, sent and approved, \
         last review, next follow-up, and counts of overdue deadlines, gaps, open \
         supplements and deviations.",
    ),
    (
        "in-force",
        "For each plan in scope (or one plan, or one client's plans), the version in force \
         at the end of the date: the latest recorded by then, or none before the first \
         version and after closing.",
    ),
    (
        "history",
        "For one plan or one client's plans, every version (who drew it up, signed, sent \
         and approved it, and what changed) and every recorded event with who and when, \
         up to the end of the date.",
    ),
];

#[cfg(test)]
mod reports_tests {
    use super::REPORTS;

    /// The project's own domain document, whose report table must say what `REPORTS`
    /// says.
    const DOMAIN_MD: &str = include_str!("../../../docs/DOMAIN.md");

    #[test]
    fn every_report_description_stands_verbatim_in_the_domain_document_report_table() {
        for (name, description) in REPORTS {
            let row = format!("| `{name}` | {description} |");
            assert!(
                DOMAIN_MD.lines().any(|l| l.trim() == row),
                "docs/DOMAIN.md's report table has no line\n{row}"
            );
        }
    }

    #[test]
    fn the_domain_document_report_table_lists_no_report_that_reports_does_not() {
        let start = DOMAIN_MD
            .find("| report | what it lists |")
            .expect("docs/DOMAIN.md has the report table");
        let names: Vec<&str> = DOMAIN_MD[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| l.split('`').nth(1))
            .collect();
        let expected: Vec<&str> = REPORTS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, expected);
    }
}

#[cfg(test)]
mod rebuild_tests {
    //! A projection caught up step by step answers every query as one rebuilt from zero.

    use planledger_app::testkit::*;
    use planledger_plan::{ActKind, Command, DeadlinePolicy, ReviewChecklist, Signer};

    use super::*;

    /// Every query's JSON output for a scope.
    fn answers(p: &Projection, scope: &Scope) -> Vec<String> {
        let policy = DeadlinePolicy::default();
        let json = |s: Result<String, RenderError>| s.unwrap();
        let mut out = vec![
            json(render_to_string(
                &overdue(p, &policy, scope).unwrap(),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &unsigned(p, scope).unwrap(),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &unapproved(p, &policy, scope).unwrap(),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &incomplete(p, scope).unwrap(),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &new_client_fee(p, &policy, scope).unwrap(),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &overview(p, &policy, scope).unwrap(),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &in_force(p, scope, None).unwrap(),
                Format::Json,
                Lang::En,
            )),
        ];
        for c in p.clients() {
            let h = history(p, scope, &Subject::Client(*c));
            out.push(format!("{h:?}"));
        }
        out
    }

    fn scenario() -> Scenario {
        let s = Scenario::new();
        let u = unit("hemtjanst-norr");
        let dv = unit("dv-solsidan");
        for (n, id, act, unit_id) in [
            (0, "p-0", ActKind::HomeCare, &u),
            (2, "p-2", ActKind::HomeCare, &u),
            (3, "p-3", ActKind::LssDailyActivity, &dv),
        ] {
            let p = plan(id);
            s.ok(
                &officer(),
                at(2026, 3, 2),
                order(&p, act, unit_id, client(n), date(2026, 3, 2)),
            );
            if n != 2 {
                s.ok(
                    &key_worker(),
                    at(2026, 3, 9),
                    Command::Draft {
                        plan: p.clone(),
                        content: content(act, unit_id, client(n), date(2026, 3, 9)),
                    },
                );
                s.ok(
                    &key_worker(),
                    at(2026, 3, 10),
                    Command::Sign {
                        plan: p.clone(),
                        version: 1,
                        signer: Signer::Client,
                    },
                );
                s.ok(
                    &key_worker(),
                    at(2026, 3, 11),
                    Command::Submit {
                        plan: p.clone(),
                        version: 1,
                    },
                );
            }
        }
        s.ok(
            &officer(),
            at(2026, 3, 13),
            Command::Approve {
                plan: plan("p-0"),
                version: 1,
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 4, 10),
            Command::RecordReview {
                plan: plan("p-0"),
                version: 1,
                checklist: ReviewChecklist::default(),
                findings: "Målen behöver förtydligas".into(),
            },
        );
        s.ok(
            &staff(),
            at(2026, 4, 12),
            Command::RecordDeviation {
                plan: plan("p-3"),
                occurred_on: date(2026, 4, 12),
                service: None,
                description: "Aktiviteten ställdes in".into(),
            },
        );
        s
    }

    #[test]
    fn queries_answer_the_same_after_incremental_catch_ups_as_after_a_rebuild() {
        let full = scenario();
        let records = full.store().read_all(0, 1000).unwrap();
        let partial = MemoryStore::new();
        let mut incremental = Projection::new();
        let scopes = [
            Scope::new(date(2026, 3, 10)),
            Scope::new(date(2026, 3, 31)),
            Scope::new(date(2026, 5, 1)).unit(unit("hemtjanst-norr")),
        ];
        // Records arrive two at a time; the projection resumes after each pair and
        // must then answer as a projection rebuilt from zero over the same records.
        for pair in records.chunks(2) {
            partial.append_sealed(pair).unwrap();
            incremental.catch_up_in_chunks(&partial, 3).unwrap();
            let rebuilt = Projection::rebuild(&partial).unwrap();
            for scope in &scopes {
                assert_eq!(answers(&incremental, scope), answers(&rebuilt, scope));
            }
        }
        assert_eq!(incremental.position(), records.len() as u64);
        // And the answers are not empty: the comparison compared something.
        let last = answers(&incremental, &scopes[2]);
        assert!(last[0].contains("\"draw_up\""), "{}", last[0]);
        assert!(last[6].contains("\"approved\""), "{}", last[6]);
    }
}
