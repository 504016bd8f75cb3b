//! Where readers find plans. A report asks for the plans of a unit, of a client, or
//! every plan, each folded from its own records ([`Plans`]). Two sources answer:
//!
//! - [`LedgerPlans`] reads a store: it finds a plan's stream by the tags the store keeps
//!   beside the records (a plan's unit, act and client, [`plan_tags`], set in the
//!   transaction of the append that carries the order). A report over many plans reads
//!   their summaries (the read model, [`crate::summary`]), and folds from the records
//!   only a plan recorded after the report's cutoff; one plan's history folds that
//!   plan's stream. Memory holds a block of plans, and a query reads only the plans it
//!   needs. It never writes.
//! - a [`Projection`] in memory (tests, and small ledgers folded whole).
//!
//! The tags and summaries are derived data: [`index_tags`] and
//! [`crate::rebuild_summaries`] derive them from the records again (a rebuild, after a
//! copy or a change of what they hold), and `verify` compares them with the records.

use std::borrow::Cow;

use chrono::NaiveDate;
use chrono::{DateTime, TimeDelta, Utc};
use planledger_ledger::{Hash, Record, RecordHeader};
use planledger_plan::{
    ActKind, Actor, DeadlinePolicy, EntryError, Personnummer, PlanId, PlanState, UnitId,
    swedish_date,
};
use planledger_store::{Store, StoreError, StreamSummary, StreamTag};
use rayon::prelude::*;

use crate::error::ProjectionError;
use crate::projection::{PlanView, Projection, decode_record, fold_plan, fold_stream};
use crate::summary::decode_summary;

/// The tag of a plan's unit.
pub const TAG_UNIT: &str = "unit";
/// The tag of a plan's client: the personnummer's 12 digits. The one place the index
/// holds personal data, per plan; weeding removes it with the plan's records.
pub const TAG_CLIENT: &str = "client";
/// The tag of a plan's act.
pub const TAG_ACT: &str = "act";
/// The tag of a plan's next open deadline under the writer's policy:
/// `POLICYKEY:YYYY-MM-DD`, or `POLICYKEY:~` when none can fall due ([`state_tags`]).
pub const TAG_DUE: &str = "due";
/// The tag of a plan's latest record time, µs since 1970, 20 digits ([`state_tags`]).
pub const TAG_LATEST: &str = "latest";
/// The stream id of the index's own marker tag: no plan id is empty.
pub const MARKER_STREAM: &str = "";
/// The marker's key; its value is [`INDEX_VERSION`].
const MARKER_KEY: &str = "planledger-index";
/// What the tags and summaries hold and how they are derived. A change bumps it, and
/// readers refuse an index of another version until `planledger reindex` rebuilt it.
pub const INDEX_VERSION: &str = "3";

/// Summaries read, decoded and (where needed) refolded side by side by
/// [`LedgerPlans::each_summary`].
const BLOCK: usize = 512;

/// Records read per call when deriving the tags from position 0.
const REBUILD_CHUNK: usize = 8192;

/// The tags of a plan in `state`: its unit, act and client, fixed by its first order.
/// Empty before the order.
pub fn plan_tags(state: &PlanState) -> Vec<(String, String)> {
    let mut tags = Vec::new();
    if let Some(unit) = state.unit() {
        tags.push((TAG_UNIT.to_owned(), unit.to_string()));
    }
    if let Some(act) = state.act() {
        tags.push((TAG_ACT.to_owned(), act.as_str().to_owned()));
    }
    if let Some(client) = state.client() {
        tags.push((TAG_CLIENT.to_owned(), client.digits()));
    }
    tags
}

