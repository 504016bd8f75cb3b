//! The fold: records in position order into plans and indexes.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use planledger_ledger::{Hash, Record};
use planledger_plan::{Actor, Event, Personnummer, PlanId, PlanState, UnitId, VersionRecord};
use planledger_store::Store;

use crate::ProjectionError;

/// How many records [`Projection::catch_up`] reads per call to the store.
pub const DEFAULT_CHUNK: usize = 1024;

/// One event of a plan and the record that carries it: the evidence an audit row can
/// point to (position and hash are checkable against the ledger and its proofs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    /// The record's global position.
    pub position: u64,
    /// Its version in the plan's stream (1-based); corrections refer to this.
    pub stream_version: u64,
    /// The record's hash (the Merkle leaf's input).
    pub hash: Hash,
    /// When the event happened, as its entry claims: what deadlines and "as of" count by.
    pub claimed_at: DateTime<Utc>,
    /// When the ledger sealed its record, by the store's clock; `None` for a record of
    /// layout 1, which has no sealing time.
    pub sealed_at: Option<DateTime<Utc>>,
    pub actor: Actor,
    pub event: Event,
}

impl EventRef {
    /// The event's type name (`plan_drafted`, …).
    pub fn event_type(&self) -> &'static str {
        self.event.event_type()
    }
}

/// Decodes one record into its plan id and event, checking nothing about its place.
pub(crate) fn decode_record(record: &Record) -> Result<(PlanId, EventRef), ProjectionError> {
    let position = record.position();
    let entry = record.entry();
    let (event, claimed_at, actor) =
        Event::from_entry(entry).map_err(|source| ProjectionError::Entry { position, source })?;
    let plan = PlanId::new(entry.stream_id.clone())
        .map_err(|source| ProjectionError::StreamId { position, source })?;
    Ok((
        plan,
        EventRef {
            position,
            stream_version: entry.stream_version,
            hash: record.hash(),
            claimed_at,
            sealed_at: record
                .sealed_at_micros()
                .and_then(DateTime::from_timestamp_micros),
            actor,
            event,
        },
    ))
}

/// One plan: its folded state and the records of its events, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanView {
    id: PlanId,
    state: PlanState,
    events: Vec<EventRef>,
}

impl PlanView {
    fn new(id: PlanId) -> PlanView {
        PlanView {
            id,
            state: PlanState::new(),
            events: Vec::new(),
        }
    }

    /// Folds the next event of the stream; it must be the stream's next version.
    fn push(&mut self, event: EventRef) -> Result<(), ProjectionError> {
        let expected = self.events.len() as u64 + 1;
        if event.stream_version != expected {
            return Err(ProjectionError::StreamVersion {
                position: event.position,
                expected,
                found: event.stream_version,
            });
        }
        self.state
            .apply(&event.event, event.claimed_at, &event.actor);
        self.events.push(event);
        Ok(())
    }

    /// The plan's id (its stream id).
    pub fn id(&self) -> &PlanId {
        &self.id
    }

    /// The plan as folded from every event.
    /// The plan's state, the view given up (for a writer that decides on it).
    pub fn into_state(self) -> PlanState {
        self.state
    }

    pub fn state(&self) -> &PlanState {
        &self.state
    }

    /// Every event with its record, in stream order (index `i` is stream version `i + 1`).
    pub fn events(&self) -> &[EventRef] {
        &self.events
    }

    /// The event at a stream version (1-based), as a correction refers to it.
    pub fn event(&self, stream_version: u64) -> Option<&EventRef> {
        let index = usize::try_from(stream_version.checked_sub(1)?).ok()?;
        self.events.get(index)
    }

    /// The record that made version `number` (its draft or revision).
    pub fn version_event(&self, number: u32) -> Option<&EventRef> {
        self.events.iter().rev().find(|e| {
            matches!(&e.event, Event::PlanDrafted(d) if d.version == number)
                || matches!(&e.event, Event::PlanRevised(r) if r.version == number)
        })
    }

    /// The events recorded by `at` (inclusive), in stream order.
    pub fn events_until(&self, at: DateTime<Utc>) -> impl Iterator<Item = &EventRef> {
        self.events.iter().filter(move |e| e.claimed_at <= at)
    }

