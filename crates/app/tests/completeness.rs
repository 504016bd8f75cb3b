//! Bundles prove a client's whole history (issue 12): over random synthetic ledgers and
//! random clients, every honest bundle proven against a checkpoint that commits the map
//! verifies as complete, and every tamper of the list is rejected by
//! `verify_bundle`, naming the plan that is missing or foreign: the last record of a
//! plan removed, a record in the middle removed, only a prefix of a plan kept, one of
//! the client's plans left out (with and without editing the plan list), another
//! client's plan added (with and without adding it to the list), another client's
//! records in place of this client's, and an older export presented against a newer
//! checkpoint. Budget: `PROPTEST_CASES` (12 here by default: each case records a ledger).

use chrono::{Days, NaiveTime};
use planledger_app::map::MapKey;
use planledger_app::{Recorder, evidence, witness};
use planledger_ledger::{CheckpointSigner, inclusion_proof};
use planledger_plan::{
    ActKind, Actor, Command, OrderId, Personnummer, PlanId, Role, UnitId, UserId,
};
use planledger_projection::{TAG_ACT, TAG_CLIENT, TAG_UNIT};
use planledger_store::{MemoryStore, Store, StoreNodes};
use planledger_synth::Organisation;
use proptest::prelude::*;
use verify_bundle::{Bundle, BundleError, BundleRecord};

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

/// After every generated record: the organisation's last day plus `days`, at noon.
fn after(org: &Organisation, days: u64) -> chrono::DateTime<chrono::Utc> {
    let end = org
        .start
        .checked_add_months(chrono::Months::new(org.months))
        .unwrap();
    (end + Days::new(days))
        .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap())
        .and_utc()
}

fn officer() -> Actor {
    Actor::new(UserId::new("bo-handlaggare").unwrap(), Role::CaseOfficer)
}

/// Opens another plan for `client` (a second plan of the same unit and act as `like`).
fn open_plan(
    store: &MemoryStore,
    org: &Organisation,
    client: &Personnummer,
    like: &str,
    id: &str,
    day: u64,
) {
    let tags: std::collections::BTreeMap<String, String> =
        store.stream_tags(like).unwrap().into_iter().collect();
    let plan = PlanId::new(id).unwrap();
    let command = Command::ReceiveOrder {
        order: OrderId::new(format!("best-{id}")).unwrap(),
        plan,
        unit: UnitId::new(&tags[TAG_UNIT]).unwrap(),
        act: tags[TAG_ACT].parse::<ActKind>().unwrap(),
        client: *client,
        received_on: after(org, day).date_naive(),
        granted_services: vec!["dusch".into()],
    };
    Recorder::new(store, org.policy.clone())
        .record(&command, &officer(), after(org, day), None)
        .unwrap();
}

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed("test.example/planledger", [7; 32]).unwrap()
}

fn sign(store: &MemoryStore, org: &Organisation, day: u64, key: &MapKey) -> witness::Witnessed {
    witness::sign_head(store, &signer(), None, after(org, day), Some(key), &[]).unwrap()
}

fn check(b: &Bundle) -> Result<verify_bundle::Proven, BundleError> {
    verify_bundle::verify(&serde_json::to_string(b).unwrap(), &signer().verifier())
}

/// The error's message must name `plan`.
fn rejected_naming(b: &Bundle, plan: &str, what: &str) -> Result<(), TestCaseError> {
    match check(b) {
        Ok(_) => Err(TestCaseError::fail(format!(
            "{what}: the tampered bundle verified"
        ))),
        Err(e) => {
            prop_assert!(
                e.to_string().contains(plan),
                "{what}: the error does not name plan {plan}: {e}"
            );
            Ok(())
        }
    }
}

fn rejected(b: &Bundle, what: &str) -> Result<BundleError, TestCaseError> {
    match check(b) {
        Ok(_) => Err(TestCaseError::fail(format!(
            "{what}: the tampered bundle verified"
        ))),
        Err(e) => Ok(e),
    }
}

