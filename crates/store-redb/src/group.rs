//! Group commit: appenders that arrive while a commit is running share the next one.
//!
//! Leader and followers. An appender queues its batch; if no commit is running it
//! becomes the leader, takes every queued batch (its own among them), commits them in
//! one write transaction, hands each appender its own result and steps down. Appenders
//! that queued meanwhile wait; when the leader steps down the first of them to wake up
//! leads the next group. One fsync then covers as many batches as arrived during the
//! previous one, which is what makes throughput grow with concurrency.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use planledger_store::{AppendBatch, Appended, StoreError};

/// A batch waiting for a commit, and the ticket its appender waits on.
pub(crate) struct Queued {
    pub ticket: u64,
    pub batch: AppendBatch,
}

/// The result of one queued batch.
pub(crate) type Outcome = (u64, Result<Appended, StoreError>);

#[derive(Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Queue>,
    done: Condvar,
}

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    waiting: Vec<Queued>,
    results: HashMap<u64, Result<Appended, StoreError>>,
    leading: bool,
}

/// Why an append failed because the leader of its group panicked.
#[derive(Debug, thiserror::Error)]
#[error("the commit of this batch's group was interrupted by a panic; the batch was not written")]
pub(crate) struct LeaderPanicked;

impl GroupCommit {
    /// How many batches are queued and not yet taken by a leader (for tests).
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.lock().waiting.len()
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue is consistent between statements; a panic elsewhere cannot break it.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `batch` and returns its result once the group it joined is committed.
    /// `commit` is called by the leader with the whole group and must return one
    /// outcome per queued batch.
    pub(crate) fn append(
        &self,
        batch: AppendBatch,
        commit: impl FnOnce(Vec<Queued>) -> Vec<Outcome>,
    ) -> Result<Appended, StoreError> {
        let mut commit = Some(commit);
        let mut q = self.lock();
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.waiting.push(Queued { ticket, batch });
        loop {
            if let Some(result) = q.results.remove(&ticket) {
                return result;
            }
            if !q.leading {
                // Our batch is still queued (a finished leader would have left our
                // result), so lead the next group.
                q.leading = true;
                let group = std::mem::take(&mut q.waiting);
                drop(q);
                let mut guard = StepDown {
                    group: self,
                    tickets: group.iter().map(|g| g.ticket).collect(),
                    outcomes: None,
                };
                let commit = commit.take().expect("an appender leads at most once");
                guard.outcomes = Some(commit(group));
                drop(guard);
                q = self.lock();
                continue;
            }
            q = self.done.wait(q).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Hands out the leader's outcomes and steps down, also when the commit panicked (then
/// every batch of the group fails), so that no follower waits forever.
struct StepDown<'a> {
    group: &'a GroupCommit,
    tickets: Vec<u64>,
    outcomes: Option<Vec<Outcome>>,
}

impl Drop for StepDown<'_> {
    fn drop(&mut self) {
        let mut q = self.group.lock();
        if let Some(outcomes) = self.outcomes.take() {
            q.results.extend(outcomes);
        }
        // A batch without an outcome (the commit panicked) was not written.
        for &t in &self.tickets {
            q.results
                .entry(t)
                .or_insert_with(|| Err(StoreError::Backend(Box::new(LeaderPanicked))));
        }
        q.leading = false;
        drop(q);
        self.group.done.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use planledger_ledger::Hash;
    use planledger_store::{ExpectedVersion, Head, conformance};

    use super::*;

    fn ok(ticket: u64) -> Outcome {
        (
            ticket,
            Ok(Appended {
                first_position: ticket,
                stream_version: 1,
                head: Head {
                    size: ticket + 1,
                    last_hash: Hash::ZERO,
                    root: Hash::ZERO,
                },
            }),
        )
    }

    /// While one commit runs, every appender that arrives queues, and the next leader
    /// commits all of them at once; each gets its own outcome.
    #[test]
    fn batches_queued_during_a_commit_share_the_next_commit() {
        let group = GroupCommit::default();
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (sizes_tx, sizes_rx) = mpsc::channel();
        std::thread::scope(|s| {
            let group = &group;
            let sizes = sizes_tx.clone();
            let first = s.spawn(move || {
                group.append(
                    conformance::batch("plan-0", ExpectedVersion::Any, 1),
                    |batches| {
                        entered_tx.send(()).unwrap();
                        release_rx.recv().unwrap();
                        sizes.send(batches.len()).unwrap();
                        batches.iter().map(|q| ok(q.ticket)).collect()
                    },
                )
            });
            entered_rx.recv().unwrap();
            let followers: Vec<_> = (1..=3)
                .map(|i| {
                    let sizes_tx = sizes_tx.clone();
                    s.spawn(move || {
                        group.append(
                            conformance::batch(&format!("plan-{i}"), ExpectedVersion::Any, 1),
                            move |batches| {
                                sizes_tx.send(batches.len()).unwrap();
                                batches.iter().map(|q| ok(q.ticket)).collect()
                            },
                        )
                    })
                })
                .collect();
            // Wait (without a time limit on the outcome) until all three are queued.
            while group.queued() < 3 {
                std::thread::sleep(Duration::from_millis(1));
            }
            release_tx.send(()).unwrap();
            let mut tickets = vec![first.join().unwrap().unwrap().first_position];
            for f in followers {
                tickets.push(f.join().unwrap().unwrap().first_position);
            }
            tickets.sort_unstable();
            assert_eq!(
                tickets,
                vec![0, 1, 2, 3],
                "each appender gets its own outcome"
            );
        });
        drop(sizes_tx);
        let sizes: Vec<usize> = sizes_rx.iter().collect();
        assert_eq!(
            sizes,
            vec![1, 3],
            "the three queued batches are committed together"
        );
    }

    /// A panicking commit fails every batch of its group instead of leaving the
    /// followers waiting, and the next appender leads again.
    #[test]
    fn a_panicking_commit_fails_its_group_and_frees_the_queue() {
        let group = GroupCommit::default();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            group.append(
                conformance::batch("plan-0", ExpectedVersion::Any, 1),
                |_| panic!("simulated failure inside a commit"),
            )
        }));
        assert!(r.is_err());
        assert!(!group.lock().leading, "the panicking leader stepped down");
        let a = group.append(conformance::batch("plan-1", ExpectedVersion::Any, 1), |b| {
            b.iter().map(|q| ok(q.ticket)).collect()
        });
        assert_eq!(a.unwrap().first_position, 1);
    }
}