    /// The plan as it stood at `at`: the fold of the events recorded by then. Borrowed
    /// when nothing was recorded later (the common case), refolded otherwise.
    pub fn state_at(&self, at: DateTime<Utc>) -> Cow<'_, PlanState> {
        if self.events.iter().all(|e| e.claimed_at <= at) {
            return Cow::Borrowed(&self.state);
        }
        Cow::Owned(PlanState::from_events(
            self.events_until(at)
                .map(|e| (&e.event, e.claimed_at, &e.actor)),
        ))
    }
}

/// [`fold_stream`] of the plan a store names by its stream id.
pub(crate) fn fold_plan(store: &dyn Store, stream_id: &str) -> Result<PlanView, ProjectionError> {
    let id = PlanId::new(stream_id).map_err(|source| ProjectionError::StreamId {
        position: 0,
        source,
    })?;
    fold_stream(store, &id)
}

/// Reads one plan's stream and folds it, without a whole projection (for deciding a
/// command on one plan). An unknown plan gives a view with no events.
pub fn fold_stream(store: &dyn Store, plan: &PlanId) -> Result<PlanView, ProjectionError> {
    let mut view = PlanView::new(plan.clone());
    loop {
        let from = view.events.len() as u64 + 1;
        let records = store.read_stream(plan.as_str(), from, DEFAULT_CHUNK)?;
        if records.is_empty() {
            return Ok(view);
        }
        for record in &records {
            let (id, event) = decode_record(record)?;
            // The stream index is the store's, not the record's: a record it names must
            // say, in its own hashed bytes, that it belongs to this plan.
            if id != *plan {
                return Err(ProjectionError::OtherStream {
                    position: record.position(),
                });
            }
            view.push(event)?;
        }
    }
}

/// The fold of a whole ledger: every plan, and the indexes the audit queries use.
///
/// Two projections of the same records are equal (`==`) however the records were
/// fed to them (one rebuild or many catch-ups).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    next_position: u64,
    last_hash: Hash,
    plans: BTreeMap<PlanId, PlanView>,
    by_client: BTreeMap<Personnummer, BTreeSet<PlanId>>,
    by_unit: BTreeMap<UnitId, BTreeSet<PlanId>>,
}

impl Projection {
    /// An empty projection, at position 0.
    pub fn new() -> Projection {
        Projection::default()
    }

    fn index(&mut self, plan: &PlanId, state: &PlanState) {
        if let Some(unit) = state.unit() {
            self.by_unit
                .entry(unit.clone())
                .or_default()
                .insert(plan.clone());
        }
        if let Some(client) = state.client() {
            self.by_client
                .entry(*client)
                .or_default()
                .insert(plan.clone());
        }
    }

    /// Folds the whole ledger from position 0.
    pub fn rebuild(store: &dyn Store) -> Result<Projection, ProjectionError> {
        let mut p = Projection::new();
        p.catch_up(store)?;
        Ok(p)
    }

    /// Folds every record from [`Projection::position`] up to the store's head, reading
    /// [`DEFAULT_CHUNK`] records at a time. Returns how many records were folded.
    pub fn catch_up(&mut self, store: &dyn Store) -> Result<u64, ProjectionError> {
        self.catch_up_in_chunks(store, DEFAULT_CHUNK)
    }

    /// [`Projection::catch_up`] with a chosen chunk size (at least 1). On an error the
    /// projection stays at the failing record, with everything before it folded.
    pub fn catch_up_in_chunks(
        &mut self,
        store: &dyn Store,
        chunk: usize,
    ) -> Result<u64, ProjectionError> {
        let chunk = chunk.max(1);
        let head = store.head()?;
        let target = head.size;
        // A projection is checked against the ledger even when there is nothing new:
        // a shortened or rewritten ledger must not keep being answered from.
        if target < self.next_position {
            return Err(ProjectionError::LedgerShorter {
                position: self.next_position,
                size: target,
            });
        }
        if target == self.next_position && head.last_hash != self.last_hash {
            return Err(ProjectionError::Diverged {
                position: self.next_position.saturating_sub(1),
            });
        }
        let mut folded = 0;
        while self.next_position < target {
            let want = usize::try_from(target - self.next_position)
                .unwrap_or(usize::MAX)
                .min(chunk);
            let records = store.read_all(self.next_position, want)?;
            if records.is_empty() {
                break;
            }
            for record in &records {
                self.apply(record)?;
                folded += 1;
            }
        }
        Ok(folded)
    }

