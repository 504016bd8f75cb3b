//! The one write path of the service: a thread that owns the one [`Recorder`] of the
//! plans' ledger and records what the request handlers send it, in arrival order. The
//! store is synchronous; handlers wait for their answer without blocking the runtime.

use std::sync::Arc;
use std::sync::mpsc;

use chrono::{DateTime, Utc};
use planledger_app::{Recorded, Recorder, Request};
use planledger_plan::{Actor, Command, CommandId, DeadlinePolicy};
use planledger_store::Store;

/// One command to record, with the actor the service resolved (never the request's).
pub struct Write {
    pub command: Command,
    pub actor: Actor,
    /// When it happened (the line's `at`, or the time of the request).
    pub at: DateTime<Utc>,
    pub expect_version: Option<u64>,
    /// The command's id (the request's `Idempotency-Key`, or the line's id): recorded
    /// once however often it is sent.
    pub command_id: Option<CommandId>,
}

pub type Outcome = Result<Vec<Recorded>, planledger_app::Error>;

enum Job {
    One(Box<Write>, tokio::sync::oneshot::Sender<Outcome>),
    /// Recorded together, in one commit (an import's group).
    Group(
        Vec<Write>,
        tokio::sync::oneshot::Sender<Result<Vec<Outcome>, planledger_app::Error>>,
    ),
}

/// The handle handlers send writes to.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

const STOPPED: &str = "the service's writer has stopped";

fn stopped() -> planledger_app::Error {
    planledger_app::Error::new(planledger_app::Kind::Storage, STOPPED)
}

impl Writer {
    /// Starts the writer thread; it ends when every handle is dropped, after the writes
    /// sent before.
    pub fn start(
        store: Arc<dyn Store>,
        policy: DeadlinePolicy,
    ) -> (Writer, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || {
                let mut recorder = Recorder::new(store.as_ref(), policy);
                while let Ok(job) = rx.recv() {
                    match job {
                        Job::One(w, reply) => {
                            let _ = reply.send(recorder.record_request(&request(&w)));
                        }
                        Job::Group(ws, reply) => {
                            let requests: Vec<Request<'_>> = ws.iter().map(request).collect();
                            let _ = reply.send(recorder.record_group(&requests));
                        }
                    }
                }
            })
            .expect("a thread starts");
        (Writer { tx }, thread)
    }

    pub async fn record(&self, write: Write) -> Outcome {
        let (reply, done) = tokio::sync::oneshot::channel();
        self.tx
            .send(Job::One(Box::new(write), reply))
            .map_err(|_| stopped())?;
        done.await.map_err(|_| stopped())?
    }

    pub async fn record_group(
        &self,
        writes: Vec<Write>,
    ) -> Result<Vec<Outcome>, planledger_app::Error> {
        let (reply, done) = tokio::sync::oneshot::channel();
        self.tx
            .send(Job::Group(writes, reply))
            .map_err(|_| stopped())?;
        done.await.map_err(|_| stopped())?
    }
}

/// What the Recorder is asked to record for `w`.
fn request(w: &Write) -> Request<'_> {
    Request {
        command: &w.command,
        actor: &w.actor,
        at: w.at,
        expect_version: w.expect_version,
        command_id: w.command_id.as_ref(),
    }
}
