//! Weeding (*gallring*) by crypto-shredding: legal holds, who is due under the
//! retention rules, and the weeding itself: one `client_weeded` event per client in the
//! retention stream, the client's plans dropped from the read model, and the client's
//! key destroyed in the key store. The ledger's bytes never change, so the chain and
//! every checkpoint signed before still verify.
//!
//! **Order and crashes.** A client is weeded in three steps: (1) its weeding event is
//! appended (durable), (2) its plans' tags and summaries are removed, (3) its key is
//! destroyed. The event is the decision: a run killed after (1) leaves a client whose
//! event is recorded and whose key still exists, and every later `weed` (dry runs
//! excepted) first finishes such clients ([`finish_pending`]). Meanwhile every reader
//! sees the client weeded: the [`KeyedStore`] treats a key whose weeding is recorded as
//! destroyed and the weeded plans as gone from the read model. Killed before (1), the
//! client is untouched. `tests/e2e_weeding_crash.rs` kills real `weed` processes at
//! random moments and checks both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use planledger_ledger::Envelope;
use planledger_plan::retention::{
    self, CLIENT_WEEDED, Due, HOLD_ADDED, HOLD_RELEASED, Hold, RETENTION_SCHEMA, RETENTION_STREAM,
    RetentionCommand, RetentionPolicy, Weeded,
};
use planledger_plan::{ActKind, Actor, Personnummer, PlanId, swedish_date};
use planledger_projection::fold_stream;
use planledger_store::{AppendBatch, ExpectedVersion, NewEvent, Store};

use crate::crypt::{self, Kek, KeyId};
use crate::error::{Error, Kind, Result};
use crate::keyed::{KeyedStore, tag_of_key};
use crate::keystore::{KEYS_FILE, KeyStore, RedbKeyStore};

/// The `client` tag (as in `planledger_projection::TAG_CLIENT`).
const TAG_CLIENT: &str = "client";

/// Opens (or, given a KEK for the first time, creates) the key store of the ledger in
/// `dir`.
pub fn open_key_store(dir: &Path, kek: &Kek) -> Result<Arc<dyn KeyStore>> {
    let path = dir.join(KEYS_FILE);
    Ok(if path.exists() {
        Arc::new(RedbKeyStore::open(&path, kek)?)
    } else {
        Arc::new(RedbKeyStore::create(&path, kek)?)
    })
}

/// What the retention stream says: the clients held now, and those weeded.
#[derive(Debug, Default)]
pub struct RetentionState {
    /// Clients with a hold not released.
    pub held: BTreeSet<KeyId>,
    /// Clients weeded, with their weeding and the day it was recorded.
    pub weeded: BTreeMap<KeyId, (Weeded, NaiveDate)>,
}

impl RetentionState {
    /// The weeding that covered `plan`, if any.
    pub fn weeding_of_plan(&self, plan: &str) -> Option<&(Weeded, NaiveDate)> {
        self.weeded
            .values()
            .find(|(w, _)| w.plans.iter().any(|p| p == plan))
    }
}

/// Reads the retention stream. A hold of a weeded client stays sealed and is skipped.
pub fn retention_state(store: &dyn Store) -> Result<RetentionState> {
    let mut state = RetentionState::default();
    let mut from = 1;
    loop {
        let records = store.read_stream(RETENTION_STREAM, from, 1024)?;
        if records.is_empty() {
            return Ok(state);
        }
        for r in &records {
            from = r.stream_version() + 1;
            let e = r.entry();
            if !e.envelope.is_plaintext() {
                continue;
            }
            let bad = || {
                Error::new(
                    Kind::Storage,
                    format!(
                        "the retention record at position {} does not decode",
                        r.position()
                    ),
                )
            };
            match e.event_type.as_str() {
                HOLD_ADDED | HOLD_RELEASED => {
                    let h = retention::decode_hold(&e.payload).ok_or_else(bad)?;
                    let id = KeyId::from_hex(&h.key_id).ok_or_else(bad)?;
                    if e.event_type == HOLD_ADDED {
                        state.held.insert(id);
                    } else {
                        state.held.remove(&id);
                    }
                }
                CLIENT_WEEDED => {
                    let w = retention::decode_weeded(&e.payload).ok_or_else(bad)?;
                    let id = KeyId::from_hex(&w.key_id).ok_or_else(bad)?;
                    let day = DateTime::from_timestamp_micros(e.claimed_at_micros)
                        .map(swedish_date)
                        .ok_or_else(bad)?;
                    state.weeded.insert(id, (w, day));
                }
                _ => return Err(bad()),
            }
        }
    }
}

fn no_client() -> Error {
    Error::new(
        Kind::NotFound,
        "the ledger has no encrypted plans of this client (--client)",
    )
}

/// Whether `actor` may give `command`: the domain's rule
/// ([`planledger_plan::retention::authorize`]), a [`Error::Rejected`] when not.
pub fn authorize(command: RetentionCommand, actor: &Actor) -> Result<()> {
    retention::authorize(command, actor).map_err(Error::Rejected)
}

