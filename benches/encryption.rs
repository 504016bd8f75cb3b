//! The cost of per-client encryption (weeding by crypto-shredding, issue 16), each
//! figure next to the plaintext one in the same run, on the same synthetic records:
//!
//! - **append**: the same batches (a synthetic organisation's commands, decided by the
//!   domain, with their tags and summaries as the recorder makes them) appended to a
//!   plain embedded store and to a [`KeyedStore`] over one, in commits of
//!   [`COMMIT_BATCHES`] batches (as `import` groups lines). The keyed store seals every
//!   payload and summary and, at each client's first order, makes the client's key (one
//!   durable key-store write each); "keys made before" measures the sealing alone, on a
//!   key store that already holds every client's key.
//! - **rebuild**: every projection folded from zero (`Projection::rebuild`, which reads
//!   and decodes every record), and every plan folded from its own stream
//!   (`fold_stream`): the keyed store decrypts each payload first.
//! - **verify**: the whole chain and tree (`verify_store`), which hashes the stored
//!   bytes, ciphertext or not, and decrypts nothing: it should cost the same.
//!
//! ```sh
//! cargo bench --bench encryption -- --warm-up-time 1 --measurement-time 3
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use planledger_app::batch_of;
use planledger_app::crypt::Kek;
use planledger_app::keyed::KeyedStore;
use planledger_app::keystore::{KeyStore, RedbKeyStore};
use planledger_plan::{PlanId, PlanState, decide};
use planledger_projection::{Projection, fold_stream};
use planledger_store::{AppendBatch, Store, verify_store};
use planledger_store_redb::RedbStore;
use planledger_synth::Organisation;

/// Clients of the synthetic organisation, over [`MONTHS`]: about 5,000 records.
const CLIENTS: usize = 300;
const MONTHS: u32 = 6;
/// Batches per durable commit on append.
const COMMIT_BATCHES: usize = 256;

/// The organisation's commands, decided in order, as the batches the recorder appends.
fn batches() -> Vec<AppendBatch> {
    let org = Organisation {
        clients: CLIENTS,
        months: MONTHS,
        ..Organisation::default()
    };
    let policy = org.policy.clone();
    let mut states: HashMap<PlanId, PlanState> = HashMap::new();
    let mut out = Vec::new();
    for (at, actor, command) in org.commands().expect("a valid organisation") {
        let plan = command.plan().clone();
        let state = states.entry(plan.clone()).or_default();
        let events = decide(state, &command, &actor, at).expect("synthetic commands are accepted");
        let expected = state.stream_version();
        out.push(batch_of(
            &plan,
            state,
            expected,
            (&actor, at),
            &events,
            &policy,
        ));
    }
    out
}

/// The clients' numbers, from the batches that open their plans.
fn clients(batches: &[AppendBatch]) -> Vec<String> {
    let mut out: Vec<String> = batches
        .iter()
        .flat_map(|b| &b.tags)
        .filter(|(k, _)| k == "client")
        .map(|(_, v)| v.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

const KEK: [u8; 32] = [7; 32];

/// A fresh plain store, and a fresh keyed one (its key store holding `keys_for`'s keys).
struct Fresh {
    _dir: tempfile::TempDir,
    plain: RedbStore,
    keyed: KeyedStore,
}

fn fresh(keys_for: &[String]) -> Fresh {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let plain = RedbStore::create(dir.path().join("plain.redb")).expect("the plain store");
    let keys = RedbKeyStore::create(&dir.path().join("keys.redb"), &Kek::from_bytes(KEK))
        .expect("the key store");
    for digits in keys_for {
        keys.key_of_client(digits, true).expect("a client key");
    }
    let keyed = KeyedStore::new(
        Box::new(RedbStore::create(dir.path().join("keyed.redb")).expect("the keyed store")),
        Arc::new(keys),
    );
    Fresh {
        _dir: dir,
        plain,
        keyed,
    }
}

fn append_all(store: &dyn Store, batches: &[AppendBatch]) {
    for group in batches.chunks(COMMIT_BATCHES) {
        for outcome in store.append_many(group.to_vec()).expect("append") {
            outcome.expect("each batch appends");
        }
    }
}

fn encryption(c: &mut Criterion) {
    let batches = batches();
    let clients = clients(&batches);
    let events: u64 = batches.iter().map(|b| b.events.len() as u64).sum();
    eprintln!(
        "{} batches, {events} records, {} clients",
        batches.len(),
        clients.len()
    );

    let mut group = c.benchmark_group("encryption/append");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    group.bench_function("plaintext", |b| {
        b.iter_batched(
            || fresh(&[]),
            |f| append_all(&f.plain, &batches),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("encrypted, keys made in the run", |b| {
        b.iter_batched(
            || fresh(&[]),
            |f| append_all(&f.keyed, &batches),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("encrypted, keys made before", |b| {
        b.iter_batched(
            || fresh(&clients),
            |f| append_all(&f.keyed, &batches),
            BatchSize::PerIteration,
        )
    });
    group.finish();

    // One ledger of each kind for the readers.
    let f = fresh(&[]);
    append_all(&f.plain, &batches);
    append_all(&f.keyed, &batches);
    let plans: Vec<PlanId> = {
        let mut p: Vec<PlanId> = batches
            .iter()
            .map(|b| PlanId::new(b.stream_id.clone()).expect("a plan id"))
            .collect();
        p.sort();
        p.dedup();
        p
    };
    let stores: [(&str, &dyn Store); 2] = [("plaintext", &f.plain), ("encrypted", &f.keyed)];
    // What verify hashes: the stored bytes, larger when sealed (key id, nonce, tag).
    for (name, store) in stores {
        let bytes: usize = store
            .read_all_bytes(0, usize::MAX)
            .expect("the records")
            .iter()
            .map(Vec::len)
            .sum();
        eprintln!("{name}: {bytes} stored record bytes");
    }
    // The same history either way: decryption gives back what was written.
    let folded: Vec<_> = stores
        .iter()
        .map(|(_, s)| {
            let p = Projection::rebuild(*s).expect("rebuild");
            (p.position(), p.plans().count())
        })
        .collect();
    assert_eq!(folded[0], folded[1], "both ledgers fold to the same plans");

    let mut group = c.benchmark_group("encryption/rebuild projections");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    for (name, store) in stores {
        group.bench_function(name, |b| {
            b.iter(|| Projection::rebuild(store).expect("rebuild"))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("encryption/fold every plan");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    for (name, store) in stores {
        group.bench_function(name, |b| {
            b.iter(|| {
                for plan in &plans {
                    fold_stream(store, plan).expect("fold");
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("encryption/verify");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    for (name, store) in stores {
        group.bench_function(name, |b| {
            b.iter(|| {
                let report = verify_store(store, &[], &mut |_, _| {}).expect("verify");
                assert!(report.is_ok(), "{}", report.message());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encryption);
criterion_main!(benches);
