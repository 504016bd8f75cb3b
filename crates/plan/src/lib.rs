//! The domain of planledger: implementation plans (genomförandeplaner) in Swedish social
//! care, as events, commands, roles, deadlines and completeness rules.
//!
//! This is where the source routines (`shared/seeds/000`–`004`, summarised in
//! docs/DOMAIN.md) become code. The crate is pure: no I/O, no storage, no clock. Time is
//! always passed in.
//!
//! The shape:
//! - One plan is one stream in the ledger; its stream id is the [`PlanId`] (opaque,
//!   never derived from a personnummer). Its first event is always
//!   [`Event::OrderReceived`], which fixes the plan's unit, act and client and starts the
//!   deadline clock.
//! - [`decide`] turns a [`Command`] given by an [`Actor`] at a time into [`Event`]s, or a
//!   [`Rejection`] that says which rule was broken and what would satisfy it.
//! - [`PlanState`] is the fold of one plan's events ([`PlanState::apply`], each event with
//!   its recorded time and actor): every version kept whole, signatures, the authority's
//!   decisions, reviews, follow-ups, deviations, corrections; and from it the due dates
//!   and what is overdue ([`PlanState::overdue`]), the version in force at a time, and
//!   the new-client fee of seed 001 ([`PlanState::new_client_fee`]).
//! - [`DeadlinePolicy`] holds an organisation's deadlines per act, from TOML, with
//!   docs/DOMAIN.md's defaults; [`completeness`] lists what a version lacks for its act.
//! - Events are stored as record payloads: [`Event::encode`] / [`Event::decode`]
//!   (postcard, schema [`SCHEMA_VERSION`]), named by [`Event::event_type`];
//!   [`Event::to_entry`] builds the ledger entry to seal and [`PlanState::apply_entry`]
//!   folds one read back.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use planledger_plan::*;
//!
//! let officer = Actor::new(UserId::new("handlaggare-7").unwrap(), Role::CaseOfficer);
//! let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let order: Command = serde_json::from_str(r#"{"command":"receive_order","plan":"plan-0001",
//!     "order":"best-88","unit":"hemtjanst-norr","act":"home_care",
//!     "client":"196408233234","received_on":"2026-03-02"}"#).unwrap();
//!
//! let mut state = PlanState::new();
//! for event in decide(&state, &order, &officer, now).unwrap() {
//!     let bytes = event.encode(); // the record's payload
//!     assert_eq!(Event::decode(&bytes).unwrap(), event);
//!     state.apply(&event, now, &officer);
//! }
//! // Home care (001): the plan is due 14 days after the order.
//! let policy = DeadlinePolicy::default();
//! let late = state.overdue(&policy, chrono::NaiveDate::from_ymd_opt(2026, 3, 20).unwrap());
//! assert_eq!(late[0].kind, DueKind::DrawUp);
//! assert_eq!(late[0].days_late, 4);
//! ```
//!
//! # Commands as JSON Lines
//!
//! One object per line, tagged by `"command"`, snake_case; dates `"YYYY-MM-DD"`, times
//! `"HH:MM"`, personnummer as 12 digits. Fields marked `#[serde(default)]` in [`Command`]
//! may be left out. One line of each:
//!
//! ```
//! # use planledger_plan::Command;
//! let lines = r#"
//! {"command":"receive_order","plan":"plan-0001","order":"best-88","unit":"hemtjanst-norr","act":"home_care","client":"196408233234","received_on":"2026-03-02","granted_services":["personlig omvårdnad","dusch"]}
//! {"command":"draft","plan":"plan-0001","content":{"provider":"Hemtjänst Norr","unit":"hemtjanst-norr","act":"home_care","client":{"name":"Testperson Ett","personnummer":"196408233234"},"key_worker":{"name":"Kim Kontakt"},"drawn_up_on":"2026-03-10","adopted_on":"2026-03-10","service_starts_on":"2026-03-11","follow_up":{"on":"2026-09-10","how":"Uppföljning med kund och kontaktperson"},"services":[{"what":"Dusch","when":{"days":["tuesday"],"start":"09:00","end":"09:45"},"how":"Två personal; kunden tvättar själv ansikte och armar","who":"Hemtjänstgrupp Norr, kontaktperson","goal":"Kunden känner sig ren och trygg i duschen"}],"goals":["Bo kvar hemma tryggt"],"participation":{"client_took_part":true,"how":"Kunden deltog i mötet hemma","views_considered":"Kunden vill duscha på förmiddagen"},"participants":[{"name":"Dotter","role":"relative"}]}}
//! {"command":"revise","plan":"plan-0001","reason":"changed_needs","note":"Behöver hjälp även kvällstid","content":{"provider":"Hemtjänst Norr","unit":"hemtjanst-norr","act":"home_care","client":{"name":"Testperson Ett","personnummer":"196408233234"}}}
//! {"command":"sign","plan":"plan-0001","version":2,"signer":"client"}
//! {"command":"sign","plan":"plan-0001","version":2,"signer":"trustee"}
//! {"command":"sign","plan":"plan-0001","version":2,"signer":"staff:anna-s"}
//! {"command":"submit","plan":"plan-0001","version":2}
//! {"command":"approve","plan":"plan-0001","version":2}
//! {"command":"request_supplement","plan":"plan-0001","version":2,"reason":"Ange tider för inköp","due_on":"2026-03-20"}
//! {"command":"provide_supplement","plan":"plan-0001","version":3,"note":"Tider för inköp tillagda"}
//! {"command":"record_review","plan":"plan-0001","version":3,"checklist":{"participation_described":true,"services_and_goals_clear":true,"usable_by_new_staff":true,"matches_order":true},"findings":"Inga brister"}
//! {"command":"record_follow_up","plan":"plan-0001","version":3,"findings":"Insatserna fungerar","next_follow_up_on":"2027-03-01"}
//! {"command":"record_deviation","plan":"plan-0001","occurred_on":"2026-04-02","service":"Dusch","description":"Duschen uteblev, personalbrist"}
//! {"command":"correct","plan":"plan-0001","refers_to":12,"note":"Avvikelsen gällde 2026-04-03"}
//! {"command":"close","plan":"plan-0001","reason":"moved","closed_on":"2026-12-31"}
//! "#;
//! for line in lines.lines().filter(|l| !l.is_empty()) {
//!     let command: Command = serde_json::from_str(line).unwrap();
//!     assert_eq!(command.plan().as_str(), "plan-0001");
//! }
//! ```
//!
//! # Roles
//!
//! | command | may be given by |
//! |---|---|
//! | receive_order | case officer, unit manager, admin |
//! | draft, revise, submit, provide_supplement | key worker, unit manager, admin |
//! | sign | key worker, staff, unit manager, admin (a staff signature only by that staff member) |
//! | approve, request_supplement | case officer |
//! | record_review, record_follow_up | key worker, unit manager |
//! | record_deviation | staff, key worker, unit manager |
//! | correct | key worker, staff, unit manager, case officer, admin |
//! | close | key worker, unit manager, case officer, admin |
//!
//! Inspectors (IVO) and administrative officers only read.
//!
//! # Dates
//!
//! Deadlines count calendar days between dates. The date of a recorded event is the
//! Swedish calendar date of its recorded time ([`swedish_date`]: Europe/Stockholm, CET
//! and CEST, from the time-zone database); business dates given in commands
//! (`received_on`, `due_on`, …) are taken as written. "Today" in [`decide`] is the
//! Swedish date of `now`. "As of a date" means up to [`end_of_swedish_day`], and a time
//! shown to a person is [`format_local`] (Swedish local time with its offset).