/// Places (`add`) or releases a legal hold on `client`, recorded as an event sealed
/// under the client's key. Releasing a client not held, or holding one held already,
/// is refused; so is an actor whose role may not ([`authorize`]).
pub fn hold(
    store: &KeyedStore,
    client: &Personnummer,
    add: bool,
    reason: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<u64> {
    authorize(
        if add {
            RetentionCommand::AddHold
        } else {
            RetentionCommand::ReleaseHold
        },
        actor,
    )?;
    if reason.trim().is_empty() {
        return Err(Error::new(
            Kind::BadInput,
            "--reason: a hold needs a reason",
        ));
    }
    let id = store
        .keys()
        .key_of_client(&client.digits(), false)?
        .ok_or_else(no_client)?;
    let state = retention_state(store)?;
    // Recorded as weeded, its key not yet destroyed (a `weed` killed between its
    // steps): the client is weeded, and unknown like any other weeded client.
    if state.weeded.contains_key(&id) {
        return Err(no_client());
    }
    if add && state.held.contains(&id) {
        return Err(Error::new(
            Kind::BadInput,
            "--client: the client is held already; release the hold first",
        ));
    }
    if !add && !state.held.contains(&id) {
        return Err(Error::new(
            Kind::BadInput,
            "--client: the client has no hold to release",
        ));
    }
    let key = store.keys().data_key(id)?.ok_or_else(no_client)?;
    let event_type = if add { HOLD_ADDED } else { HOLD_RELEASED };
    let version = store.stream_version(RETENTION_STREAM)?;
    let payload = retention::encode_hold(&Hold {
        key_id: id.to_hex(),
        reason: reason.to_owned(),
    });
    let ad = crypt::payload_ad(RETENTION_STREAM, version + 1, event_type);
    let (nonce, ct) = crypt::seal(&key, &ad, &payload)?;
    let appended = store.append(retention_batch(
        version,
        actor,
        at,
        NewEvent {
            event_type: event_type.to_owned(),
            schema_version: RETENTION_SCHEMA,
            envelope: Envelope {
                key_id: id.0.to_vec(),
                nonce: nonce.to_vec(),
            },
            payload: ct,
        },
    ))?;
    Ok(appended.first_position)
}

fn retention_batch(version: u64, actor: &Actor, at: DateTime<Utc>, event: NewEvent) -> AppendBatch {
    AppendBatch {
        stream_id: RETENTION_STREAM.to_owned(),
        expected: match version {
            0 => ExpectedVersion::NoStream,
            v => ExpectedVersion::Exact(v),
        },
        actor: actor.into(),
        claimed_at_micros: at.timestamp_micros(),
        command_id: None,
        events: vec![event],
        tags: Vec::new(),
        summary: None,
    }
}

/// One client as retention judges them.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub key_id: KeyId,
    pub client: Personnummer,
    pub plans: Vec<String>,
    pub last_entry: NaiveDate,
    pub due: Due,
    pub held: bool,
    /// Some record of the client's was written before encryption: destroying the key
    /// would not make it unreadable, so the client is not weeded (README, "Weeding").
    pub plaintext: bool,
}

impl Candidate {
    /// Whether `weed` weeds this client.
    pub fn weeds(&self) -> bool {
        matches!(self.due, Due::Due { .. }) && !self.held && !self.plaintext
    }
}

/// Every client with a key, judged under `policy` as of `as_of`, by personnummer.
pub fn candidates(
    store: &KeyedStore,
    policy: &RetentionPolicy,
    as_of: NaiveDate,
) -> Result<Vec<Candidate>> {
    let state = retention_state(store)?;
    let mut out = Vec::new();
    for id in store.keys().key_ids()? {
        if state.weeded.contains_key(&id) {
            continue;
        }
        let Some(digits) = store.keys().client_of(id)? else {
            continue;
        };
        let client = Personnummer::parse(&digits).map_err(|_| {
            Error::new(
                Kind::Storage,
                "a key's client in the key store is not a personnummer",
            )
        })?;
        let inner = store.inner();
        let mut plans = inner.streams_tagged(TAG_CLIENT, &tag_of_key(id))?;
        plans.extend(inner.streams_tagged(TAG_CLIENT, &digits)?);
        plans.sort();
        plans.dedup();
        let (mut acts, mut latest, mut plaintext) = (Vec::<ActKind>::new(), None, false);
        for plan in &plans {
            let plan_id = PlanId::new(plan.clone())
                .map_err(|_| Error::new(Kind::Storage, "a tagged stream is not a plan id"))?;
            let view = fold_stream(store, &plan_id)?;
            acts.extend(view.state().act());
            latest = latest.max(view.state().latest());
            plaintext |= inner
                .read_stream(plan, 1, usize::MAX)?
                .iter()
                .any(|r| r.entry().envelope.is_plaintext());
        }
        let Some(latest) = latest else { continue };
        let last_entry = swedish_date(latest);
        out.push(Candidate {
            key_id: id,
            due: retention::due(policy, &client, &acts, last_entry, as_of),
            held: state.held.contains(&id),
            client,
            plans,
            last_entry,
            plaintext,
        });
    }
    out.sort_by_key(|c| c.client.digits());
    Ok(out)
}

