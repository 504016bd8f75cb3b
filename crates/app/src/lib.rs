//! planledger's application layer: what a user can ask of a ledger, as a library that
//! the command line, the coming HTTP service and the tests all call, so there is one way
//! to do each thing.
//!
//! - Where a ledger lives: [`Location`] opens or creates one (an embedded redb file or a
//!   PostgreSQL database).
//! - The write path: a [`Recorder`] reads a plan's stream as stored, lets the domain
//!   decide, builds the one batch ([`batch_of`]) and appends it expecting the version
//!   read. [`import()`] feeds it [`planledger_plan::ImportLine`]s.
//! - The read side: [`read::show`], [`read::history`] and [`read::audit`] write what
//!   they find as a table, JSON or CSV, in Swedish or English; every as-of is a Swedish
//!   calendar day.
//! - Integrity: [`verify()`] (the whole ledger, against witnessed checkpoints, or from
//!   the latest one), [`witness`] (signed checkpoints), [`cosign`] (independent
//!   witnesses and witness policies), [`keys`], and [`evidence`]
//!   bundles for `verify-bundle`.
//! - Errors carry a [`Kind`] that the CLI maps to its exit codes.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use planledger_app::{Recorder, import::parse_line};
//! use planledger_store::{MemoryStore, Store};
//!
//! let store = MemoryStore::new();
//! let line = parse_line(r#"{"actor":{"user":"h7","role":"case_officer"},"command":"receive_order","plan":"plan-0001","order":"best-88","unit":"hemtjanst-norr","act":"home_care","client":"196408233234","received_on":"2026-03-02"}"#).unwrap();
//! let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let policy = planledger_plan::DeadlinePolicy::default();
//! let recorded = Recorder::new(&store, policy).record(&line.command, &line.actor, now, None).unwrap();
//! assert_eq!(recorded[0].event_type, "order_received");
//! assert_eq!(store.head().unwrap().size, 1);
//! ```

mod error;
mod files;
mod location;
mod policy;
mod recorder;

pub mod cosign;
pub mod crypt;
pub mod demo;
pub mod dossier;
pub mod evidence;
pub mod html;
pub mod import;
pub mod index;
pub mod keyed;
pub mod keys;
pub mod keystore;
pub mod keystore_pg;
pub mod limits;
pub mod map;
pub mod read;
pub mod schema;
pub mod verify;
pub mod weeding;
pub mod witness;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use error::{Error, Kind, Result};
pub use import::import;
pub use limits::Limits;
pub use location::{Location, migrate};
pub use policy::{load_policy, load_retention_policy};
pub use recorder::{Recorded, Recorder, Request, batch_of, load_plan};
pub use verify::verify;