/// The tags a plan in `state` has after every append, under the writer's `policy`: the
/// day of its earliest deadline not met ([`TAG_DUE`]), and its latest record time
/// ([`TAG_LATEST`]). What lets `overdue` read only the plans that can have a deadline
/// overdue: for a day `d` on or after a plan's latest record, a deadline is overdue only
/// if it is not met and falls before `d`, and none is once the plan closed.
pub fn state_tags(state: &PlanState, policy: &DeadlinePolicy) -> Vec<(String, String)> {
    let Some(latest) = state.latest() else {
        return Vec::new();
    };
    let closed = state
        .closed()
        .is_some_and(|c| c.closed_on <= swedish_date(latest));
    let next = (!closed)
        .then(|| state.due_dates(policy))
        .into_iter()
        .flatten()
        .filter(|d| d.met_on.is_none())
        .map(|d| d.due_on)
        .min();
    vec![
        (
            TAG_DUE.to_owned(),
            match next {
                Some(day) => format!("{}:{day}", policy_key(policy)),
                None => format!("{}:~", policy_key(policy)),
            },
        ),
        (TAG_LATEST.to_owned(), latest_value(latest)),
    ]
}

/// A short name of `policy`'s rules (its deadlines for every act, not the
/// organisation's name): due tags written under other rules are not read.
pub fn policy_key(policy: &DeadlinePolicy) -> String {
    let rules: Vec<_> = ActKind::ALL.iter().map(|a| policy.for_act(*a)).collect();
    let hash = blake3::hash(format!("{rules:?}").as_bytes());
    hash.to_hex()[..12].to_owned()
}

/// [`TAG_LATEST`]'s value for `at`: sorts as the times do.
fn latest_value(at: DateTime<Utc>) -> String {
    format!("{:020}", at.timestamp_micros().max(0))
}

/// The marker that says a store's tags are an index of [`INDEX_VERSION`].
pub fn index_marker() -> StreamTag {
    StreamTag {
        stream_id: MARKER_STREAM.into(),
        key: MARKER_KEY.into(),
        value: INDEX_VERSION.into(),
    }
}