    /// Folds one record; it must be the next position and continue the chain from the
    /// last record folded.
    pub fn apply(&mut self, record: &Record) -> Result<(), ProjectionError> {
        let position = record.position();
        if position != self.next_position {
            return Err(ProjectionError::Position {
                expected: self.next_position,
                found: position,
            });
        }
        if record.prev_hash() != self.last_hash {
            return Err(ProjectionError::Diverged { position });
        }
        // Holds and weedings (FORMAT.md §9) are no plan's: the fold steps over them.
        if record.stream_id() == planledger_plan::retention::RETENTION_STREAM {
            self.next_position = position + 1;
            self.last_hash = record.hash();
            return Ok(());
        }
        let (plan, event) = decode_record(record)?;
        let hash = event.hash;
        let is_order = matches!(event.event, Event::OrderReceived(_));
        // Checked before the map is touched, so that a failing record leaves no trace.
        let expected = self.plans.get(&plan).map_or(0, |v| v.events.len() as u64) + 1;
        if event.stream_version != expected {
            return Err(ProjectionError::StreamVersion {
                position,
                expected,
                found: event.stream_version,
            });
        }
        let view = self
            .plans
            .entry(plan.clone())
            .or_insert_with(|| PlanView::new(plan.clone()));
        view.push(event)?;
        if is_order {
            // The first order fixes unit, act and client; later orders only repeat them.
            let state = view.state.clone();
            self.index(&plan, &state);
        }
        self.next_position = position + 1;
        self.last_hash = hash;
        Ok(())
    }

    /// The next position this projection needs: the number of records folded.
    pub fn position(&self) -> u64 {
        self.next_position
    }

    /// The hash of the last record folded ([`Hash::ZERO`] before any).
    pub fn last_hash(&self) -> Hash {
        self.last_hash
    }

    /// One plan.
    pub fn plan(&self, plan: &PlanId) -> Option<&PlanView> {
        self.plans.get(plan)
    }

    /// Every plan, by plan id.
    pub fn plans(&self) -> impl Iterator<Item = &PlanView> {
        self.plans.values()
    }

    /// How many plans there are.
    pub fn plan_count(&self) -> usize {
        self.plans.len()
    }

    /// The plans of one client, by plan id.
    pub fn plans_of_client(&self, client: &Personnummer) -> impl Iterator<Item = &PlanView> {
        self.indexed(self.by_client.get(client))
    }

    /// The plans of one unit, by plan id.
    pub fn plans_in_unit(&self, unit: &UnitId) -> impl Iterator<Item = &PlanView> {
        self.indexed(self.by_unit.get(unit))
    }

    /// Every unit with at least one plan.
    pub fn units(&self) -> impl Iterator<Item = &UnitId> {
        self.by_unit.keys()
    }

    /// Every client with at least one plan.
    pub fn clients(&self) -> impl Iterator<Item = &Personnummer> {
        self.by_client.keys()
    }

    fn indexed<'a>(
        &'a self,
        ids: Option<&'a BTreeSet<PlanId>>,
    ) -> impl Iterator<Item = &'a PlanView> + 'a {
        ids.into_iter()
            .flatten()
            .filter_map(move |id| self.plans.get(id))
    }

    /// Version `number` of a plan, active or not (every version is a journal record).
    pub fn version(&self, plan: &PlanId, number: u32) -> Option<&VersionRecord> {
        self.plan(plan)?.state.version(number)
    }

    /// The current (latest) version of a plan.
    pub fn current(&self, plan: &PlanId) -> Option<&VersionRecord> {
        self.plan(plan)?.state.current_version()
    }

    /// The version of a plan in force at `at`: the latest recorded by then, none before
    /// version 1 or once the plan was closed.
    pub fn as_of(&self, plan: &PlanId, at: DateTime<Utc>) -> Option<&VersionRecord> {
        self.plan(plan)?.state.version_in_force(at)
    }
}
