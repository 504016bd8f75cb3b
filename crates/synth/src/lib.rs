//! Deterministic synthetic organisations for planledger: units of every act, clients
//! with valid synthetic personnummer, and months of plan commands in time order (orders,
//! drafts, signatures, submissions, approvals and supplements, monthly reviews,
//! follow-ups, new decisions, deviations, corrections, closures), for the CLI's `demo`,
//! the end-to-end tests and the benchmarks.
//!
//! Three promises:
//! - **Accepted.** Applied in the order given, every command passes
//!   [`planledger_plan::decide`]; the generator plans each client's course in the
//!   order the domain's rules allow.
//! - **Deterministic.** The same [`Organisation`] gives the same commands, byte for
//!   byte, on every machine and in every later version: the random numbers are a
//!   hand-written splitmix64, and each client draws from its own stream, so client 42's
//!   plan is the same whether 1,000 or 1,000,000 clients are generated (with the same
//!   units).
//! - **Flawed on purpose.** A configurable share of plans is late (drawn up or sent
//!   after the deadline of the organisation's [`planledger_plan::DeadlinePolicy`]),
//!   unsigned, or incomplete (a service without who and when, the client's
//!   participation not described), so the audit queries have something to find. The
//!   others keep every deadline and have no gaps.
//!
//! The course of one plan: the case officer's order (`receive_order`); version 1 drawn
//! up by the key worker within the act's deadline, signed (client, trustee or guardian;
//! a staff member in housing support, 004) and sent; approval, or a supplement asked for
//! and delivered as a revised version; a review about monthly (002); deviations
//! recorded by staff (003) and now and then corrected; a follow-up before the date set
//! in the plan, renewing the plan; now and then a new decision adding a service; for
//! some, closure. Orders arrive over the first third of the period; office work falls
//! on weekdays, care and its deviations on every day. Times are UTC within 07:00–21:00,
//! so a command's UTC date is its Swedish date.
//!
//! Ids: plans `plan-000001` ([`plan_id`]), orders `best-000001-1`, units
//! `hemtjanst-norr` ([`Organisation::units`]), users `handlaggare-3` (case officer),
//! `kontakt-hemtjanst-norr-2` (key worker), `personal-hemtjanst-norr-5` (staff),
//! `chef-hemtjanst-norr` (unit manager).
//!
//! Memory: every client's small state plus about one month of planned steps; the
//! wording (plan contents) is built as each command is emitted.
//!
//! Texts are Swedish, as real plans are ("Dusch", "tisdagar 09:00–09:45", "Två
//! personal; kunden tvättar själv ansikte och armar"); names are obviously synthetic
//! ("Testperson 0042"). About 40 commands per client and year.
//!
//! ```
//! use planledger_synth::{Organisation, import_line};
//!
//! let org = Organisation { seed: 7, clients: 20, months: 3, ..Organisation::default() };
//! let mut lines = 0;
//! for (at, actor, command) in org.commands().unwrap() {
//!     let line = serde_json::to_string(&import_line(at, actor, command)).unwrap();
//!     assert!(line.starts_with(r#"{"actor":{"user":""#));
//!     lines += 1;
//! }
//! assert!(lines > 20 * 5);
//! ```

mod client;
mod config;
mod content;
mod course;
mod generate;
mod jsonl;
mod rng;

pub use config::{
    ConfigError, MAX_CLIENTS, MAX_MONTHS, MAX_UNITS_PER_ACT, Organisation, Unit, UnitCounts,
};
pub use generate::{Commands, plan_id};
pub use jsonl::{WriteError, import_line, write_json_lines};
