//! The read model: the plan index the appends keep, against the index derived again from
//! the records, and what readers are shown through it, against a whole-ledger fold, over
//! random synthetic organisations.

use planledger_app::{Recorder, index};
use planledger_audit::{
    Scope, in_force, incomplete, late, new_client_fee, overdue, overview, unapproved, unsigned,
};
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
    let mut recorder = Recorder::new(&store, org.policy.clone());
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
        prop_assert_eq!(index::check(&store, &org.policy, &mut |_, _| {}).unwrap(), None);
        let plans: Vec<String> = store.tag_values("unit").unwrap().into_iter().map(|(_, p)| p).collect();
        let before: Vec<_> = ["unit", "act", "client"].iter()
            .map(|k| store.tag_values(k).unwrap()).collect();
        let summaries = store.summaries(&plans).unwrap();
        prop_assert!(summaries.iter().all(Option::is_some));
        let state_tags: Vec<_> = ["due", "latest"].iter()
            .map(|k| store.tag_values(k).unwrap()).collect();
        prop_assert_eq!(state_tags[0].len(), plans.len());
        index::reindex(&store, &org.policy, &mut |_, _| {}).unwrap();
        let after: Vec<_> = ["unit", "act", "client"].iter()
            .map(|k| store.tag_values(k).unwrap()).collect();
        prop_assert_eq!(before, after);
        // A rebuild of the read model gives what incremental maintenance wrote.
        prop_assert_eq!(store.summaries(&plans).unwrap(), summaries);
        let rebuilt: Vec<_> = ["due", "latest"].iter()
            .map(|k| store.tag_values(k).unwrap()).collect();
        prop_assert_eq!(rebuilt, state_tags);
        // Readers through the index see what a fold of the whole ledger sees.
        let ledger = LedgerPlans::open(&store).unwrap();
        let whole = Projection::rebuild(&store).unwrap();
        let policy = DeadlinePolicy::default();
        let as_of = org.start + chrono::Days::new(u64::from(day));
        let scope = Scope::new(as_of);
        prop_assert_eq!(overview(&ledger, &policy, &scope).unwrap(), overview(&whole, &policy, &scope).unwrap());
        prop_assert_eq!(overdue(&ledger, &policy, &scope).unwrap(), overdue(&whole, &policy, &scope).unwrap());
        // The due index was written under the organisation's policy: a reader under
        // another one reads every plan instead, and still answers the same.
        let monthly = DeadlinePolicy::from_toml(
            "organisation = \"Other\"\n[home_care]\nreview_every_months = 1\n",
        ).unwrap();
        prop_assert_eq!(overdue(&ledger, &monthly, &scope).unwrap(), overdue(&whole, &monthly, &scope).unwrap());
        for unit in org.units() {
            let scope = Scope::new(as_of).unit(unit.id.clone());
            prop_assert_eq!(overdue(&ledger, &policy, &scope).unwrap(), overdue(&whole, &policy, &scope).unwrap());
        }
        prop_assert_eq!(unapproved(&ledger, &policy, &scope).unwrap(), unapproved(&whole, &policy, &scope).unwrap());
        prop_assert_eq!(in_force(&ledger, &scope, None).unwrap(), in_force(&whole, &scope, None).unwrap());
        prop_assert_eq!(unsigned(&ledger, &scope).unwrap(), unsigned(&whole, &scope).unwrap());
        prop_assert_eq!(incomplete(&ledger, &scope).unwrap(), incomplete(&whole, &scope).unwrap());
        prop_assert_eq!(late(&ledger, &policy, &scope).unwrap(), late(&whole, &policy, &scope).unwrap());
        prop_assert_eq!(new_client_fee(&ledger, &policy, &scope).unwrap(), new_client_fee(&whole, &policy, &scope).unwrap());
        // What reports read of a plan without its contents is what they would read of it
        // whole.
        for view in whole.plans() {
            let full = view.state();
            let summary = full.without_contents();
            prop_assert_eq!(summary.overdue(&policy, as_of), full.overdue(&policy, as_of));
            prop_assert_eq!(summary.due_dates(&policy), full.due_dates(&policy));
            prop_assert_eq!(summary.new_client_fee(&policy), full.new_client_fee(&policy));
            prop_assert_eq!(summary.authority_state(), full.authority_state());
            for v in full.versions() {
                prop_assert_eq!(summary.gaps(v.number), full.gaps(v.number));
            }
        }
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
    let policy = org.policy.clone();
    let check = |store: &MemoryStore| index::check(store, &policy, &mut |_, _| {}).unwrap();
    assert_eq!(check(&store), Some(format!("the index of plan {plan}")));
    index::reindex(&store, &policy, &mut |_, _| {}).unwrap();
    assert_eq!(check(&store), None);
    // A summary changed behind the records' back (same version, other state).
    let stored = store.summaries(std::slice::from_ref(&plan)).unwrap()[0]
        .clone()
        .unwrap();
    let forged = planledger_store::StreamSummary {
        bytes: String::from_utf8(stored.bytes.clone())
            .unwrap()
            .replacen("\"events\":", "\"events\":1", 1)
            .into_bytes(),
        ..stored
    };
    store.put_summaries(&[(plan.clone(), forged)]).unwrap();
    assert_eq!(
        check(&store),
        Some(format!("the read model's summary of plan {plan}"))
    );
    index::reindex(&store, &policy, &mut |_, _| {}).unwrap();
    assert_eq!(check(&store), None);
    // A due tag that says the plan has nothing due (it would hide the plan from
    // `overdue`).
    let key = planledger_projection::policy_key(&policy);
    store
        .put_tags(&[planledger_store::StreamTag {
            stream_id: plan.clone(),
            key: "due".into(),
            value: format!("{key}:9999-12-31"),
        }])
        .unwrap();
    assert_eq!(
        check(&store),
        Some(format!("the read model's summary of plan {plan}"))
    );
}
