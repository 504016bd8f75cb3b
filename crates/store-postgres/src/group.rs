//! Group commit: appends to one ledger from threads of this process that arrive while a
//! commit is running share the next transaction.
//!
//! An append holds its ledger's head row until its commit is flushed, because the next
//! append seals on top of it; so appends to one ledger cannot overlap, and one writer at
//! a time pays a whole WAL flush. Instead, an appender queues its batch; if no commit
//! is running it leads: it takes every queued batch (its own among them), seals them
//! one after another in one transaction, commits once, and hands each appender its own
//! result. Each batch is still checked on its own (a stale expected version fails that
//! batch only). Other processes appending to the same ledger still serialise with this
//! one on the head row.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use planledger_store::{AppendBatch, Appended, StoreError};

/// One appender's result, by its ticket.
pub(crate) type Outcome = (u64, Result<Appended, StoreError>);

#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Default)]
struct State {
    next_ticket: u64,
    queue: Vec<(u64, AppendBatch)>,
    results: HashMap<u64, Result<Appended, StoreError>>,
    leading: bool,
}

/// Why an append failed because the leader of its group panicked.
#[derive(Debug, thiserror::Error)]
#[error("the commit of this batch's group was interrupted by a panic; the batch was not written")]
pub(crate) struct LeaderPanicked;

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent between statements; a panic elsewhere cannot break it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `batch` and returns its result once its group is committed. The leader
    /// calls `commit` with the whole group; it returns one outcome per batch.
    pub(crate) fn append(
        &self,
        batch: AppendBatch,
        commit: impl FnOnce(Vec<(u64, AppendBatch)>) -> Vec<Outcome>,
    ) -> Result<Appended, StoreError> {
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push((ticket, batch));
        let mut commit = Some(commit);
        loop {
            if let Some(result) = state.results.remove(&ticket) {
                return result;
            }
            if !state.leading {
                // No result and no leader: our batch is still queued (a leader hands out
                // every result of its group before it steps down).
                state.leading = true;
                let group = std::mem::take(&mut state.queue);
                drop(state);
                let tickets: Vec<u64> = group.iter().map(|(t, _)| *t).collect();
                let step_down = StepDown {
                    group: self,
                    tickets,
                };
                let outcomes = (commit.take().expect("a thread leads at most once"))(group);
                state = self.lock();
                state.results.extend(outcomes);
                drop(state);
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

/// Steps the leader down and wakes the waiting appenders, also when the commit panicked
/// (then the group's appenders get [`LeaderPanicked`] instead of waiting forever).
struct StepDown<'a> {
    group: &'a GroupCommit,
    tickets: Vec<u64>,
}

impl Drop for StepDown<'_> {
    fn drop(&mut self) {
        let mut state = self.group.lock();
        for t in &self.tickets {
            state
                .results
                .entry(*t)
                .or_insert_with(|| Err(StoreError::Backend(Box::new(LeaderPanicked))));
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
    use planledger_store::{ExpectedVersion, Head, conformance::batch};

    use super::*;

    fn ok(ticket: u64) -> Outcome {
        let head = Head {
            size: ticket + 1,
            last_hash: Hash::ZERO,
            root: Hash::ZERO,
        };
        (
            ticket,
            Ok(Appended {
                first_position: ticket,
                stream_version: 1,
                head,
            }),
        )
    }

    fn all_ok(group: Vec<(u64, AppendBatch)>) -> Vec<Outcome> {
        group.into_iter().map(|(t, _)| ok(t)).collect()
    }

    #[test]
    fn appenders_arriving_during_a_commit_share_the_next_one_and_get_their_own_result() {
        let g = GroupCommit::default();
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (sizes_tx, sizes_rx) = mpsc::channel();
        std::thread::scope(|s| {
            let (g, sizes) = (&g, sizes_tx.clone());
            let leader = s.spawn(move || {
                g.append(batch("plan-0", ExpectedVersion::Any, 1), |group| {
                    entered_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    sizes.send(group.len()).unwrap();
                    all_ok(group)
                })
            });
            entered_rx.recv().unwrap();
            let followers: Vec<_> = (1..=3)
                .map(|i| {
                    let sizes = sizes_tx.clone();
                    s.spawn(move || {
                        g.append(
                            batch(&format!("plan-{i}"), ExpectedVersion::Any, 1),
                            |group| {
                                sizes.send(group.len()).unwrap();
                                all_ok(group)
                            },
                        )
                    })
                })
                .collect();
            // Wait (without a time limit) until the three have queued behind the leader.
            while g.lock().queue.len() < 3 {
                std::thread::yield_now();
            }
            release_tx.send(()).unwrap();
            assert_eq!(leader.join().unwrap().unwrap().first_position, 0);
            let mut firsts: Vec<u64> = followers
                .into_iter()
                .map(|f| f.join().unwrap().unwrap().first_position)
                .collect();
            firsts.sort();
            assert_eq!(firsts, [1, 2, 3], "each appender gets its own result");
        });
        drop(sizes_tx);
        assert_eq!(sizes_rx.iter().collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn a_panicking_leader_fails_its_group_instead_of_hanging_it() {
        let g = GroupCommit::default();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            g.append(batch("plan-0", ExpectedVersion::Any, 1), |_| {
                panic!("injected")
            })
        }));
        assert!(panicked.is_err());
        // The next appender leads a new group.
        let r = g.append(batch("plan-1", ExpectedVersion::Any, 1), all_ok);
        assert_eq!(r.unwrap().first_position, 1);
        assert!(
            g.lock().results.contains_key(&0),
            "the panicked ticket got a result"
        );
    }
}
