//! The bridge to the ledger's record: an event as an [`Entry`] to seal, and an entry
//! read back into the fold. Types only; sealing and storage happen elsewhere.

use chrono::{DateTime, Utc};
use planledger_ledger::{Entry, Envelope};

use crate::event::{DecodeError, Event, SCHEMA_VERSION};
use crate::id::PlanId;
use crate::role::{Actor, ActorError};
use crate::state::PlanState;

/// Why a ledger entry is not an event of a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    #[error("stream version {stream_version}: {source}")]
    Decode {
        stream_version: u64,
        #[source]
        source: DecodeError,
    },
    #[error("stream version {stream_version}: the actor is not a user in a known role: {source}")]
    Actor {
        stream_version: u64,
        #[source]
        source: ActorError,
    },
    #[error(
        "stream version {stream_version}: the claimed time {micros} µs is outside the calendar"
    )]
    Time { stream_version: u64, micros: i64 },
    #[error(
        "stream version {stream_version}: the record says {recorded} but its payload is {decoded}"
    )]
    EventTypeMismatch {
        stream_version: u64,
        recorded: String,
        decoded: &'static str,
    },
    #[error("the payload is encrypted (key {key_id_len} bytes); decrypt it before folding")]
    Encrypted { key_id_len: usize },
}

impl Event {
    /// The entry that records this event as version `stream_version` of `plan`'s stream
    /// (plaintext envelope; encryption is a later step of the store).
    pub fn to_entry(
        &self,
        plan: &PlanId,
        stream_version: u64,
        at: DateTime<Utc>,
        actor: &Actor,
    ) -> Entry {
        Entry {
            stream_id: plan.as_str().to_owned(),
            stream_version,
            claimed_at_micros: at.timestamp_micros(),
            command_id: String::new(),
            actor: actor.into(),
            event_type: self.event_type().to_owned(),
            schema_version: SCHEMA_VERSION,
            envelope: Envelope::plaintext(),
            payload: self.encode(),
        }
    }

    /// The event of a plaintext entry, with the time it claims and its actor.
    pub fn from_entry(entry: &Entry) -> Result<(Event, DateTime<Utc>, Actor), EntryError> {
        let stream_version = entry.stream_version;
        if !entry.envelope.is_plaintext() {
            return Err(EntryError::Encrypted {
                key_id_len: entry.envelope.key_id.len(),
            });
        }
        let event =
            Event::decode_versioned(entry.schema_version, &entry.payload).map_err(|source| {
                EntryError::Decode {
                    stream_version,
                    source,
                }
            })?;
        if event.event_type() != entry.event_type {
            return Err(EntryError::EventTypeMismatch {
                stream_version,
                recorded: entry.event_type.clone(),
                decoded: event.event_type(),
            });
        }
        let at =
            DateTime::from_timestamp_micros(entry.claimed_at_micros).ok_or(EntryError::Time {
                stream_version,
                micros: entry.claimed_at_micros,
            })?;
        let actor = Actor::try_from(&entry.actor).map_err(|source| EntryError::Actor {
            stream_version,
            source,
        })?;
        Ok((event, at, actor))
    }
}

impl PlanState {
    /// Folds one ledger entry of this plan's stream; returns the event it held.
    pub fn apply_entry(&mut self, entry: &Entry) -> Result<Event, EntryError> {
        let (event, at, actor) = Event::from_entry(entry)?;
        self.apply(&event, at, &actor);
        Ok(event)
    }
}
