//! Supervisory audit queries over a [`Projection`], and their reports.
//!
//! Who asks (DOMAIN.md, "Who asks the ledger what"): the unit manager's self-monitoring
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
//! | [`unapproved`] | sent and not approved (awaiting decision or supplement) | unit manager |
//! | [`incomplete`] | completeness gaps of current versions, listed | unit manager |
//! | [`new_client_fee`] | home-care plans, fee payable or why not (001) | administrative officer |
//! | [`overview`] | every plan of a unit: status, dates, open findings | inspector |
//! | [`history`] | every version (who, when, signed, approved, field diff) and event | inspector, complaints |
//! | [`in_force`] | the version in force on the date | inspector |
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
//! let rows = overdue(&projection, &DeadlinePolicy::default(), &Scope::new(as_of));
//! let table = render_to_string(&rows, Format::Table, Lang::En).unwrap();
//! assert!(table.starts_with("plan  unit  act"));
//! ```

mod compliance;
mod diff;
mod error;
mod fee;
mod history;
mod overdue;
mod overview;
mod render;
mod scope;
mod text;

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
};
pub use scope::Scope;

pub use planledger_projection::Projection;

#[cfg(test)]
mod rebuild_tests {
    //! A projection caught up step by step answers every query as one rebuilt from zero.

    use planledger_plan::{ActKind, Command, DeadlinePolicy, ReviewChecklist, Signer};
    use planledger_projection::testkit::*;

    use super::*;

    /// Every query's JSON output for a scope.
    fn answers(p: &Projection, scope: &Scope) -> Vec<String> {
        let policy = DeadlinePolicy::default();
        let json = |s: Result<String, RenderError>| s.unwrap();
        let mut out = vec![
            json(render_to_string(
                &overdue(p, &policy, scope),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &unsigned(p, scope),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &unapproved(p, scope),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &incomplete(p, scope),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &new_client_fee(p, &policy, scope),
                Format::Json,
                Lang::En,
            )),
            json(render_to_string(
                &overview(p, &policy, scope),
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
