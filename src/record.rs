//! Recording commands: the one path every write takes, whether the command came from
//! flags or from an import line. Load the plan's state from its stream, let the domain
//! `decide`, append the events with the version read (so a concurrent writer is a
//! conflict, never a lost update).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use planledger_ledger::{Envelope, Record};
use planledger_plan::{
    Actor, Command, Event, PlanId, PlanState, Rejection, SCHEMA_VERSION, decide,
};
use planledger_store::{AppendBatch, ExpectedVersion, NewEvent, Store, StoreError};

use crate::exit::{Exit, of_rejection, of_store_error};

/// Records read per call when loading a stream.
const READ_CHUNK: usize = 1024;

/// Why a command was not recorded. Nothing of it was written.
#[derive(Debug)]
pub enum RecordError {
    /// The domain refused it.
    Rejected(Rejection),
    /// The store refused or failed (a conflict is one).
    Store(StoreError),
    /// A stored record of the plan does not decode as an event of this domain.
    Unreadable { position: u64, reason: String },
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::Rejected(r @ Rejection::NoOrder { .. }) => {
                write!(f, "no such plan: {r}")
            }
            RecordError::Rejected(r) => write!(f, "rejected ({}): {r}", r.rule()),
            RecordError::Store(e) => write!(f, "{e}"),
            RecordError::Unreadable { position, reason } => write!(
                f,
                "the record at position {position} cannot be read as an event ({reason}); \
                 run `planledger verify`"
            ),
        }
    }
}

impl std::error::Error for RecordError {}

impl RecordError {
    pub fn exit(&self) -> Exit {
        match self {
            RecordError::Rejected(r) => of_rejection(r),
            RecordError::Store(e) => of_store_error(e),
            RecordError::Unreadable { .. } => Exit::Verification,
        }
    }

    /// Whether the failure is the store's (I/O), after which an import stops: later
    /// lines would fail the same way.
    pub fn is_storage(&self) -> bool {
        matches!(self, RecordError::Store(e) if of_store_error(e) == Exit::Storage)
    }
}

/// One recorded event.
#[derive(Debug, Clone)]
pub struct RecordedEvent {
    pub event_type: &'static str,
    pub position: u64,
    pub stream_version: u64,
}

/// Decodes a stored record into its event, time and actor.
pub fn decode(record: &Record) -> Result<(Event, DateTime<Utc>, Actor), RecordError> {
    let unreadable = |reason: String| RecordError::Unreadable {
        position: record.position(),
        reason,
    };
    let entry = record.entry();
    let event = Event::decode_versioned(entry.schema_version, record.payload())
        .map_err(|e| unreadable(e.to_string()))?;
    let at = DateTime::<Utc>::from_timestamp_micros(entry.recorded_at_micros)
        .ok_or_else(|| unreadable("its time is out of range".into()))?;
    let actor = Actor::try_from(&entry.actor).map_err(|e| unreadable(e.to_string()))?;
    Ok((event, at, actor))
}

/// Every record of one stream, in version order.
pub fn read_stream(store: &dyn Store, stream: &str) -> Result<Vec<Record>, StoreError> {
    let mut out = Vec::new();
    loop {
        let chunk = store.read_stream(stream, out.len() as u64 + 1, READ_CHUNK)?;
        let done = chunk.len() < READ_CHUNK;
        out.extend(chunk);
        if done {
            return Ok(out);
        }
    }
}

/// The state of one plan, folded from its stream.
pub fn load_plan(store: &dyn Store, plan: &PlanId) -> Result<PlanState, RecordError> {
    let mut state = PlanState::new();
    for record in read_stream(store, plan.as_str()).map_err(RecordError::Store)? {
        let (event, at, actor) = decode(&record)?;
        state.apply(&event, at, &actor);
    }
    Ok(state)
}

/// Records commands into one store, keeping the states of the plans it has touched so
/// that a long import reads each stream once. The cache cannot go stale unnoticed:
/// every append states the version it was decided on.
pub struct Recorder<'s> {
    store: &'s dyn Store,
    plans: HashMap<PlanId, PlanState>,
}

impl<'s> Recorder<'s> {
    pub fn new(store: &'s dyn Store) -> Recorder<'s> {
        Recorder {
            store,
            plans: HashMap::new(),
        }
    }

    /// Decides `command` given by `actor` at `at` and appends its events atomically,
    /// expecting the plan at `expect_version` records if given (else at the version
    /// read).
    pub fn record(
        &mut self,
        command: &Command,
        actor: &Actor,
        at: DateTime<Utc>,
        expect_version: Option<u64>,
    ) -> Result<Vec<RecordedEvent>, RecordError> {
        let plan = command.plan();
        if !self.plans.contains_key(plan) {
            let state = load_plan(self.store, plan)?;
            self.plans.insert(plan.clone(), state);
        }
        let state = self.plans.get_mut(plan).expect("inserted above");
        let events = decide(state, command, actor, at).map_err(RecordError::Rejected)?;
        let current = state.stream_version();
        let batch = AppendBatch {
            stream_id: plan.as_str().to_owned(),
            // The caller's expectation, if it has one, is checked by the store against
            // the stream as stored, like any other writer's.
            expected: match expect_version.unwrap_or(current) {
                0 => ExpectedVersion::NoStream,
                v => ExpectedVersion::Exact(v),
            },
            actor: actor.into(),
            recorded_at_micros: at.timestamp_micros(),
            events: events
                .iter()
                .map(|e| NewEvent {
                    event_type: e.event_type().to_owned(),
                    schema_version: SCHEMA_VERSION,
                    envelope: Envelope::plaintext(),
                    payload: e.encode(),
                })
                .collect(),
        };
        let appended = match self.store.append(batch) {
            Ok(a) => a,
            Err(e) => {
                // Whatever happened, the cached state may be behind the stream now.
                self.plans.remove(plan);
                return Err(RecordError::Store(e));
            }
        };
        let first_version = appended.stream_version + 1 - events.len() as u64;
        Ok(events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                state.apply(e, at, actor);
                RecordedEvent {
                    event_type: e.event_type(),
                    position: appended.first_position + i as u64,
                    stream_version: first_version + i as u64,
                }
            })
            .collect())
    }
}