/// The tags the records of `store` from position `from` up to `to` (the head when
/// `None`) give: for each stream whose first order is among them, its [`plan_tags`].
/// What incremental maintenance writes, derived again. Returns them and the position
/// read to. `progress(done, total)` hears of each chunk read.
pub fn index_tags(
    store: &dyn Store,
    from: u64,
    to: Option<u64>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(Vec<StreamTag>, u64), ProjectionError> {
    let size = match to {
        Some(to) => to,
        None => store.head()?.size,
    };
    let mut tags = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut at = from;
    while at < size {
        let chunk = store.read_all_bytes(at, REBUILD_CHUNK.min((size - at) as usize))?;
        if chunk.is_empty() {
            break;
        }
        for bytes in chunk {
            let position = at;
            at += 1;
            // Only a stream's first order fixes what the plan is about (`PlanState`): the
            // first order is version 1 of its stream. The header is read without copying;
            // only those records are decoded whole.
            let header = RecordHeader::parse(&bytes).map_err(|e| {
                ProjectionError::Store(planledger_store::StoreError::Corrupt {
                    position,
                    reason: format!("the record's bytes do not parse: {e}"),
                })
            })?;
            if header.event_type != "order_received" || header.stream_version != 1 {
                continue;
            }
            let record = Record::decode(bytes).map_err(|e| {
                ProjectionError::Store(planledger_store::StoreError::Corrupt {
                    position,
                    reason: format!("the record's bytes do not parse: {e}"),
                })
            })?;
            // An encrypted order is read again through the store, which opens it with
            // its client's key. A weeded plan's stays sealed (its key no longer exists):
            // the plan has no tags (weeding removed them with its summary).
            let record = if record.entry().envelope.is_plaintext() {
                record
            } else {
                match store.read_all(position, 1)?.pop() {
                    Some(r) if r.entry().envelope.is_plaintext() => r,
                    _ => continue,
                }
            };
            let (plan, event) = decode_record(&record)?;
            if !seen.insert(plan.clone()) {
                continue;
            }
            let mut state = PlanState::new();
            state.apply(&event.event, event.claimed_at, &event.actor);
            for (key, value) in plan_tags(&state) {
                tags.push(StreamTag {
                    stream_id: plan.to_string(),
                    key,
                    value,
                });
            }
        }
        progress(at, size);
    }
    Ok((tags, at))
}

/// The plans a report reads.
pub trait Plans {
    /// Calls `f` with each plan of `unit` (of every unit without one) as it stood at
    /// `cutoff`, without contents or free text ([`PlanState::without_contents`]: what a
    /// report over many plans reads), by plan id. A plan with no event by `cutoff` gives
    /// an empty state.
    fn each_summary(
        &self,
        unit: Option<&UnitId>,
        cutoff: DateTime<Utc>,
        f: &mut dyn FnMut(&PlanState),
    ) -> Result<(), ProjectionError>;

    /// As [`Plans::each_summary`] at the end of `as_of`, but only the plans that may
    /// have a deadline overdue on `as_of` under `policy` (at least those; every plan
    /// where the read model cannot tell).
    fn each_overdue_candidate(
        &self,
        unit: Option<&UnitId>,
        as_of: NaiveDate,
        policy: &DeadlinePolicy,
        f: &mut dyn FnMut(&PlanState),
    ) -> Result<(), ProjectionError>;

    /// The position and hash of the record at `stream_version` of `plan`'s stream, if
    /// it exists: the evidence a report's row points at.
    fn record_at(
        &self,
        plan: &PlanId,
        stream_version: u64,
    ) -> Result<Option<(u64, Hash)>, ProjectionError>;

    /// One plan, if it exists.
    fn plan(&self, id: &PlanId) -> Result<Option<Cow<'_, PlanView>>, ProjectionError>;

    /// Every plan of a client, by plan id.
    fn plans_of_client(
        &self,
        client: &Personnummer,
    ) -> Result<Vec<Cow<'_, PlanView>>, ProjectionError>;

    /// Whether any plan belongs to `unit`.
    fn has_unit(&self, unit: &UnitId) -> Result<bool, ProjectionError>;

    /// Calls `f` with each record of `unit`'s plans (every plan's without one) sealed
    /// by `until` more than `lag` after the time it claims, in position order: the
    /// back-dated entries. Records of layout 1 have no sealing time and are never listed.
    fn each_backdated(
        &self,
        unit: Option<&UnitId>,
        until: DateTime<Utc>,
        lag: TimeDelta,
        f: &mut dyn FnMut(Backdated),
    ) -> Result<(), ProjectionError>;
}

/// A record sealed long after the time it claims (see [`Plans::each_backdated`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backdated {
    pub plan: PlanId,
    pub position: u64,
    pub stream_version: u64,
    pub event_type: String,
    pub actor: Actor,
    /// When it happened, as the entry claims.
    pub claimed_at: DateTime<Utc>,
    /// When the ledger sealed it.
    pub sealed_at: DateTime<Utc>,
}

impl Backdated {
    /// Whether an entry claiming `claimed_at`, sealed at `sealed_at`, was sealed more
    /// than `lag` later: one rule for every [`Plans`].
    fn is(claimed_at: DateTime<Utc>, sealed_at: DateTime<Utc>, lag: TimeDelta) -> bool {
        sealed_at - claimed_at > lag
    }
}

impl Plans for Projection {
    fn each_summary(
        &self,
        unit: Option<&UnitId>,
        cutoff: DateTime<Utc>,
        f: &mut dyn FnMut(&PlanState),
    ) -> Result<(), ProjectionError> {
        let mut each = |view: &PlanView| f(&view.state_at(cutoff).without_contents());
        match unit {
            Some(unit) => self.plans_in_unit(unit).for_each(&mut each),
            None => self.plans().for_each(&mut each),
        }
        Ok(())
    }

