//! The read model: the plan index the appends keep, against the index derived again from
//! the records, and what readers are shown through it, against a whole-ledger fold, over
//! random synthetic organisations.

use planledger_app::{Recorder, index};
use planledger_audit::{Scope, in_force, overdue, overview, unapproved};
use planledger_plan::DeadlinePolicy;
use planledger_projection::{LedgerPlans, Projection};
use planledger_store::{MemoryStore, Store};
use planledger_synth::Organisation;
use proptest::prelude::*;

/// A new ledger (marked as indexed, as `init` makes one) with `org` recorded into it
/// through the Recorder, the one write path.
fn recorded(org: &Organisation) -> MemoryStore {
    let store = MemoryStore::new();
    store
        .put_tags(&[planledger_projection::index_marker()])
        .unwrap();
    let mut recorder = Recorder::new(&store);
    for (at, actor, command) in org.commands().unwrap() {
        recorder.record(&command, &actor, at, None).unwrap();
    }
    store
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn incremental_index_equals_rebuild_and_readers_answer_as_a_whole_fold(
        seed in any::<u64>(),
        clients in 1usize..40,
        months in 1u32..8,
        day in 0u32..240,
    ) {
        let org = Organisation { seed, clients, months, ..Organisation::default() };
        let store = recorded(&org);
        // What the appends wrote is what the records give.
        prop_assert_eq!(index::check(&store).unwrap(), None);
        let before: Vec<_> = ["unit", "act", "client"].iter()
            .map(|k| store.tag_values(k).unwrap()).collect();
        index::reindex(&store, &mut |_, _| {}).unwrap();
        let after: Vec<_> = ["unit", "act", "client"].iter()
            .map(|k| store.tag_values(k).unwrap()).collect();
        prop_assert_eq!(before, after);
        // Readers through the index see what a fold of the whole ledger sees.
        let ledger = LedgerPlans::open(&store).unwrap();
        let whole = Projection::rebuild(&store).unwrap();
        let policy = DeadlinePolicy::default();
        let as_of = org.start + chrono::Days::new(u64::from(day));
        let scope = Scope::new(as_of);
        prop_assert_eq!(overview(&ledger, &policy, &scope).unwrap(), overview(&whole, &policy, &scope).unwrap());
        prop_assert_eq!(overdue(&ledger, &policy, &scope).unwrap(), overdue(&whole, &policy, &scope).unwrap());
        prop_assert_eq!(unapproved(&ledger, &policy, &scope).unwrap(), unapproved(&whole, &policy, &scope).unwrap());
        prop_assert_eq!(in_force(&ledger, &scope, None).unwrap(), in_force(&whole, &scope, None).unwrap());
        for unit in org.units() {
            let scope = Scope::new(as_of).unit(unit.id.clone());
            prop_assert_eq!(overview(&ledger, &policy, &scope).unwrap(), overview(&whole, &policy, &scope).unwrap());
        }
    }
}

#[test]
fn an_index_that_differs_from_the_records_is_found_and_rebuilt() {
    let org = Organisation {
        seed: 3,
        clients: 12,
        months: 2,
        ..Organisation::default()
    };
    let store = recorded(&org);
    let (_, plan) = store.tag_values("unit").unwrap().remove(0);
    store
        .put_tags(&[planledger_store::StreamTag {
            stream_id: plan.clone(),
            key: "unit".into(),
            value: "another-unit".into(),
        }])
        .unwrap();
    assert_eq!(index::check(&store).unwrap(), Some(format!("plan {plan}")));
    index::reindex(&store, &mut |_, _| {}).unwrap();
    assert_eq!(index::check(&store).unwrap(), None);
}
