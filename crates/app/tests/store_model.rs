//! A model-based test of the `Store` trait (as redb tests its B-tree against a
//! `BTreeMap`): random sequences of appends (with right and stale expected versions),
//! stream reads, global reads and reopenings run against a plain `Vec` model, on the
//! memory store and the embedded redb store. Budget: `PROPTEST_CASES` (256 by default).

use planledger_ledger::{Actor, Envelope};
use planledger_store::{AppendBatch, ExpectedVersion, MemoryStore, NewEvent, Store, StoreError};
use planledger_store_redb::RedbStore;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Append `events` events to stream `stream`, expecting its version (or a stale one).
    Append {
        stream: u8,
        events: u8,
        stale: bool,
    },
    ReadStream {
        stream: u8,
        from: u64,
        limit: usize,
    },
    ReadAll {
        from: u64,
        limit: usize,
    },
    /// Close and open the store again (redb); the memory store stays as it is.
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..3, 1u8..4, prop::bool::weighted(0.2))
            .prop_map(|(stream, events, stale)| Op::Append { stream, events, stale }),
        2 => (0u8..3, 0u64..8, 1usize..6).prop_map(|(stream, from, limit)| Op::ReadStream { stream, from, limit }),
        2 => (0u64..20, 1usize..8).prop_map(|(from, limit)| Op::ReadAll { from, limit }),
        1 => Just(Op::Reopen),
    ]
}

/// The model: every record as (stream, version in it, payload), in position order.
type Model = Vec<(String, u64, Vec<u8>)>;

fn version_of(model: &Model, stream: &str) -> u64 {
    model.iter().filter(|(s, ..)| s == stream).count() as u64
}

fn run(ops: &[Op], mut open: impl FnMut(Option<Box<dyn Store>>) -> Box<dyn Store>) {
    let mut store = open(None);
    let mut model: Model = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Append {
                stream,
                events,
                stale,
            } => {
                let stream = format!("plan-{stream}");
                let current = version_of(&model, &stream);
                let expected = match (stale, current) {
                    (false, 0) => ExpectedVersion::NoStream,
                    (false, v) => ExpectedVersion::Exact(v),
                    (true, v) => ExpectedVersion::Exact(v + 1),
                };
                let payloads: Vec<Vec<u8>> = (0..*events)
                    .map(|i| format!("{step}-{i}").into_bytes())
                    .collect();
                let batch = AppendBatch {
                    stream_id: stream.clone(),
                    expected,
                    actor: Actor {
                        user_id: "u".into(),
                        role: "staff".into(),
                    },
                    claimed_at_micros: 1_770_000_000_000_000 + step as i64,
                    command_id: None,
                    tags: Vec::new(),
                    summary: None,
                    events: payloads
                        .iter()
                        .map(|p| NewEvent {
                            event_type: "t".into(),
                            schema_version: 1,
                            envelope: Envelope::plaintext(),
                            payload: p.clone(),
                        })
                        .collect(),
                };
                match store.append(batch) {
                    Ok(done) => {
                        assert!(!stale, "step {step}: a stale expectation was appended");
                        assert_eq!(done.first_position, model.len() as u64);
                        for (i, p) in payloads.into_iter().enumerate() {
                            model.push((stream.clone(), current + 1 + i as u64, p));
                        }
                        assert_eq!(done.stream_version, current + u64::from(*events));
                    }
                    Err(StoreError::Conflict { actual, .. }) => {
                        assert!(stale, "step {step}: a right expectation conflicted");
                        assert_eq!(actual, current);
                    }
                    Err(e) => panic!("step {step}: {e}"),
                }
            }
            Op::ReadStream {
                stream,
                from,
                limit,
            } => {
                let stream = format!("plan-{stream}");
                let got = store.read_stream(&stream, *from, *limit).unwrap();
                let want: Vec<_> = model
                    .iter()
                    .filter(|(s, v, _)| *s == stream && *v >= *from)
                    .take(*limit)
                    .collect();
                assert_eq!(got.len(), want.len(), "step {step}: read_stream");
                for (r, (s, v, p)) in got.iter().zip(want) {
                    assert_eq!(
                        (r.stream_id(), r.stream_version(), r.payload()),
                        (s.as_str(), *v, p.as_slice())
                    );
                }
            }
            Op::ReadAll { from, limit } => {
                let got = store.read_all(*from, *limit).unwrap();
                let want: Vec<_> = model.iter().skip(*from as usize).take(*limit).collect();
                assert_eq!(got.len(), want.len(), "step {step}: read_all");
                for (i, (r, (s, v, p))) in got.iter().zip(want).enumerate() {
                    assert_eq!(r.position(), from + i as u64);
                    assert_eq!(
                        (r.stream_id(), r.stream_version(), r.payload()),
                        (s.as_str(), *v, p.as_slice())
                    );
                }
            }
            Op::Reopen => store = open(Some(store)),
        }
        assert_eq!(
            store.head().unwrap().size,
            model.len() as u64,
            "step {step}: head"
        );
    }
    // The chain the store holds verifies as a whole.
    planledger_store::verify_store(store.as_ref(), &[], &mut |_, _| {})
        .expect("the chain verifies");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256), ..ProptestConfig::default() })]

    #[test]
    fn memory_store_matches_the_model(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops, |old| old.unwrap_or_else(|| Box::new(MemoryStore::new())));
    }

    #[test]
    fn redb_store_matches_the_model_across_reopenings(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ledger.redb");
        run(&ops, |old| match old {
            None => Box::new(RedbStore::create(&file).unwrap()),
            Some(store) => {
                // The file lock goes with the old handle.
                drop(store);
                Box::new(RedbStore::open(&file).unwrap())
            }
        });
    }
}