    fn each_overdue_candidate(
        &self,
        unit: Option<&UnitId>,
        as_of: NaiveDate,
        _policy: &DeadlinePolicy,
        f: &mut dyn FnMut(&PlanState),
    ) -> Result<(), ProjectionError> {
        self.each_summary(unit, planledger_plan::end_of_swedish_day(as_of), f)
    }

    fn record_at(
        &self,
        plan: &PlanId,
        stream_version: u64,
    ) -> Result<Option<(u64, Hash)>, ProjectionError> {
        Ok(Projection::plan(self, plan)
            .and_then(|v| v.event(stream_version))
            .map(|e| (e.position, e.hash)))
    }

    fn plan(&self, id: &PlanId) -> Result<Option<Cow<'_, PlanView>>, ProjectionError> {
        Ok(Projection::plan(self, id).map(Cow::Borrowed))
    }

    fn plans_of_client(
        &self,
        client: &Personnummer,
    ) -> Result<Vec<Cow<'_, PlanView>>, ProjectionError> {
        Ok(Projection::plans_of_client(self, client)
            .map(Cow::Borrowed)
            .collect())
    }

    fn has_unit(&self, unit: &UnitId) -> Result<bool, ProjectionError> {
        Ok(self.plans_in_unit(unit).next().is_some())
    }

    fn each_backdated(
        &self,
        unit: Option<&UnitId>,
        until: DateTime<Utc>,
        lag: TimeDelta,
        f: &mut dyn FnMut(Backdated),
    ) -> Result<(), ProjectionError> {
        let views: Vec<&PlanView> = match unit {
            Some(unit) => self.plans_in_unit(unit).collect(),
            None => self.plans().collect(),
        };
        let mut found: Vec<Backdated> = views
            .into_iter()
            .flat_map(|v| v.events().iter().map(move |e| (v.id(), e)))
            .filter_map(|(plan, e)| {
                let sealed_at = e.sealed_at.filter(|s| *s <= until)?;
                Backdated::is(e.claimed_at, sealed_at, lag).then(|| Backdated {
                    plan: plan.clone(),
                    position: e.position,
                    stream_version: e.stream_version,
                    event_type: e.event_type().to_owned(),
                    actor: e.actor.clone(),
                    claimed_at: e.claimed_at,
                    sealed_at,
                })
            })
            .collect();
        found.sort_by_key(|b| b.position);
        found.into_iter().for_each(f);
        Ok(())
    }
}

/// The plans of a ledger in a store, found by its tags and folded one at a time.
pub struct LedgerPlans<'s> {
    store: &'s dyn Store,
}

impl<'s> LedgerPlans<'s> {
    /// Reads `store`, whose tags must be an index of this build's [`INDEX_VERSION`]
    /// (a ledger with records and no index was copied or written by an older build:
    /// [`ProjectionError::Index`] says to run `planledger reindex`).
    pub fn open(store: &'s dyn Store) -> Result<LedgerPlans<'s>, ProjectionError> {
        let marker = store.stream_tags(MARKER_STREAM)?;
        let version = marker
            .iter()
            .find(|(k, _)| k == MARKER_KEY)
            .map(|(_, v)| v.as_str());
        if version != Some(INDEX_VERSION) && store.head()?.size > 0 {
            return Err(ProjectionError::Index {
                found: version.map(str::to_owned),
            });
        }
        Ok(LedgerPlans { store })
    }

    fn fold(&self, id: &str) -> Result<PlanView, ProjectionError> {
        fold_plan(self.store, id)
    }

    fn fold_all(&self, ids: Vec<String>) -> Result<Vec<Cow<'_, PlanView>>, ProjectionError> {
        ids.iter().map(|id| self.fold(id).map(Cow::Owned)).collect()
    }
}

