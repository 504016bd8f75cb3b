//! The fold: records in position order into plans and indexes.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use planledger_ledger::{Hash, Record};
use planledger_plan::{
    ActKind, Actor, Event, Personnummer, PlanId, PlanState, UnitId, VersionRecord,
};
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
    pub recorded_at: DateTime<Utc>,
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
fn decode_record(record: &Record) -> Result<(PlanId, EventRef), ProjectionError> {
    let position = record.position();
    let entry = record.entry();
    let (event, recorded_at, actor) =
        Event::from_entry(entry).map_err(|source| ProjectionError::Entry { position, source })?;
    let plan = PlanId::new(entry.stream_id.clone())
        .map_err(|source| ProjectionError::StreamId { position, source })?;
    Ok((
        plan,
        EventRef {
            position,
            stream_version: entry.stream_version,
            hash: record.hash(),
            recorded_at,
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
    pub(crate) fn from_parts(id: PlanId, state: PlanState, events: Vec<EventRef>) -> PlanView {
        PlanView { id, state, events }
    }

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
            .apply(&event.event, event.recorded_at, &event.actor);
        self.events.push(event);
        Ok(())
    }

    /// The plan's id (its stream id).
    pub fn id(&self) -> &PlanId {
        &self.id
    }

    /// The plan as folded from every event.
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
        self.events.iter().filter(move |e| e.recorded_at <= at)
    }

    /// The plan as it stood at `at`: the fold of the events recorded by then. Borrowed
    /// when nothing was recorded later (the common case), refolded otherwise.
    pub fn state_at(&self, at: DateTime<Utc>) -> Cow<'_, PlanState> {
        if self.events.iter().all(|e| e.recorded_at <= at) {
            return Cow::Borrowed(&self.state);
        }
        Cow::Owned(PlanState::from_events(
            self.events_until(at)
                .map(|e| (&e.event, e.recorded_at, &e.actor)),
        ))
    }
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
            let (_, event) = decode_record(record)?;
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
    by_act: BTreeMap<ActKind, BTreeSet<PlanId>>,
}

impl Projection {
    /// An empty projection, at position 0.
    pub fn new() -> Projection {
        Projection::default()
    }

    /// A projection from its parts (a snapshot), with the indexes rebuilt from the plans.
    pub(crate) fn from_parts(
        next_position: u64,
        last_hash: Hash,
        plans: BTreeMap<PlanId, PlanView>,
    ) -> Projection {
        let mut p = Projection {
            next_position,
            last_hash,
            ..Projection::default()
        };
        for (id, view) in &plans {
            p.index(id, &view.state);
        }
        p.plans = plans;
        p
    }