fn stream_of(store: &MemoryStore, r: &BundleRecord) -> String {
    store.read_all(r.position, 1).unwrap()[0]
        .stream_id()
        .to_owned()
}

/// Indices into `b.records` of each plan, in order.
fn by_plan(store: &MemoryStore, b: &Bundle) -> std::collections::BTreeMap<String, Vec<usize>> {
    let mut out: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (i, r) in b.records.iter().enumerate() {
        out.entry(stream_of(store, r)).or_default().push(i);
    }
    out
}

fn without(b: &Bundle, drop: &[usize]) -> Bundle {
    let mut t = b.clone();
    t.records = (b.records.iter().enumerate())
        .filter(|(i, _)| !drop.contains(i))
        .map(|(_, r)| r.clone())
        .collect();
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn honest_bundles_verify_complete_and_every_tamper_is_rejected(
        seed in any::<u64>(),
        clients in 2usize..10,
        months in 1u32..4,
        pick in any::<prop::sample::Index>(),
        other_pick in any::<prop::sample::Index>(),
        extra_plans in 0usize..3,
        cut in any::<prop::sample::Index>(),
    ) {
        let org = Organisation { seed, clients, months, ..Organisation::default() };
        let store = recorded(&org);
        let key = MapKey::from_bytes([3; 32]);
        let mut all: Vec<(Personnummer, String)> = store
            .tag_values(TAG_CLIENT)
            .unwrap()
            .into_iter()
            .map(|(pnr, plan)| (Personnummer::parse(&pnr).unwrap(), plan))
            .collect();
        all.dedup_by(|a, b| a.0 == b.0);
        prop_assume!(all.len() >= 2);
        let (client, first_plan) = all[pick.index(all.len())].clone();
        let others: Vec<_> = all.iter().filter(|(c, _)| *c != client).cloned().collect();
        let (other, _) = others[other_pick.index(others.len())].clone();
        // Some clients have more than one plan.
        for i in 0..extra_plans {
            open_plan(&store, &org, &client, &first_plan, &format!("plan-extra-{i}"), 1 + i as u64);
        }
        let cp = sign(&store, &org, 10, &key);

        // Honest bundles verify, and prove the whole of each client's history.
        let (honest, exported) = evidence::bundle(&store, &client, &cp, None, Some(&key)).unwrap();
        let proven = check(&honest).unwrap();
        let complete = proven.complete.as_ref().expect("a map checkpoint proves completeness");
        prop_assert_eq!(complete.plans, 1 + extra_plans);
        prop_assert_eq!(&complete.client, &client);
        prop_assert_eq!(exported.plans, 1 + extra_plans);
        let client_records = (store.streams_tagged(TAG_CLIENT, &client.digits()).unwrap().iter())
            .map(|p| store.stream_version(p).unwrap() as usize)
            .sum::<usize>();
        prop_assert_eq!(proven.records.len(), client_records);
        let (foreign, _) = evidence::bundle(&store, &other, &cp, None, Some(&key)).unwrap();
        prop_assert!(check(&foreign).unwrap().complete.is_some());

        let plans = by_plan(&store, &honest);
        let plan_ids: Vec<&String> = plans.keys().collect();
        let victim = plan_ids[cut.index(plan_ids.len())].clone();
        let idx = &plans[&victim];

        // The last record of a plan removed.
        let t = without(&honest, &[*idx.last().unwrap()]);
        if t.records.is_empty() {
            prop_assert!(matches!(rejected(&t, "drop last")?, BundleError::Empty));
        } else {
            rejected_naming(&t, &victim, "drop last")?;
        }
        // A record in the middle removed.
        if idx.len() >= 3 {
            let t = without(&honest, &[idx[cut.index(idx.len() - 2) + 1]]);
            rejected_naming(&t, &victim, "drop middle")?;
        }
        // Only a prefix kept.
        if idx.len() >= 2 {
            let keep = 1 + cut.index(idx.len() - 1);
            let t = without(&honest, &idx[keep..]);
            let e = rejected(&t, "prefix")?;
            prop_assert!(matches!(e, BundleError::Truncated { ref plan, holds, length }
                if *plan == victim && holds == keep as u64 && length == idx.len() as u64), "{}", e);
        }
        // One of the client's plans left out; then also from the plan list.
        let t = without(&honest, idx);
        if t.records.is_empty() {
            prop_assert!(matches!(rejected(&t, "drop plan")?, BundleError::Empty));
        } else {
            let e = rejected(&t, "drop plan")?;
            prop_assert!(matches!(e, BundleError::MissingPlan { ref plan } if *plan == victim), "{}", e);
            let mut t = t;
            let c = t.completeness.as_mut().unwrap();
            let at = c.plans.iter().position(|p| *p == victim).unwrap();
            c.plans.remove(at);
            c.streams.remove(at);
            let e = rejected(&t, "drop plan and list")?;
        prop_assert!(matches!(e, BundleError::Completeness { .. }), "{}", e);
        }
        // Another client's plan added; then also to the plan list.
        let theirs = by_plan(&store, &foreign);
        let (their_plan, their_idx) = theirs.iter().next().unwrap();
        let mut t = honest.clone();
        t.records.extend(their_idx.iter().map(|&i| foreign.records[i].clone()));
        rejected_naming(&t, their_plan, "add another client's plan")?;
        let fc = foreign.completeness.as_ref().unwrap();
        let c = t.completeness.as_mut().unwrap();
        c.plans.push(their_plan.clone());
        c.streams.push(fc.streams.iter().find(|s| s.plan == *their_plan).unwrap().clone());
        let mut order: Vec<usize> = (0..c.plans.len()).collect();
        order.sort_by(|&a, &b| c.plans[a].cmp(&c.plans[b]));
        c.plans = order.iter().map(|&i| c.plans[i].clone()).collect();
        c.streams = order.iter().map(|&i| c.streams[i].clone()).collect();
        let e = rejected(&t, "add plan and list")?;
        prop_assert!(matches!(e, BundleError::Completeness { .. }), "{}", e);
        // Another client's records in place of this client's: with this client's proof,
        // with this client named on the other's proof, and the other's honest bundle
        // given to someone who asked for this client.
        let mut t = honest.clone();
        t.records = foreign.records.clone();
        let e = rejected(&t, "swap records")?;
        prop_assert!(matches!(e, BundleError::Foreign { .. }), "{}", e);
        let mut t = foreign.clone();
        t.completeness.as_mut().unwrap().client = client.digits();
        let e = rejected(&t, "swap name")?;
        prop_assert!(matches!(e, BundleError::Completeness { .. }), "{}", e);
        let e = verify_bundle::verify_with(
            &serde_json::to_string(&foreign).unwrap(),
            &signer().verifier(),
            None,
            Some(&client),
        )
        .unwrap_err();
        prop_assert!(matches!(e, BundleError::NotTheClient), "{}", e);

        // An older export against a newer checkpoint: the client's history grew (a new
        // plan), a new checkpoint was signed; the old records re-proven against it (as
        // anyone holding the ledger could) with the old or the new map proofs, and the
        // old bundle as it was given to someone holding the newer checkpoint.
        open_plan(&store, &org, &client, &first_plan, "plan-later", 30);
        let cp2 = sign(&store, &org, 31, &key);
        let (fresh, _) = evidence::bundle(&store, &client, &cp2, None, Some(&key)).unwrap();
        prop_assert_eq!(check(&fresh).unwrap().complete.unwrap().plans, 2 + extra_plans);
        let mut stale = honest.clone();
        stale.checkpoint = cp2.note.clone();
        for r in &mut stale.records {
            let proof = inclusion_proof(&StoreNodes(&store), r.position, cp2.checkpoint.size).unwrap();
            r.proof = proof.path.iter().map(|h| h.to_hex()).collect();
        }
        prop_assert!(check(&stale).is_err(), "stale records with the old map proofs verified");
        stale.completeness = fresh.completeness.clone();
        let e = rejected(&stale, "stale with new map proofs")?;
        prop_assert!(matches!(e, BundleError::MissingPlan { ref plan } if plan == "plan-later"), "{}", e);
        let e = verify_bundle::verify_since(
            &serde_json::to_string(&honest).unwrap(),
            &signer().verifier(),
            Some(&cp2.note),
        )
        .unwrap_err();
        prop_assert!(matches!(e, BundleError::Stale { .. }), "{}", e);
    }
}

