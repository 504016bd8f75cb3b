//! The write path, the one every command takes whether it came from flags, an import
//! line, the demo or a test: read the plan's stream as stored, let the domain `decide`,
//! build the batch, append it expecting the version read (so a concurrent writer is a
//! conflict, never a lost update).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use planledger_ledger::Envelope;
use planledger_plan::{
    Actor, Command, CommandId, DeadlinePolicy, Event, PlanId, PlanState, SCHEMA_VERSION, decide,
};
use planledger_projection::{fold_stream, plan_tags, state_tags, summary_bytes};
use planledger_store::{AppendBatch, Appended, ExpectedVersion, NewEvent, Store, StoreError};

use crate::error::{Error, Kind, Result};

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub event_type: &'static str,
    /// Its position in the ledger.
    pub position: u64,
    /// Its number in the plan's stream.
    pub stream_version: u64,
}

/// The batch that appends `events`, decided on `state` by `actor` at `at` (the time the
/// entry claims; the store seals it at its own), to `plan`'s
/// stream expecting it at `expected` records; applies the events to `state`. The only
/// mapping from events to a batch. The batch carries the plan's summary after the
/// events (its state without contents, [`summary_bytes`]), its state tags (next
/// deadline under `policy`, latest record, [`state_tags`]) and, when it opens the
/// stream, the plan's tags (unit, act, client, [`plan_tags`]): the store keeps them in
/// the append's transaction, so the read model is never behind the records.
pub fn batch_of(
    plan: &PlanId,
    state: &mut PlanState,
    expected: u64,
    (actor, at): (&Actor, DateTime<Utc>),
    events: &[Event],
    policy: &DeadlinePolicy,
) -> AppendBatch {
    let claimed_at_micros = at.timestamp_micros();
    // The state as a fold of the records will see it: at the record's precision.
    let at = DateTime::from_timestamp_micros(claimed_at_micros).unwrap_or(at);
    let opens = state.stream_version() == 0;
    for e in events {
        state.apply(e, at, actor);
    }
    AppendBatch {
        stream_id: plan.as_str().to_owned(),
        expected: match expected {
            0 => ExpectedVersion::NoStream,
            v => ExpectedVersion::Exact(v),
        },
        actor: actor.into(),
        claimed_at_micros,
        command_id: None,
        tags: if opens { plan_tags(state) } else { Vec::new() }
            .into_iter()
            .chain(state_tags(state, policy))
            .collect(),
        summary: Some(summary_bytes(state)),
        events: events
            .iter()
            .map(|e| NewEvent {
                event_type: e.event_type().to_owned(),
                schema_version: SCHEMA_VERSION,
                envelope: Envelope::plaintext(),
                payload: e.encode(),
            })
            .collect(),
    }
}

/// The state of one plan, folded from its stream as stored.
pub fn load_plan(store: &dyn Store, plan: &PlanId) -> Result<PlanState> {
    Ok(fold_stream(store, plan)?.into_state())
}

/// Records commands into one store. It keeps the states of the plans it has touched, so
/// a long import reads each stream once; the cache cannot go stale unnoticed, because
/// every append states the version it was decided on.
pub struct Recorder<'s> {
    store: &'s dyn Store,
    /// The deadline policy the plans' next deadlines are indexed under (readers under
    /// another policy do not use that part of the index).
    policy: DeadlinePolicy,
    plans: HashMap<PlanId, PlanState>,
}

