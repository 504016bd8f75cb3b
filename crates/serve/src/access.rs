//! The read-access log: who read which client's personal data, in which role, when,
//! with which query and for which stated purpose. A ledger of its own beside the plans'
//! (the same record format, chain, Merkle tree and checkpoints), so it can be verified
//! and witnessed like them and cannot be rewritten unnoticed.
//!
//! Entries are appended by one writer thread that takes every entry waiting and commits
//! them together ([`planledger_store::Store::append_many`], one durable commit): many
//! readers share one fsync. A read's data is sent only after its entries are durable, so
//! a read that is not logged is not served.
//!
//! Layout: one stream per Swedish day (`reads-YYYY-MM-DD`), event type
//! [`EVENT_TYPE`], schema version 1, plaintext envelope; the actor is the reader (user
//! id and role, as in the plans' ledger); the payload is the JSON object
//! [`AccessEntry`] with its fields in the order declared (serde_json, no whitespace).
//! The client's personnummer (12 digits) is only ever in the payload: never in a stream
//! id, a tag, a log line or an error.

use std::sync::Arc;
use std::sync::mpsc;

use chrono::{DateTime, NaiveDate, Utc};
use planledger_ledger::Envelope;
use planledger_plan::{Personnummer, swedish_date};
use planledger_store::{AppendBatch, ExpectedVersion, NewEvent, Store};
use serde::{Deserialize, Serialize};

/// The event type of an access-log record.
pub const EVENT_TYPE: &str = "read_access";
/// The payload's schema version.
pub const SCHEMA_VERSION: u16 = 1;
/// The prefix of a day's stream.
const STREAM_PREFIX: &str = "reads-";

/// One read of one client's personal data: the payload of an access-log record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessEntry {
    /// The client whose data was read (12 digits).
    #[schema(value_type = String)]
    pub client: Personnummer,
    /// The unit of the plan read, when one plan was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The plan read, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// The query: method, route and its parameters (never the personnummer).
    pub query: String,
    /// The purpose the reader stated (`X-Purpose`).
    pub purpose: String,
}

/// An entry as read back: the record's time and reader with the payload.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LoggedRead {
    pub position: u64,
    pub at: DateTime<Utc>,
    pub user: String,
    pub role: String,
    #[serde(flatten)]
    pub entry: AccessEntry,
}

struct Job {
    actor: planledger_ledger::Actor,
    at: DateTime<Utc>,
    entries: Vec<AccessEntry>,
    reply: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// The access log: its store, and the writer thread that appends to it.
#[derive(Clone)]
pub struct AccessLog {
    store: Arc<dyn Store>,
    tx: mpsc::Sender<Job>,
}

fn stream_of(day: NaiveDate) -> String {
    format!("{STREAM_PREFIX}{day}")
}

impl AccessLog {
    /// Starts the writer thread over `store`. The thread ends, and lets go of the
    /// store, once every clone of the returned log is dropped and the entries sent
    /// before are written: join it before opening the store again.
    pub fn start(store: Arc<dyn Store>) -> (AccessLog, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel::<Job>();
        let writer = store.clone();
        let thread = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_loop(writer.as_ref(), rx))
            .expect("a thread starts");
        (AccessLog { store, tx }, thread)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Logs `entries` read by `actor` at `at` and returns once they are durable. No
    /// entries: returns at once.
    pub async fn log(
        &self,
        actor: planledger_ledger::Actor,
        at: DateTime<Utc>,
        entries: Vec<AccessEntry>,
    ) -> Result<(), String> {
        match self.send(actor, at, entries)? {
            Some(done) => done.await.map_err(|_| STOPPED.to_owned())?,
            None => Ok(()),
        }
    }

    /// [`AccessLog::log`] for callers outside a runtime (the CLI): blocks until durable.
    pub fn log_blocking(
        &self,
        actor: planledger_ledger::Actor,
        at: DateTime<Utc>,
        entries: Vec<AccessEntry>,
    ) -> Result<(), String> {
        match self.send(actor, at, entries)? {
            Some(done) => done.blocking_recv().map_err(|_| STOPPED.to_owned())?,
            None => Ok(()),
        }
    }

    /// Hands `entries` to the writer; the answer comes when they are durable (`None`:
    /// nothing to log).
    fn send(
        &self,
        actor: planledger_ledger::Actor,
        at: DateTime<Utc>,
        entries: Vec<AccessEntry>,
    ) -> Result<Option<tokio::sync::oneshot::Receiver<Result<(), String>>>, String> {
        if entries.is_empty() {
            return Ok(None);
        }
        let (reply, done) = tokio::sync::oneshot::channel();
        self.tx
            .send(Job {
                actor,
                at,
                entries,
                reply,
            })
            .map_err(|_| STOPPED.to_owned())?;
        Ok(Some(done))
    }