/// The map's leaves kept in the store make the next build read only the records after
/// them, and give the root a build from every record gives; leaves that do not have a
/// signed root (altered, of another key, or with nothing signed) are not used: the map
/// is then built from every record, with the same root.
#[test]
fn a_map_resumed_from_kept_leaves_has_the_root_of_one_built_from_every_record() {
    let org = Organisation {
        clients: 6,
        months: 2,
        seed: 5,
        ..Organisation::default()
    };
    let store = recorded(&org);
    let key = MapKey::from_bytes([9; 32]);
    let first = sign(&store, &org, 1, &key);
    let first_root = first.checkpoint.map_root.unwrap();
    let signed = [(first.checkpoint.size, first_root)];
    let kept_at_first = store.derived("map-leaves").unwrap().expect("leaves kept");
    // More records, a new plan among them.
    let client = Personnummer::parse("19640823-3234").unwrap();
    let like = store
        .tag_values(TAG_CLIENT)
        .unwrap()
        .into_iter()
        .next()
        .unwrap()
        .1;
    open_plan(&store, &org, &client, &like, "plan-resumed", 2);
    let size = store.head().unwrap().size;
    let cold = planledger_app::map::build(&store, size, &key, &[]).unwrap();
    // `build` with nothing signed kept the leaves at `size`; put back the first
    // checkpoint's, as its signing left them.
    store.put_derived("map-leaves", &kept_at_first).unwrap();
    let resumed = planledger_app::map::build(&store, size, &key, &signed).unwrap();
    assert_eq!(resumed.root(), cold.root());
    assert_eq!(cold.records_read, size);
    assert_eq!(
        resumed.records_read,
        size - first.checkpoint.size,
        "only the records after the signed map are read"
    );
    assert_eq!(resumed.plans_of(&client), vec!["plan-resumed".to_owned()]);
    // The kept leaves are now at `size`: a build there needs nothing signed of them to
    // be of use, and with its root signed, reads no record (same root).
    let again = planledger_app::map::build(&store, size, &key, &[(size, cold.root())]).unwrap();
    assert_eq!(again.root(), cold.root());
    assert_eq!(again.records_read, 0);

    // Altered leaves do not have a signed root: not used, the root is still right.
    let mut kept = store.derived("map-leaves").unwrap().unwrap();
    let last = kept.len() - 1;
    kept[last] ^= 1;
    store.put_derived("map-leaves", &kept).unwrap();
    let rebuilt = planledger_app::map::build(&store, size, &key, &[(size, cold.root())]).unwrap();
    assert_eq!(rebuilt.root(), cold.root());
    assert_eq!(rebuilt.records_read, size, "altered leaves are not used");
    // Another key's leaves are not used either.
    let other = MapKey::from_bytes([8; 32]);
    let other_map = planledger_app::map::build(&store, size, &other, &[]).unwrap();
    assert_ne!(other_map.root(), cold.root());
    let mine = planledger_app::map::build(&store, size, &key, &[(size, other_map.root())]).unwrap();
    assert_eq!(mine.root(), cold.root());
    assert_eq!(mine.records_read, size, "another key's leaves are not used");
}