/// Finishes every weeding whose event is recorded but whose key still exists (a run
/// killed between its steps): removes the plans from the read model and destroys the
/// key. Returns how many it finished.
pub fn finish_pending(store: &KeyedStore) -> Result<usize> {
    let state = retention_state(store)?;
    let mut finished = 0;
    for (id, (w, _)) in &state.weeded {
        if store.keys().data_key(*id)?.is_some() {
            store.forget_streams(&w.plans)?;
            store.keys().destroy(&[*id])?;
            finished += 1;
        }
    }
    Ok(finished)
}

/// Weeds `c`: its event, its plans out of the read model, its key destroyed. Refused
/// for an actor whose role may not weed ([`authorize`]); a caller weeding many clients
/// asks [`authorize`] first, before anything is written.
pub fn weed_one(
    store: &KeyedStore,
    c: &Candidate,
    decision: &str,
    as_of: NaiveDate,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<u64> {
    authorize(RetentionCommand::Weed, actor)?;
    let Due::Due { rule, .. } = &c.due else {
        return Err(Error::new(
            Kind::BadInput,
            "the client is not due for weeding",
        ));
    };
    let w = Weeded {
        key_id: c.key_id.to_hex(),
        plans: c.plans.clone(),
        rule: rule.clone(),
        decision: decision.to_owned(),
        last_entry: c.last_entry.to_string(),
        as_of: as_of.to_string(),
    };
    let version = store.stream_version(RETENTION_STREAM)?;
    let appended = store.append(retention_batch(
        version,
        actor,
        at,
        NewEvent {
            event_type: CLIENT_WEEDED.to_owned(),
            schema_version: RETENTION_SCHEMA,
            envelope: Envelope::plaintext(),
            payload: retention::encode_weeded(&w),
        },
    ))?;
    store.forget_streams(&c.plans)?;
    store.keys().destroy(&[c.key_id])?;
    Ok(appended.first_position)
}

/// What a weeding run does besides listing: weed the due clients under `decision`, as
/// `actor`, the entries claiming `at`; with `map_key`, each weeded client's map key is
/// kept first (see [`crate::map::remember_weeded`]).
pub struct Job<'a> {
    pub actor: &'a Actor,
    pub decision: &'a str,
    pub at: DateTime<Utc>,
    pub map_key: Option<&'a crate::map::MapKey>,
}

impl Job<'_> {
    /// The domain's rules for a weeding: the actor's role, and a decision. A caller
    /// checks them before opening the store too (opening may create its key store), so
    /// that a refused weeding writes nothing and finishes no earlier run's weedings.
    pub fn check(&self) -> Result<()> {
        authorize(RetentionCommand::Weed, self.actor)?;
        if self.decision.trim().is_empty() {
            return Err(Error::new(
                Kind::BadInput,
                "--decision: weeding needs the decision it is done under",
            ));
        }
        Ok(())
    }
}

/// What a weeding run reports as it goes.
pub enum Progress<'a> {
    /// Weedings an earlier run recorded and did not complete, now completed.
    Finished(usize),
    /// A client listed, with the position of its weeding event if this run weeded it.
    Client(&'a Candidate, Option<u64>),
}

/// A weeding run (`planledger weed`): lists every client under `policy` as of `as_of`
/// and, given a `job`, first finishes what earlier runs left (checking the actor's role
/// and the decision before anything is written), then weeds those due one by one.
/// Returns the clients listed.
pub fn run(
    store: &KeyedStore,
    policy: &RetentionPolicy,
    as_of: NaiveDate,
    job: Option<&Job<'_>>,
    on: &mut dyn FnMut(Progress<'_>),
) -> Result<Vec<Candidate>> {
    if let Some(job) = job {
        job.check()?;
        let finished = finish_pending(store)?;
        if finished > 0 {
            on(Progress::Finished(finished));
        }
    }
    let candidates = candidates(store, policy, as_of)?;
    for c in &candidates {
        let position = match job {
            Some(job) if c.weeds() => {
                if let Some(key) = job.map_key {
                    crate::map::remember_weeded(store, key, &c.client, &c.plans)?;
                }
                Some(weed_one(store, c, job.decision, as_of, job.actor, job.at)?)
            }
            _ => None,
        };
        on(Progress::Client(c, position));
    }
    Ok(candidates)
}

/// Whether `plan` was weeded, and how: for readers that find its records sealed.
pub fn weeded_plan(store: &dyn Store, plan: &str) -> Result<Option<(Weeded, NaiveDate)>> {
    Ok(retention_state(store)?.weeding_of_plan(plan).cloned())
}