    fn index(&mut self, plan: &PlanId, state: &PlanState) {
        if let Some(unit) = state.unit() {
            self.by_unit
                .entry(unit.clone())
                .or_default()
                .insert(plan.clone());
        }
        if let Some(act) = state.act() {
            self.by_act.entry(act).or_default().insert(plan.clone());
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

    /// The plans under one act, by plan id.
    pub fn plans_of_act(&self, act: ActKind) -> impl Iterator<Item = &PlanView> {
        self.indexed(self.by_act.get(&act))
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

#[cfg(test)]
mod tests {
    use planledger_ledger::Envelope;
    use planledger_plan::{ActKind, Command, RevisionReason, Signer, Weekday};
    use planledger_store::{AppendBatch, ExpectedVersion, NewEvent, Store};

    use super::*;
    use crate::testkit::*;

    /// Three plans in two units: a home-care plan drawn up, signed, approved and
    /// revised; an LSS plan drawn up; a home-care plan with only its order.
    fn scenario() -> Scenario {
        let s = Scenario::new();
        let norr = unit("hemtjanst-norr");
        let dv = unit("dv-solsidan");
        let p1 = plan("plan-1");
        s.ok(
            &officer(),
            at(2026, 3, 2),
            order(&p1, ActKind::HomeCare, &norr, client(0), date(2026, 3, 2)),
        );
        s.ok(
            &officer(),
            at(2026, 3, 5),
            order(
                &plan("plan-2"),
                ActKind::LssDailyActivity,
                &dv,
                client(1),
                date(2026, 3, 5),
            ),
        );
        let v1 = content(ActKind::HomeCare, &norr, client(0), date(2026, 3, 10));
        s.ok(
            &key_worker(),
            at(2026, 3, 10),
            Command::Draft {
                plan: p1.clone(),
                content: v1.clone(),
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 10),
            Command::Sign {
                plan: p1.clone(),
                version: 1,
                signer: Signer::Client,
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 12),
            Command::Submit {
                plan: p1.clone(),
                version: 1,
            },
        );
        s.ok(
            &officer(),
            at(2026, 3, 16),
            Command::Approve {
                plan: p1.clone(),
                version: 1,
            },
        );
        s.ok(
            &officer(),
            at(2026, 3, 20),
            order(
                &plan("plan-3"),
                ActKind::HomeCare,
                &norr,
                client(2),
                date(2026, 3, 20),
            ),
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 20),
            Command::Draft {
                plan: plan("plan-2"),
                content: content(ActKind::LssDailyActivity, &dv, client(1), date(2026, 3, 20)),
            },
        );
        let mut v2 = v1;
        v2.services[0].when.days.push(Weekday::Friday);
        s.ok(
            &key_worker(),
            at(2026, 4, 1),
            Command::Revise {
                plan: p1,
                reason: RevisionReason::ChangedNeeds,
                note: "Dusch även fredagar".into(),
                content: v2,
            },
        );
        s
    }

    /// Everything a query can ask, as text, so that two projections can be compared by
    /// their answers and not only by their internals.
    /// The first eight of `records`, then another plan's order at position 8.
    fn rewritten_at_8(records: &[Record]) -> planledger_store::MemoryStore {
        let rewritten = planledger_store::MemoryStore::new();
        rewritten.append_sealed(&records[..8]).unwrap();
        let command = order(
            &plan("plan-x"),
            ActKind::HomeCare,
            &unit("u"),
            client(3),
            date(2026, 4, 1),
        );
        let events =
            planledger_plan::decide(&PlanState::new(), &command, &officer(), at(2026, 4, 1))
                .unwrap();
        rewritten
            .append(AppendBatch {
                stream_id: "plan-x".into(),
                expected: ExpectedVersion::NoStream,
                actor: (&officer()).into(),
                recorded_at_micros: at(2026, 4, 1).timestamp_micros(),
                events: events
                    .iter()
                    .map(|e| NewEvent {
                        event_type: e.event_type().into(),
                        schema_version: planledger_plan::SCHEMA_VERSION,
                        envelope: Envelope::plaintext(),
                        payload: e.encode(),
                    })
                    .collect(),
            })
            .unwrap();
        rewritten
    }

    fn answers(p: &Projection) -> Vec<String> {
        let mut out = vec![format!("position {} hash {}", p.position(), p.last_hash())];
        for view in p.plans() {
            let s = view.state();
            out.push(format!(
                "{} unit={:?} act={:?} versions={:?} authority={:?} events={:?}",
                view.id(),
                s.unit(),
                s.act(),
                s.versions().iter().map(|v| v.number).collect::<Vec<_>>(),
                s.authority_state(),
                view.events()
                    .iter()
                    .map(|e| (e.position, e.stream_version, e.event_type()))
                    .collect::<Vec<_>>(),
            ));
            for day in 1..=30 {
                let when = at(2026, 4, 1) - chrono::Duration::days(day);
                out.push(format!(
                    "{} as of {when}: {:?}",
                    view.id(),
                    p.as_of(view.id(), when).map(|v| v.number)
                ));
            }
        }
        for c in p.clients() {
            out.push(format!(
                "client {c}: {:?}",
                p.plans_of_client(c)
                    .map(|v| v.id().clone())
                    .collect::<Vec<_>>()
            ));
        }
        for u in p.units() {
            out.push(format!(
                "unit {u}: {:?}",
                p.plans_in_unit(u)
                    .map(|v| v.id().clone())
                    .collect::<Vec<_>>()
            ));
        }
        out
    }

    #[test]
    fn rebuild_from_zero_answers_as_incremental_catch_ups_in_any_chunk_size() {
        let s = scenario();
        let rebuilt = Projection::rebuild(s.store()).unwrap();
        assert_eq!(rebuilt.position(), 9);
        for chunk in [1, 2, 3, 5, 100] {
            let mut p = Projection::new();
            assert_eq!(p.catch_up_in_chunks(s.store(), chunk).unwrap(), 9);
            assert_eq!(answers(&p), answers(&rebuilt), "chunk {chunk}");
            assert_eq!(p, rebuilt, "chunk {chunk}");
        }
    }

    #[test]
    fn catch_up_resumes_where_it_stopped_as_records_arrive() {
        // The same commands as `scenario`, with a catch-up after each one.
        let full = scenario();
        let s = Scenario::new();
        let mut incremental = Projection::new();
        let mut folded = 0;
        for record in full.store().read_all(0, 100).unwrap() {
            s.store().append_sealed(&[record]).unwrap();
            folded += incremental.catch_up(s.store()).unwrap();
            assert_eq!(incremental.position(), folded);
        }
        assert_eq!(incremental.catch_up(s.store()).unwrap(), 0);
        assert_eq!(answers(&incremental), answers(&full.projection()));
    }

    #[test]
    fn every_version_stays_addressable_by_number_and_by_time() {
        let p = scenario().projection();
        let p1 = plan("plan-1");
        let v1 = p.version(&p1, 1).unwrap();
        let v2 = p.version(&p1, 2).unwrap();
        assert_eq!(v1.content.services[0].when.days, vec![Weekday::Tuesday]);
        assert_eq!(
            v2.content.services[0].when.days,
            vec![Weekday::Tuesday, Weekday::Friday]
        );
        assert_eq!(v1.superseded_at, Some(at(2026, 4, 1)));
        assert_eq!(p.current(&p1).unwrap().number, 2);
        assert!(p.as_of(&p1, at(2026, 3, 9)).is_none());
        assert_eq!(p.as_of(&p1, at(2026, 3, 10)).unwrap().number, 1);
        assert_eq!(p.as_of(&p1, at(2026, 3, 31)).unwrap().number, 1);
        assert_eq!(p.as_of(&p1, at(2026, 4, 1)).unwrap().number, 2);
        assert!(p.version(&p1, 3).is_none());
        let drafted = p.plan(&p1).unwrap().version_event(1).unwrap();
        assert_eq!((drafted.position, drafted.stream_version), (2, 2));
        assert_eq!(drafted.actor, key_worker());
    }

    #[test]
    fn state_at_an_instant_sees_nothing_recorded_later() {
        let p = scenario().projection();
        let view = p.plan(&plan("plan-1")).unwrap();
        let before_approval = view.state_at(at(2026, 3, 15));
        assert!(matches!(before_approval, Cow::Owned(_)));
        assert_eq!(before_approval.versions().len(), 1);
        assert!(before_approval.versions()[0].approved.is_none());
        let now = view.state_at(at(2026, 5, 1));
        assert!(matches!(now, Cow::Borrowed(_)));
        assert_eq!(now.versions().len(), 2);
    }

    #[test]
    fn indexes_find_plans_by_client_unit_and_act() {
        let p = scenario().projection();
        let ids = |it: &mut dyn Iterator<Item = &PlanView>| {
            it.map(|v| v.id().as_str().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(ids(&mut p.plans_of_client(&client(0))), ["plan-1"]);
        assert_eq!(ids(&mut p.plans_of_client(&client(2))), ["plan-3"]);
        assert!(ids(&mut p.plans_of_client(&client(5))).is_empty());
        assert_eq!(
            ids(&mut p.plans_in_unit(&unit("hemtjanst-norr"))),
            ["plan-1", "plan-3"]
        );
        assert_eq!(
            ids(&mut p.plans_of_act(ActKind::LssDailyActivity)),
            ["plan-2"]
        );
        assert_eq!(p.units().count(), 2);
        assert_eq!(p.plan_count(), 3);
    }

    #[test]
    fn an_undecodable_payload_is_an_error_naming_its_position_and_the_fold_stops_before_it() {
        let s = scenario();
        let bad = AppendBatch {
            stream_id: "plan-9".into(),
            expected: ExpectedVersion::NoStream,
            actor: (&officer()).into(),
            recorded_at_micros: at(2026, 4, 2).timestamp_micros(),
            events: vec![NewEvent {
                event_type: "order_received".into(),
                schema_version: planledger_plan::SCHEMA_VERSION,
                envelope: Envelope::plaintext(),
                payload: vec![0, 0xff, 0xff],
            }],
        };
        s.store().append(bad).unwrap();
        let mut p = Projection::new();
        let err = p.catch_up_in_chunks(s.store(), 4).unwrap_err();
        assert!(
            matches!(
                err,
                ProjectionError::Entry {
                    position: 9,
                    source: planledger_plan::EntryError::Decode { .. }
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("record 9"), "{err}");
        assert_eq!(p.position(), 9);
        assert!(p.plan(&plan("plan-9")).is_none());
    }

    #[test]
    fn a_projection_of_another_ledger_refuses_to_continue() {
        let s = scenario();
        let mut p = Projection::rebuild(s.store()).unwrap();
        // Another ledger, longer than the one folded, with other records.
        let o = Scenario::new();
        for i in 0..10 {
            o.ok(
                &officer(),
                at(2026, 3, 2),
                order(
                    &plan(&format!("other-{i}")),
                    ActKind::HomeCare,
                    &unit("u"),
                    client(3),
                    date(2026, 3, 2),
                ),
            );
        }
        let err = p.catch_up(o.store()).unwrap_err();
        assert!(
            matches!(err, ProjectionError::Diverged { position: 9 }),
            "{err}"
        );
        assert_eq!(p.position(), 9);
    }

    #[test]
    fn a_shorter_or_rewritten_ledger_is_refused_even_with_nothing_new_to_fold() {
        let s = scenario();
        let mut p = Projection::rebuild(s.store()).unwrap();
        assert_eq!(p.catch_up(s.store()).unwrap(), 0);
        // The same ledger but for its last record.
        let shorter = planledger_store::MemoryStore::new();
        let records = s.store().read_all(0, 100).unwrap();
        shorter.append_sealed(&records[..8]).unwrap();
        let err = p.catch_up(&shorter).unwrap_err();
        assert!(
            matches!(
                err,
                ProjectionError::LedgerShorter {
                    position: 9,
                    size: 8
                }
            ),
            "{err}"
        );
        // A ledger of the same size whose last record is another.
        let rewritten = rewritten_at_8(&records);
        assert_eq!(rewritten.head().unwrap().size, 9);
        let err = p.catch_up(&rewritten).unwrap_err();
        assert!(
            matches!(err, ProjectionError::Diverged { position: 8 }),
            "{err}"
        );
        // The original still answers.
        assert_eq!(p.catch_up(s.store()).unwrap(), 0);
    }

    #[test]
    fn a_snapshot_resumes_to_the_same_answers_as_a_rebuild() {
        let s = scenario();
        let records = s.store().read_all(0, 100).unwrap();
        let partial = planledger_store::MemoryStore::new();
        partial.append_sealed(&records[..5]).unwrap();
        let early = Projection::rebuild(&partial).unwrap();
        let bytes = early.to_snapshot();
        let restored = Projection::from_snapshot(&bytes).unwrap();
        assert_eq!(restored, early);
        let mut resumed = restored;
        assert_eq!(resumed.catch_up(s.store()).unwrap(), 4);
        let rebuilt = s.projection();
        assert_eq!(answers(&resumed), answers(&rebuilt));
        assert_eq!(resumed, rebuilt);

        let text = String::from_utf8(bytes.clone()).unwrap();
        let other_format = text.replacen("\"format\":1", "\"format\":2", 1);
        let err = Projection::from_snapshot(other_format.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("format 2"), "{err}");
        assert!(matches!(
            Projection::from_snapshot(b"{\"format\":1}"),
            Err(ProjectionError::Snapshot { .. })
        ));
    }

    #[test]
    fn open_resumes_from_the_snapshot_beside_the_records_and_refreshes_it() {
        use crate::SNAPSHOT_NAME;
        let s = scenario();
        let records = s.store().read_all(0, 100).unwrap();
        let store = planledger_store::MemoryStore::new();
        store.append_sealed(&records[..5]).unwrap();
        // The first open folds from zero and leaves a snapshot at the head.
        let first = Projection::open(&store).unwrap();
        let saved = store.load_snapshot(SNAPSHOT_NAME).unwrap().unwrap();
        assert_eq!(saved.position, 5);
        // A snapshot that says something the records do not is believed: that proves
        // the next open resumed from it instead of folding from zero.
        let mut marked = first.clone();
        marked.plans.clear();
        store
            .save_snapshot(SNAPSHOT_NAME, 5, &marked.to_snapshot())
            .unwrap();
        assert_eq!(Projection::open(&store).unwrap().plans().count(), 0);
        // Appended records are folded on top of the snapshot, and the snapshot moves on.
        store
            .save_snapshot(SNAPSHOT_NAME, 5, &first.to_snapshot())
            .unwrap();
        store.append_sealed(&records[5..]).unwrap();
        let resumed = Projection::open(&store).unwrap();
        assert_eq!(answers(&resumed), answers(&s.projection()));
        let saved = store.load_snapshot(SNAPSHOT_NAME).unwrap().unwrap();
        assert_eq!(saved.position, records.len() as u64);
        // A snapshot of an unknown format is only a cache: rebuilt over.
        store
            .save_snapshot(SNAPSHOT_NAME, 3, b"{\"format\":99}")
            .unwrap();
        assert_eq!(
            answers(&Projection::open(&store).unwrap()),
            answers(&resumed)
        );
    }

    #[test]
    fn open_refuses_a_ledger_rewritten_under_its_snapshot() {
        use crate::SNAPSHOT_NAME;
        let s = scenario();
        let records = s.store().read_all(0, 100).unwrap();
        assert_eq!(records.len(), 9);
        // The snapshot was taken of the original nine records; record 8 was then
        // replaced by another one.
        let rewritten = rewritten_at_8(&records);
        let snapshot = Projection::rebuild(s.store()).unwrap().to_snapshot();
        rewritten
            .save_snapshot(SNAPSHOT_NAME, 9, &snapshot)
            .unwrap();
        let err = Projection::open(&rewritten).unwrap_err();
        assert!(
            matches!(err, ProjectionError::Diverged { position: 8 }),
            "{err}"
        );
    }

    #[test]
    fn fold_stream_gives_the_plan_as_the_whole_projection_does() {
        let s = scenario();
        let p = s.projection();
        for id in ["plan-1", "plan-2", "plan-3"] {
            let view = fold_stream(s.store(), &plan(id)).unwrap();
            assert_eq!(Some(&view), p.plan(&plan(id)));
        }
        assert!(
            fold_stream(s.store(), &plan("plan-none"))
                .unwrap()
                .events()
                .is_empty()
        );
    }
}