    /// Every logged read of `client`'s data, oldest first (blocking; reads the whole log).
    pub fn extract(&self, client: &Personnummer) -> Result<Vec<LoggedRead>, String> {
        let mut out = Vec::new();
        let mut from = 0;
        loop {
            let records = self
                .store
                .read_all(from, 4096)
                .map_err(|e| format!("cannot read the access log: {e}"))?;
            let Some(last) = records.last() else { break };
            from = last.position() + 1;
            for r in &records {
                if let Some(read) = decode(r)? {
                    if &read.entry.client == client {
                        out.push(read);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The logged reads of plans of `unit` on the Swedish days `from..=to` (blocking).
    pub fn of_unit(
        &self,
        unit: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<LoggedRead>, String> {
        let mut out = Vec::new();
        for day in from.iter_days().take_while(|d| *d <= to) {
            let mut version = 1;
            loop {
                let records = self
                    .store
                    .read_stream(&stream_of(day), version, 4096)
                    .map_err(|e| format!("cannot read the access log: {e}"))?;
                let Some(last) = records.last() else { break };
                version = last.stream_version() + 1;
                for r in &records {
                    if let Some(read) = decode(r)? {
                        if read.entry.unit.as_deref() == Some(unit) {
                            out.push(read);
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// A record of the access log as a logged read (`None`: another event type).
fn decode(r: &planledger_ledger::Record) -> Result<Option<LoggedRead>, String> {
    let e = r.entry();
    if e.event_type != EVENT_TYPE {
        return Ok(None);
    }
    let entry: AccessEntry = serde_json::from_slice(&e.payload).map_err(|_| {
        format!(
            "record {} of the access log is not a read entry",
            r.position()
        )
    })?;
    Ok(Some(LoggedRead {
        position: r.position(),
        // When the log sealed the entry, by the store's clock (the server's time of the
        // read is only claimed).
        at: DateTime::from_timestamp_micros(r.sealed_at_micros().unwrap_or(e.claimed_at_micros))
            .unwrap_or_default(),
        user: e.actor.user_id.clone(),
        role: e.actor.role.clone(),
        entry,
    }))
}

/// `n` of `reads` chosen at random (all of them when there are no more), in log order.
pub fn sample(mut reads: Vec<LoggedRead>, n: usize) -> Vec<LoggedRead> {
    let n = n.min(reads.len());
    // A partial Fisher-Yates shuffle from the operating system's randomness: the unit
    // manager's sample must not be predictable by the readers it checks.
    for i in 0..n {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).expect("the operating system gives randomness");
        let j = i + (u64::from_le_bytes(b) % (reads.len() - i) as u64) as usize;
        reads.swap(i, j);
    }
    reads.truncate(n);
    reads.sort_by_key(|r| r.position);
    reads
}

const STOPPED: &str = "the access log's writer has stopped";

/// Takes every job waiting, appends their entries in one commit, answers each.
fn write_loop(store: &dyn Store, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while let Ok(more) = rx.try_recv() {
            jobs.push(more);
            if jobs.len() >= 4096 {
                break;
            }
        }
        let batches: Vec<AppendBatch> = jobs
            .iter()
            .map(|j| AppendBatch {
                stream_id: stream_of(swedish_date(j.at)),
                expected: ExpectedVersion::Any,
                actor: j.actor.clone(),
                claimed_at_micros: j.at.timestamp_micros(),
                command_id: None,
                events: j
                    .entries
                    .iter()
                    .map(|e| NewEvent {
                        event_type: EVENT_TYPE.to_owned(),
                        schema_version: SCHEMA_VERSION,
                        envelope: Envelope::plaintext(),
                        payload: serde_json::to_vec(e).expect("an entry serialises"),
                    })
                    .collect(),
                tags: Vec::new(),
                summary: None,
            })
            .collect();
        match store.append_many(batches) {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(
                        outcome
                            .map(|_| ())
                            .map_err(|e| format!("cannot append to the access log: {e}")),
                    );
                }
            }
            Err(e) => {
                tracing::warn!("an access-log commit failed");
                let why = format!("cannot append to the access log: {e}");
                for job in jobs {
                    let _ = job.reply.send(Err(why.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use planledger_store::MemoryStore;

    fn entry(client: &str, unit: &str) -> AccessEntry {
        AccessEntry {
            client: client.parse().unwrap(),
            unit: Some(unit.into()),
            plan: Some("plan-1".into()),
            query: "GET /v1/plans/plan-1".into(),
            purpose: "test".into(),
        }
    }

    fn actor() -> planledger_ledger::Actor {
        planledger_ledger::Actor {
            user_id: "kim".into(),
            role: "key_worker".into(),
        }
    }

    #[tokio::test]
    async fn entries_are_appended_and_read_back_by_client_and_unit() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (log, _) = AccessLog::start(store.clone());
        let at = DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
            .unwrap()
            .to_utc();
        let (a, b) = (
            log.log(actor(), at, vec![entry("196408233234", "u1")]),
            log.log(actor(), at, vec![entry("197010632391", "u2")]),
        );
        let (a, b) = tokio::join!(a, b);
        a.unwrap();
        b.unwrap();
        assert_eq!(store.head().unwrap().size, 2);
        let mine = log.extract(&"196408233234".parse().unwrap()).unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].user, "kim");
        let day = swedish_date(at);
        assert_eq!(log.of_unit("u2", day, day).unwrap().len(), 1);
        assert_eq!(log.of_unit("u3", day, day).unwrap().len(), 0);
        // No personnummer outside the payload.
        for r in store.read_all(0, 10).unwrap() {
            assert!(!r.stream_id().contains("3234") && !r.entry().actor.user_id.contains("3234"));
        }
    }

    #[test]
    fn a_sample_has_n_distinct_entries_in_log_order() {
        let reads: Vec<LoggedRead> = (0..10)
            .map(|i| LoggedRead {
                position: i,
                at: DateTime::default(),
                user: "kim".into(),
                role: "key_worker".into(),
                entry: entry("196408233234", "u1"),
            })
            .collect();
        let s = sample(reads.clone(), 4);
        assert_eq!(s.len(), 4);
        assert!(s.windows(2).all(|w| w[0].position < w[1].position));
        assert_eq!(sample(reads, 20).len(), 10);
    }
}
