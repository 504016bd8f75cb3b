//! Group commit, for any backend: appenders that arrive while a commit is running share
//! the next one.
//!
//! A durable commit (an fsync, a WAL flush) costs the same for one batch as for many,
//! and a backend's appends to one ledger cannot overlap, because each seals on top of
//! the one before. So an appender queues its batch; if no commit is running it becomes
//! the leader: it takes every queued batch (its own among them), has the backend commit
//! them together ([`GroupCommit::append`]'s `commit`), hands each appender its own
//! result and steps down. Appenders that queued meanwhile wait; when the leader steps
//! down, the first of them to wake up leads the next group. One commit then covers as
//! many batches as arrived during the previous one, which is what makes throughput grow
//! with concurrency.
//!
//! The backend checks and seals each batch of a group on its own, on top of the one
//! before, so a stale expected version or an unsealable event fails that batch only.
//! An append is acknowledged only after the commit that wrote it returned, that is,
//! once it is durable.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::{AppendBatch, Appended, StoreError};

/// The result of one batch of a group.
pub type BatchOutcome = Result<Appended, StoreError>;

/// Commits `batches` in order with one call of `commit` (one durable commit of the
/// backend), for [`crate::Store::append_many`]. An empty batch fails alone
/// ([`StoreError::EmptyBatch`]) without reaching the backend; the others' outcomes keep
/// their places.
pub fn commit_many(
    batches: Vec<AppendBatch>,
    commit: impl FnOnce(Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError>,
) -> Result<Vec<BatchOutcome>, StoreError> {
    let empty: Vec<bool> = batches.iter().map(|b| b.events.is_empty()).collect();
    let full: Vec<AppendBatch> = batches
        .into_iter()
        .filter(|b| !b.events.is_empty())
        .collect();
    let expected = full.len();
    let mut committed = if full.is_empty() {
        Vec::new()
    } else {
        commit(full)?
    }
    .into_iter();
    if committed.len() != expected {
        return Err(StoreError::Backend(Box::new(GroupCommitError::Failed {
            reason: format!(
                "the backend returned {} outcomes for {expected} batches",
                committed.len()
            ),
        })));
    }
    Ok(empty
        .into_iter()
        .map(|e| match e {
            true => Err(StoreError::EmptyBatch),
            false => committed.next().expect("one outcome per batch"),
        })
        .collect())
}

/// Queues appends and lets one appender at a time commit everything queued. One per
/// ledger a backend writes; see the [module documentation](self).
#[derive(Debug, Default)]
pub struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct State {
    next_ticket: u64,
    /// Batches waiting for a leader, by ticket, in arrival order.
    queue: Vec<(u64, AppendBatch)>,
    /// Results handed out by a leader, until their appender picks them up.
    results: HashMap<u64, BatchOutcome>,
    leading: bool,
}

/// Why an append failed because the commit of its whole group did; reported inside
/// [`StoreError::Backend`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupCommitError {
    /// The group's commit failed with `reason` (the backend's error, which is not
    /// `Clone`, as text: every appender of the group gets a copy).
    #[error("the commit of the group this append joined failed: {reason}")]
    Failed { reason: String },
    /// The leader panicked while committing the group. Its transaction was dropped
    /// unless the panic came after the commit; the append was not acknowledged.
    #[error(
        "the commit of the group this append joined was interrupted by a panic; \
         the append was not acknowledged"
    )]
    LeaderPanicked,
}

impl GroupCommit {
    pub fn new() -> GroupCommit {
        GroupCommit::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent between statements; a panic elsewhere cannot break it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many batches are queued and not yet taken by a leader (for tests).
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.lock().queue.len()
    }