impl LedgerPlans<'_> {
    /// A plan's state at `cutoff` without contents, from its stored summary when nothing
    /// of it was recorded after the cutoff, else folded from its records.
    fn summary_at(
        &self,
        id: &str,
        stored: Option<StreamSummary>,
        cutoff: DateTime<Utc>,
    ) -> Result<PlanState, ProjectionError> {
        if let Some(stored) = stored {
            let state = decode_summary(id, &stored.bytes)?;
            if state.latest().is_none_or(|latest| latest <= cutoff) {
                return Ok(state);
            }
        }
        Ok(self.fold(id)?.state_at(cutoff).without_contents())
    }

    /// [`Self::summary_at`] for a block of plans, side by side, handed to `f` in order.
    fn each_in_block(
        &self,
        block: Vec<(String, Option<StreamSummary>)>,
        cutoff: DateTime<Utc>,
        f: &mut dyn FnMut(&PlanState),
    ) -> Result<(), ProjectionError> {
        let states: Vec<Result<PlanState, ProjectionError>> = block
            .into_par_iter()
            .map(|(id, stored)| self.summary_at(&id, stored, cutoff))
            .collect();
        for state in states {
            f(&state?);
        }
        Ok(())
    }
}

impl Plans for LedgerPlans<'_> {
    fn each_summary(
        &self,
        unit: Option<&UnitId>,
        cutoff: DateTime<Utc>,
        f: &mut dyn FnMut(&PlanState),
    ) -> Result<(), ProjectionError> {
        match unit {
            Some(unit) => {
                let ids = self.store.streams_tagged(TAG_UNIT, unit.as_str())?;
                for block in ids.chunks(BLOCK) {
                    let stored = self.store.summaries(block)?;
                    self.each_in_block(block.iter().cloned().zip(stored).collect(), cutoff, f)?;
                }
            }
            None => {
                // Every plan has a summary (written with its first record); paging
                // through them in stream-id order reads each plan once.
                let mut after = String::new();
                loop {
                    let page = self.store.summaries_after(&after, BLOCK)?;
                    let Some((last, _)) = page.last() else { break };
                    after = last.clone();
                    let block = page.into_iter().map(|(id, s)| (id, Some(s))).collect();
                    self.each_in_block(block, cutoff, f)?;
                }
            }
        }
        Ok(())
    }

    fn each_overdue_candidate(
        &self,
        unit: Option<&UnitId>,
        as_of: NaiveDate,
        policy: &DeadlinePolicy,
        f: &mut dyn FnMut(&PlanState),
    ) -> Result<(), ProjectionError> {
        let cutoff = planledger_plan::end_of_swedish_day(as_of);
        let key = policy_key(policy);
        let between = |tag: &str, from: &str, to: &str| -> Result<Vec<String>, ProjectionError> {
            Ok((self
                .store
                .streams_tagged_between(tag, from, to)?
                .into_iter())
            .map(|(_, plan)| plan)
            .collect())
        };
        // Plans with a deadline not met before `as_of` under this policy; plans whose
        // due tag was written under another policy; plans recorded after the cutoff
        // (folded up to it). Every plan has both tags (written with each append).
        let mut ids = between(TAG_DUE, &format!("{key}:"), &format!("{key}:{as_of}"))?;
        ids.extend(between(TAG_DUE, "", &format!("{key}:"))?);
        ids.extend(between(TAG_DUE, &format!("{key};"), "\u{10ffff}")?);
        let after = cutoff + chrono::Duration::microseconds(1);
        ids.extend(between(TAG_LATEST, &latest_value(after), "~")?);
        ids.sort();
        ids.dedup();
        if let Some(unit) = unit {
            let of_unit: std::collections::BTreeSet<String> = (self.store)
                .streams_tagged(TAG_UNIT, unit.as_str())?
                .into_iter()
                .collect();
            ids.retain(|id| of_unit.contains(id));
        }
        for block in ids.chunks(BLOCK) {
            let stored = self.store.summaries(block)?;
            self.each_in_block(block.iter().cloned().zip(stored).collect(), cutoff, f)?;
        }
        Ok(())
    }

    fn record_at(
        &self,
        plan: &PlanId,
        stream_version: u64,
    ) -> Result<Option<(u64, Hash)>, ProjectionError> {
        let records = self.store.read_stream(plan.as_str(), stream_version, 1)?;
        Ok(records
            .first()
            .filter(|r| r.stream_version() == stream_version && r.stream_id() == plan.as_str())
            .map(|r| (r.position(), r.hash())))
    }

    fn plan(&self, id: &PlanId) -> Result<Option<Cow<'_, PlanView>>, ProjectionError> {
        let view = fold_stream(self.store, id)?;
        Ok((!view.events().is_empty()).then_some(Cow::Owned(view)))
    }

    fn plans_of_client(
        &self,
        client: &Personnummer,
    ) -> Result<Vec<Cow<'_, PlanView>>, ProjectionError> {
        self.fold_all(self.store.streams_tagged(TAG_CLIENT, &client.digits())?)
    }

    fn has_unit(&self, unit: &UnitId) -> Result<bool, ProjectionError> {
        Ok(!self
            .store
            .streams_tagged(TAG_UNIT, unit.as_str())?
            .is_empty())
    }

    /// Reads the records' headers in position order, from the first: sealing times
    /// never decrease along the chain, so the scan stops at the first record sealed
    /// after `until`.
    fn each_backdated(
        &self,
        unit: Option<&UnitId>,
        until: DateTime<Utc>,
        lag: TimeDelta,
        f: &mut dyn FnMut(Backdated),
    ) -> Result<(), ProjectionError> {
        let in_unit: Option<std::collections::HashSet<String>> = match unit {
            Some(unit) => Some(
                self.store
                    .streams_tagged(TAG_UNIT, unit.as_str())?
                    .into_iter()
                    .collect(),
            ),
            None => None,
        };
        let until = until.timestamp_micros();
        let mut from = 0u64;
        loop {
            let chunk = self.store.read_all_bytes(from, REBUILD_CHUNK)?;
            if chunk.is_empty() {
                return Ok(());
            }
            for bytes in &chunk {
                let position = from;
                from += 1;
                let h = RecordHeader::parse(bytes).map_err(|e| StoreError::Corrupt {
                    position,
                    reason: e.to_string(),
                })?;
                let Some(sealed) = h.sealed_at_micros else {
                    continue;
                };
                if sealed > until {
                    return Ok(());
                }
                if in_unit.as_ref().is_some_and(|u| !u.contains(h.stream_id)) {
                    continue;
                }
                // Holds and weedings are no plan's entries.
                if h.stream_id == planledger_plan::retention::RETENTION_STREAM {
                    continue;
                }
                let time = |micros: i64| {
                    DateTime::from_timestamp_micros(micros).ok_or(ProjectionError::Entry {
                        position,
                        source: EntryError::Time {
                            stream_version: h.stream_version,
                            micros,
                        },
                    })
                };
                let (claimed_at, sealed_at) = (time(h.claimed_at_micros)?, time(sealed)?);
                if !Backdated::is(claimed_at, sealed_at, lag) {
                    continue;
                }
                let actor = planledger_ledger::Actor {
                    user_id: h.actor_id.into(),
                    role: h.actor_role.into(),
                };
                f(Backdated {
                    plan: PlanId::new(h.stream_id.to_owned())
                        .map_err(|source| ProjectionError::StreamId { position, source })?,
                    position,
                    stream_version: h.stream_version,
                    event_type: h.event_type.to_owned(),
                    actor: Actor::try_from(&actor).map_err(|source| ProjectionError::Entry {
                        position,
                        source: EntryError::Actor {
                            stream_version: h.stream_version,
                            source,
                        },
                    })?,
                    claimed_at,
                    sealed_at,
                });
            }
        }
    }
}