impl<'s> Recorder<'s> {
    pub fn new(store: &'s dyn Store, policy: DeadlinePolicy) -> Recorder<'s> {
        Recorder {
            store,
            policy,
            plans: HashMap::new(),
        }
    }

    /// Decides `command` given by `actor` at `at` and appends its events atomically,
    /// expecting the plan at `expect_version` records if given (else at the version
    /// read). Nothing is written when it fails. A command without an id: see
    /// [`Recorder::record_request`].
    pub fn record(
        &mut self,
        command: &Command,
        actor: &Actor,
        at: DateTime<Utc>,
        expect_version: Option<u64>,
    ) -> Result<Vec<Recorded>> {
        self.record_request(&Request {
            command,
            actor,
            at,
            expect_version,
            command_id: None,
        })
    }

    /// Records one request as [`Recorder::record`] does. A request whose command id the
    /// ledger holds already is refused before it is decided ([`Error::already_recorded`]
    /// gives where it was recorded), so a replay is never recorded twice nor judged
    /// against the state it brought about.
    pub fn record_request(&mut self, r: &Request<'_>) -> Result<Vec<Recorded>> {
        let Request {
            command,
            actor,
            at,
            expect_version,
            command_id,
        } = *r;
        if let Some(id) = command_id {
            if let Some(position) = self.store.command_position(id.as_str())? {
                return Err(StoreError::AlreadyRecorded { position }.into());
            }
        }
        let plan = command.plan();
        // A caller who read the plan at another version than the cache holds: decide on
        // the stream as stored, not on a cache another writer may have outdated.
        if expect_version.is_some_and(|v| {
            self.plans
                .get(plan)
                .is_some_and(|s| s.stream_version() != v)
        }) {
            self.plans.remove(plan);
        }
        if !self.plans.contains_key(plan) {
            let state = load_plan(self.store, plan)?;
            self.plans.insert(plan.clone(), state);
        }
        let state = self.plans.get_mut(plan).expect("inserted above");
        let events = decide(state, command, actor, at).map_err(Error::Rejected)?;
        // The caller's expectation, if it has one, is checked by the store against the
        // stream as stored, like any other writer's.
        let expected = expect_version.unwrap_or(state.stream_version());
        let mut batch = batch_of(plan, state, expected, (actor, at), &events, &self.policy);
        batch.command_id = command_id.map(|id| id.as_str().to_owned());
        let appended = match self.store.append(batch) {
            Ok(a) => a,
            Err(e) => {
                // The cached state has the events applied, and may be behind the stream
                // besides: it goes.
                self.plans.remove(plan);
                return Err(e.into());
            }
        };
        Ok(recorded(&events, &appended))
    }

    /// Records `requests` together, in one durable commit: each is decided against its
    /// plan as it stands after the requests before it, and is all-or-nothing on its own
    /// (a rejected one writes nothing and the others go on). Returns each request's
    /// outcome in order; `Err` when the commit failed, and then none of them was
    /// written. For imports, whose lines wait for one disk flush instead of one each.
    pub fn record_group(&mut self, requests: &[Request<'_>]) -> Result<Vec<Result<Vec<Recorded>>>> {
        let mut tentative: HashMap<PlanId, PlanState> = HashMap::new();
        let mut outcomes: Vec<Option<Result<Vec<Recorded>>>> = Vec::with_capacity(requests.len());
        let mut pending = Vec::new();
        let mut batches = Vec::new();
        // A request repeating an earlier one's command id in this group: its outcome is
        // the earlier one's, known after the commit.
        let mut first_with_id: HashMap<&str, usize> = HashMap::new();
        let mut repeats: Vec<(usize, usize)> = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            if let Some(id) = r.command_id {
                if let Some(&earlier) = first_with_id.get(id.as_str()) {
                    repeats.push((i, earlier));
                    outcomes.push(None);
                    continue;
                }
                first_with_id.insert(id.as_str(), i);
                match self.store.command_position(id.as_str()) {
                    Ok(Some(position)) => {
                        outcomes.push(Some(Err(StoreError::AlreadyRecorded { position }.into())));
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let plan = r.command.plan();
            // As in `record`: a caller's version other than the cache's means the cache
            // may be outdated by another writer.
            if !tentative.contains_key(plan)
                && r.expect_version.is_some_and(|v| {
                    self.plans
                        .get(plan)
                        .is_some_and(|s| s.stream_version() != v)
                })
            {
                self.plans.remove(plan);
            }
            if !tentative.contains_key(plan) {
                // Moved, not copied (a copy of every plan's state was a tenth of an
                // import): a plan of the group goes back to the cache after the commit,
                // or is dropped from it where its append failed, as a copy would be.
                let state = match self.plans.remove(plan) {
                    Some(state) => state,
                    None => match load_plan(self.store, plan) {
                        Ok(state) => state,
                        Err(e) if e.kind() == Kind::Storage => return Err(e),
                        Err(e) => {
                            outcomes.push(Some(Err(e)));
                            continue;
                        }
                    },
                };
                tentative.insert(plan.clone(), state);
            }
            let state = tentative.get_mut(plan).expect("inserted above");
            match decide(state, r.command, r.actor, r.at) {
                Err(rejection) => outcomes.push(Some(Err(Error::Rejected(rejection)))),
                Ok(events) => {
                    let expected = r.expect_version.unwrap_or(state.stream_version());
                    // The next request of this plan is decided as if this one is recorded;
                    // if it is not, the next one's expected version makes it conflict.
                    let mut batch = batch_of(
                        plan,
                        state,
                        expected,
                        (r.actor, r.at),
                        &events,
                        &self.policy,
                    );
                    batch.command_id = r.command_id.map(|id| id.as_str().to_owned());
                    batches.push(batch);
                    pending.push((i, events));
                    outcomes.push(None);
                }
            }
        }
        let committed = match self.store.append_many(batches) {
            Ok(c) => c,
            Err(e) => {
                for plan in tentative.keys() {
                    self.plans.remove(plan);
                }
                return Err(e.into());
            }
        };
        let mut failed = std::collections::HashSet::new();
        for ((i, events), outcome) in pending.into_iter().zip(committed) {
            outcomes[i] = Some(match outcome {
                Ok(appended) => Ok(recorded(&events, &appended)),
                Err(e) => {
                    failed.insert(requests[i].command.plan().clone());
                    Err(e.into())
                }
            });
        }
        for (plan, state) in tentative {
            if failed.contains(&plan) {
                self.plans.remove(&plan);
            } else {
                self.plans.insert(plan, state);
            }
        }
        for (i, earlier) in repeats {
            outcomes[i] = Some(match &outcomes[earlier] {
                Some(Ok(recorded)) => Err(StoreError::AlreadyRecorded {
                    position: recorded[0].position,
                }
                .into()),
                Some(Err(e)) => match e.already_recorded() {
                    Some(position) => Err(StoreError::AlreadyRecorded { position }.into()),
                    None => Err(Error::new(
                        e.kind(),
                        format!("the same command as an earlier one, which was not recorded: {e}"),
                    )),
                },
                None => unreachable!("an earlier request's outcome is set"),
            });
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.expect("every request has an outcome"))
            .collect())
    }
}

/// What appending `events` as `appended` recorded, event by event.
fn recorded(events: &[Event], appended: &Appended) -> Vec<Recorded> {
    let first_version = appended.stream_version + 1 - events.len() as u64;
    events
        .iter()
        .enumerate()
        .map(|(i, e)| Recorded {
            event_type: e.event_type(),
            position: appended.first_position + i as u64,
            stream_version: first_version + i as u64,
        })
        .collect()
}

/// One command to record: what, by whom, when it happened (as claimed), the plan's
/// number of records the caller read it at (if it says), and the source system's id of
/// the command (if it has one), which makes it recorded once however often it is sent.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub command: &'a Command,
    pub actor: &'a Actor,
    pub at: DateTime<Utc>,
    pub expect_version: Option<u64>,
    pub command_id: Option<&'a CommandId>,
}