mod calendar;
mod command;
mod completeness;
mod content;
mod decide;
mod diff;
mod event;
mod id;
pub mod json;
mod line;
mod policy;
mod record;
pub mod retention;
mod role;
mod state;

pub use calendar::{
    end_of_swedish_day, format_local, start_of_swedish_day, swedish_date, swedish_time,
};
pub use command::Command;
pub use completeness::{Gap, LifeAreaField, ServiceField, completeness};
pub use content::{
    ActKind, Client, ClinicalOrderRef, Clinician, Collaboration, FollowUpPlan, KeyWorkerRef,
    LifeArea, PartOfDay, Participant, ParticipantRole, Participation, Partner, PlanContent,
    RoutineNote, RoutineTopic, Schedule, Service, SignatureRequirement, TimeOfDay, TimeOfDayError,
    TimedNeed, UnknownActKind, Weekday,
};
pub use decide::{Rejection, allowed_roles, decide};
pub use diff::{Change, changes};
pub use event::{
    CloseReason, CorrectionNoted, DecodeError, DeviationRecorded, EVENT_TYPES, EncodeError, Event,
    FollowUpDone, OrderReceived, PlanApproved, PlanClosed, PlanDrafted, PlanRevised, PlanSigned,
    PlanSubmitted, RepresentativeKind, ReviewChecklist, ReviewDone, RevisionReason, SCHEMA_VERSION,
    Signer, SupplementProvided, SupplementRequested, UnknownSigner,
};
pub use id::{
    CommandId, IdError, OrderId, Personnummer, PersonnummerError, PlanId, UnitId, UserId,
    looks_like_personnummer,
};
pub use line::ImportLine;
pub use policy::{ActDeadlines, DeadlinePolicy, PolicyError};
pub use record::EntryError;
pub use role::{Actor, ActorError, Role, UnknownRole};
pub use state::{
    AuthorityState, ClosedRecord, CorrectionRecord, DeviationRecord, Due, DueKind, FeeDecision,
    FeeReason, FollowUpRecord, OrderRecord, Overdue, PlanState, ProvidedRecord, ReviewRecord,
    SignatureRecord, Stamp, SubmissionRecord, SupplementRecord, VersionRecord,
};