    /// Queues `batch` and returns its result once the group it joined is committed.
    ///
    /// If this appender leads, it calls `commit` with the group's batches in arrival
    /// order. `commit` seals and writes them in one transaction and returns once that
    /// transaction is durable:
    ///
    /// - `Ok(outcomes)`: one outcome per batch, in the same order. A batch refused on
    ///   its own (a conflict, an unsealable event) has its error and was not written;
    ///   every `Ok` batch was committed.
    /// - `Err(e)`: the transaction failed, and the whole group fails with it. A group of
    ///   one gets `e` itself; in a larger group every appender gets
    ///   [`StoreError::Corrupt`] as it is and any other error as
    ///   [`GroupCommitError::Failed`].
    ///
    /// No batch of a failed group is retried on its own, as neither backend did before
    /// this module: the failure may be of the commit itself (a connection lost during
    /// `COMMIT`), after which whether the group was written is unknown, and a retry
    /// could append a batch twice. Each appender gets the error and decides, after
    /// re-reading its stream.
    ///
    /// A `commit` that panics (or returns the wrong number of outcomes) fails every
    /// other batch of its group with [`GroupCommitError::LeaderPanicked`] instead of
    /// leaving their appenders waiting, and the panic goes on in the leader's thread.
    pub fn append(
        &self,
        batch: AppendBatch,
        commit: impl FnOnce(Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError>,
    ) -> Result<Appended, StoreError> {
        let mut commit = Some(commit);
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push((ticket, batch));
        loop {
            if let Some(result) = state.results.remove(&ticket) {
                return result;
            }
            if !state.leading {
                // No result and no leader: our batch is still queued (a leader hands
                // out every result of its group before it steps down), so lead.
                state.leading = true;
                let group = std::mem::take(&mut state.queue);
                drop(state);
                let (tickets, batches): (Vec<u64>, Vec<AppendBatch>) = group.into_iter().unzip();
                let mut step_down = StepDown {
                    group: self,
                    leader: ticket,
                    tickets,
                    outcomes: None,
                };
                let commit = commit.take().expect("an appender leads at most once");
                let outcomes = share_failure(commit(batches), step_down.tickets.len());
                step_down.outcomes = Some(outcomes);
                drop(step_down);
                state = self.lock();
                continue;
            }
            state = self
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// One outcome per batch of a group of `n`: those `commit` gave (checked to be `n`),
/// or its failure for every batch.
fn share_failure(committed: Result<Vec<BatchOutcome>, StoreError>, n: usize) -> Vec<BatchOutcome> {
    match committed {
        Ok(outcomes) => {
            // A backend bug, not a storage failure: the panic fails the group (StepDown).
            assert_eq!(
                outcomes.len(),
                n,
                "a group commit must return one outcome per batch"
            );
            outcomes
        }
        Err(e) if n == 1 => vec![Err(e)],
        Err(e) => (0..n)
            .map(|_| {
                Err(match &e {
                    // Corruption is what a caller must see as such, from any batch.
                    StoreError::Corrupt { position, reason } => StoreError::Corrupt {
                        position: *position,
                        reason: reason.clone(),
                    },
                    other => StoreError::Backend(Box::new(GroupCommitError::Failed {
                        reason: other.to_string(),
                    })),
                })
            })
            .collect(),
    }
}

/// Hands out the leader's outcomes, steps the leader down and wakes the waiting
/// appenders, also when the commit panicked: then every other batch of the group fails
/// instead of its appender waiting forever.
struct StepDown<'a> {
    group: &'a GroupCommit,
    /// The leader's own ticket: when it panics nobody will pick its result up.
    leader: u64,
    tickets: Vec<u64>,
    outcomes: Option<Vec<BatchOutcome>>,
}

impl Drop for StepDown<'_> {
    fn drop(&mut self) {
        let mut state = self.group.lock();
        match self.outcomes.take() {
            Some(outcomes) => state
                .results
                .extend(self.tickets.iter().copied().zip(outcomes)),
            None => {
                for &t in self.tickets.iter().filter(|&&t| t != self.leader) {
                    state.results.insert(
                        t,
                        Err(StoreError::Backend(Box::new(
                            GroupCommitError::LeaderPanicked,
                        ))),
                    );
                }
            }
        }
        state.leading = false;
        drop(state);
        self.group.done.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use planledger_ledger::Hash;

    use super::*;
    use crate::conformance::batch;
    use crate::{ExpectedVersion, Head};

    /// An outcome that tells which batch it belongs to: the stream `plan-<i>` gets
    /// position `i`, and `plan-x` a conflict.
    fn outcome(b: &AppendBatch) -> BatchOutcome {
        let Some(Ok(i)) = b.stream_id.strip_prefix("plan-").map(str::parse::<u64>) else {
            return Err(StoreError::Conflict {
                stream_id: b.stream_id.clone(),
                expected: b.expected,
                actual: 7,
            });
        };
        Ok(Appended {
            first_position: i,
            stream_version: 1,
            head: Head {
                size: i + 1,
                last_hash: Hash::ZERO,
                root: Hash::ZERO,
            },
            sealed_at_micros: 0,
        })
    }

    fn each(batches: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError> {
        Ok(batches.iter().map(outcome).collect())
    }

    /// Runs one appender for `plan-0` whose commit blocks until appenders for each of
    /// `followers` have queued behind it; each follower's commit is `commit`. Returns
    /// the leader's result, the followers' results in the order given, and the sizes of
    /// the groups committed (a panicking commit's group is not counted).
    fn group_behind_a_commit(
        followers: &[&str],
        commit: fn(Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError>,
    ) -> (
        std::thread::Result<BatchOutcome>,
        Vec<std::thread::Result<BatchOutcome>>,
        Vec<usize>,
        GroupCommit,
    ) {
        let g = GroupCommit::new();
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (sizes_tx, sizes_rx) = mpsc::channel();
        let (first, rest) = std::thread::scope(|s| {
            let (g, sizes) = (&g, sizes_tx.clone());
            let first = s.spawn(move || {
                g.append(batch("plan-0", ExpectedVersion::Any, 1), |group| {
                    entered_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    sizes.send(group.len()).unwrap();
                    each(group)
                })
            });
            entered_rx.recv().unwrap();
            let rest: Vec<_> = followers
                .iter()
                .map(|stream| {
                    let sizes = sizes_tx.clone();
                    s.spawn(move || {
                        g.append(batch(stream, ExpectedVersion::Any, 1), move |group| {
                            let n = group.len();
                            let r = commit(group);
                            sizes.send(n).unwrap();
                            r
                        })
                    })
                })
                .collect();
            // Wait (without a time limit on any outcome) until all have queued.
            while g.queued() < followers.len() {
                std::thread::yield_now();
            }
            release_tx.send(()).unwrap();
            (
                first.join(),
                rest.into_iter().map(|t| t.join()).collect::<Vec<_>>(),
            )
        });
        drop(sizes_tx);
        (first, rest, sizes_rx.iter().collect(), g)
    }

    #[test]
    fn appenders_arriving_during_a_commit_share_the_next_one_and_get_their_own_result() {
        let (first, rest, sizes, g) = group_behind_a_commit(&["plan-1", "plan-x", "plan-3"], each);
        assert_eq!(first.unwrap().unwrap().first_position, 0);
        let rest: Vec<BatchOutcome> = rest.into_iter().map(Result::unwrap).collect();
        assert_eq!(rest[0].as_ref().unwrap().first_position, 1);
        assert!(
            matches!(&rest[1], Err(StoreError::Conflict { stream_id, .. }) if stream_id == "plan-x"),
            "a conflict fails its own batch only"
        );
        assert_eq!(rest[2].as_ref().unwrap().first_position, 3);
        assert_eq!(
            sizes,
            [1, 3],
            "the three queued batches are committed together"
        );
        assert!(g.lock().results.is_empty(), "every result was picked up");
    }

    #[test]
    fn a_failed_commit_fails_every_batch_of_its_group() {
        fn fails(_: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError> {
            Err(StoreError::NotFound {
                what: "the disk".into(),
            })
        }
        let (first, rest, sizes, _) = group_behind_a_commit(&["plan-1", "plan-2"], fails);
        assert!(first.unwrap().is_ok(), "the earlier group is not affected");
        assert_eq!(sizes, [1, 2]);
        for r in rest {
            let Err(StoreError::Backend(e)) = r.unwrap() else {
                panic!("a batch of a failed group must fail");
            };
            let e = e.downcast::<GroupCommitError>().expect("a group failure");
            assert!(
                matches!(*e, GroupCommitError::Failed { ref reason } if reason.contains("the disk")),
                "{e}"
            );
        }
        // A group of one gets the backend's error itself.
        let g = GroupCommit::new();
        let r = g.append(batch("plan-1", ExpectedVersion::Any, 1), fails);
        assert!(matches!(r, Err(StoreError::NotFound { .. })));
    }

    #[test]
    fn corruption_reaches_every_batch_of_a_failed_group_as_corruption() {
        fn corrupt(_: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError> {
            Err(StoreError::Corrupt {
                position: 4,
                reason: "the stored head".into(),
            })
        }
        let (_, rest, _, _) = group_behind_a_commit(&["plan-1", "plan-2"], corrupt);
        for r in rest {
            assert!(matches!(
                r.unwrap(),
                Err(StoreError::Corrupt { position: 4, .. })
            ));
        }
    }

    /// A panicking commit fails the other batches of its group instead of leaving
    /// their appenders waiting, leaves nothing behind, and the next appender leads.
    #[test]
    fn a_panicking_commit_fails_its_group_and_frees_the_queue() {
        fn panics(_: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError> {
            panic!("simulated failure inside a commit")
        }
        let (first, rest, _, g) = group_behind_a_commit(&["plan-1", "plan-2"], panics);
        assert!(first.unwrap().is_ok());
        // Whichever of the two led panicked; the other was failed, not left waiting.
        let (panicked, failed): (Vec<_>, Vec<_>) = rest.into_iter().partition(Result::is_err);
        assert_eq!((panicked.len(), failed.len()), (1, 1));
        let Err(StoreError::Backend(e)) = failed.into_iter().next().unwrap().unwrap() else {
            panic!("the follower of a panicked leader must fail");
        };
        assert!(matches!(
            *e.downcast::<GroupCommitError>().unwrap(),
            GroupCommitError::LeaderPanicked
        ));
        {
            let state = g.lock();
            assert!(!state.leading, "the panicking leader stepped down");
            assert!(state.results.is_empty(), "no result is left for nobody");
        }
        let r = g.append(batch("plan-3", ExpectedVersion::Any, 1), each);
        assert_eq!(r.unwrap().first_position, 3);
    }

    /// A commit that returns fewer outcomes than batches is a bug of the backend: it
    /// panics in the leader rather than leaving a batch without a result.
    #[test]
    fn a_commit_with_too_few_outcomes_panics_in_the_leader() {
        let g = GroupCommit::new();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            g.append(batch("plan-0", ExpectedVersion::Any, 1), |_| Ok(Vec::new()))
        }));
        assert!(r.is_err());
        assert!(!g.lock().leading);
        assert!(g.lock().results.is_empty());
    }
}
