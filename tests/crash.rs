//! Crash safety of the embedded store: a real process appends, prints each position the
//! store acknowledged, and is killed with SIGKILL at a random moment, again and again.
//! After every kill the store must open (its head check passes), hold every
//! acknowledged record with the content that was acknowledged, and verify as one chain.
//!
//! The child is this same test binary, re-executed with [`CHILD_ENV`] set and told to
//! run only [`crash_child_process`]; without the variable that test does nothing.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use planledger_ledger::{Actor, Envelope, Frontier, Hash, Record};
use planledger_store::{
    AppendBatch, ExpectedVersion, NewEvent, Store, StoreError, conformance, verify_store,
};
use planledger_store_redb::RedbStore;

/// Set in the child's environment to the store's path.
const CHILD_ENV: &str = "PLANLEDGER_CRASH_CHILD_STORE";
/// How many writer threads the child runs.
const WRITERS_ENV: &str = "PLANLEDGER_CRASH_CHILD_WRITERS";
/// The run number (goes into payloads, so each acknowledgement names unique content).
const RUN_ENV: &str = "PLANLEDGER_CRASH_CHILD_RUN";
/// The seed of the child's batch sizes.
const SEED_ENV: &str = "PLANLEDGER_CRASH_CHILD_SEED";
/// Set to reproduce a failing run's choices.
const SEED_OVERRIDE_ENV: &str = "PLANLEDGER_CRASH_SEED";

const KILLS: usize = 200;

/// xorshift64*: enough randomness for kill moments and batch sizes, reproducible from
/// the seed printed on failure.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn payload(run: u64, writer: u64, seq: u64, event: usize) -> Vec<u8> {
    format!("run {run} writer {writer} batch {seq} event {event}").into_bytes()
}

/// Not a test of its own: the body of the child process the crash test starts. It
/// returns at once unless the crash test set [`CHILD_ENV`].
#[test]
fn crash_child_process() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let var = |name: &str| -> u64 {
        std::env::var(name)
            .unwrap_or_else(|_| panic!("{name} is not set"))
            .parse()
            .unwrap_or_else(|_| panic!("{name} is not a number"))
    };
    let (writers, run, seed) = (var(WRITERS_ENV), var(RUN_ENV), var(SEED_ENV));
    let store = RedbStore::open(&path).expect("the child opens the store");
    let stdout = std::sync::Mutex::new(std::io::stdout());
    std::thread::scope(|s| {
        for writer in 0..writers {
            let (store, stdout) = (&store, &stdout);
            s.spawn(move || {
                let mut rng = Rng::new(seed ^ (writer + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                // Writers 0 and 1 share a stream, with exact expectations and retries;
                // the others own one each.
                let stream = if writer < 2 {
                    "plan-shared".to_owned()
                } else {
                    format!("plan-w{writer}")
                };
                // Bounded so that an orphaned child cannot run forever.
                for seq in 0..20_000u64 {
                    let n = 1 + rng.below(8) as usize;
                    let current = store.stream_version(&stream).expect("stream_version");
                    let batch = AppendBatch {
                        stream_id: stream.clone(),
                        expected: ExpectedVersion::Exact(current),
                        actor: Actor {
                            user_id: format!("u-crash-{writer}"),
                            role: "key_worker".into(),
                        },
                        claimed_at_micros: 1_767_225_600_000_000 + seq as i64,
                        command_id: None,
                        tags: Vec::new(),
                        summary: None,
                        events: (0..n)
                            .map(|e| NewEvent {
                                event_type: "crash_test_event".into(),
                                schema_version: 1,
                                envelope: Envelope::plaintext(),
                                payload: payload(run, writer, seq, e),
                            })
                            .collect(),
                    };
                    match store.append(batch) {
                        Ok(a) => {
                            // Printed only after append returned: this line is the
                            // acknowledgement the parent holds the store to.
                            let mut out = stdout.lock().unwrap();
                            writeln!(
                                out,
                                "ack {} {n} {stream} {} {writer} {seq}",
                                a.first_position, a.stream_version
                            )
                            .unwrap();
                            out.flush().unwrap();
                        }
                        Err(StoreError::Conflict { .. }) => {}
                        Err(e) => panic!("append failed: {e}"),
                    }
                }
            });
        }
    });
}

/// One acknowledged batch, as the child printed it.
#[derive(Debug, Clone)]
struct Ack {
    first_position: u64,
    n: u64,
    stream: String,
    last_version: u64,
    run: u64,
    writer: u64,
    seq: u64,
}

fn parse_ack(line: &str, run: u64) -> Option<Ack> {
    let f: Vec<&str> = line.strip_prefix("ack ")?.split(' ').collect();
    let [first, n, stream, last, writer, seq] = f.as_slice() else {
        panic!("malformed acknowledgement line {line:?}");
    };
    let num = |s: &str| s.parse::<u64>().expect("a number in an ack line");
    Some(Ack {
        first_position: num(first),
        n: num(n),
        stream: (*stream).to_owned(),
        last_version: num(last),
        run,
        writer: num(writer),
        seq: num(seq),
    })
}

fn spawn_child(path: &Path, writers: u64, run: u64, seed: u64) -> Child {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", "crash::crash_child_process", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD_ENV, path)
        .env(WRITERS_ENV, writers.to_string())
        .env(RUN_ENV, run.to_string())
        .env(SEED_ENV, seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child")
}

/// What the parent has verified so far: the chain up to `size`, incrementally.
struct Verified {
    size: u64,
    last_hash: Hash,
    frontier: Frontier,
    versions: HashMap<String, u64>,
    records_checked: u64,
}

impl Verified {
    /// Reads the records past the verified end and checks each against the chain;
    /// then checks the store's head against the recomputed one.
    fn extend(&mut self, store: &RedbStore) {
        loop {
            let page = store.read_all(self.size, 1000).expect("read_all");
            if page.is_empty() {
                break;
            }
            for r in page {
                assert_eq!(r.position(), self.size, "positions are gapless");
                let reread = Record::decode(r.bytes().to_vec()).expect("stored bytes decode");
                assert_eq!(reread, r);
                assert_eq!(r.prev_hash(), self.last_hash, "record {} chains", self.size);
                let v = self.versions.entry(r.stream_id().to_owned()).or_insert(0);
                *v += 1;
                assert_eq!(
                    r.stream_version(),
                    *v,
                    "record {} continues its stream",
                    self.size
                );
                self.last_hash = r.hash();
                self.frontier.push(self.last_hash, |_, _| {});
                self.size += 1;
                self.records_checked += 1;
            }
        }
        let head = store.head().expect("head");
        assert_eq!(head.size, self.size);
        assert_eq!(head.last_hash, self.last_hash);
        assert_eq!(
            head.root,
            self.frontier.root(),
            "head root equals the recomputed root"
        );
    }
}

fn check_acks(store: &RedbStore, acks: &[Ack]) {
    for ack in acks {
        let records = store
            .read_all(ack.first_position, ack.n as usize)
            .expect("read_all");
        assert_eq!(
            records.len() as u64,
            ack.n,
            "acknowledged batch at position {} (run {}) is missing after SIGKILL",
            ack.first_position,
            ack.run
        );
        for (k, r) in records.iter().enumerate() {
            assert_eq!(
                r.stream_id(),
                ack.stream,
                "acknowledged record {}",
                r.position()
            );
            assert_eq!(r.stream_version(), ack.last_version - ack.n + 1 + k as u64);
            assert_eq!(r.payload(), payload(ack.run, ack.writer, ack.seq, k));
        }
    }
}

/// The whole ledger through the same verifier as `planledger verify`.
fn verify_whole(store: &RedbStore, run: u64) {
    let report = verify_store(store, &[], &mut |_, _| {}).expect("verify_store reads the store");
    assert!(report.is_ok(), "after run {run}: {}", report.message());
    assert_eq!(report.records, store.head().expect("head").size);
}

/// Every acknowledged append survives SIGKILL at a random moment, 200 times over one
/// growing store, and the store always reopens with a valid chain.
#[test]
fn sigkill_never_loses_an_acknowledged_append_nor_breaks_the_chain() {
    let seed = std::env::var(SEED_OVERRIDE_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| RandomState::new().build_hasher().finish());
    // Printed (shown on failure) so that a failing sequence of choices can be rerun.
    println!("crash test seed: {seed} (rerun with {SEED_OVERRIDE_ENV}={seed})");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let path: PathBuf = dir.path().join("ledger.redb");
    drop(RedbStore::create(&path).expect("create the store"));

    let mut verified = Verified {
        size: 0,
        last_hash: Hash::ZERO,
        frontier: Frontier::new(),
        versions: HashMap::new(),
        records_checked: 0,
    };
    let mut all_acks: Vec<Ack> = Vec::new();
    let mut multi_writer_runs = 0;
    for run in 0..KILLS as u64 {
        // One writer a third of the time, else 2 to 6 so that group commit is exercised.
        let writers = if rng.below(3) == 0 {
            1
        } else {
            2 + rng.below(5)
        };
        if writers > 1 {
            multi_writer_runs += 1;
        }
        let mut child = spawn_child(&path, writers, run, rng.next());
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(ack) = parse_ack(&line, run) {
                    if tx.send(ack).is_err() {
                        break;
                    }
                }
            }
        });
        // The kill moment: mostly after a random number of acknowledgements plus a
        // little, sometimes blind (which can land while the child opens the store).
        let mut run_acks = Vec::new();
        if rng.below(4) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(20_000)));
        } else {
            let wait_for = 1 + rng.below(8);
            for _ in 0..wait_for {
                match rx.recv() {
                    Ok(ack) => run_acks.push(ack),
                    Err(_) => break, // The child ended by itself; reported below.
                }
            }
            std::thread::sleep(Duration::from_micros(rng.below(2_000)));
        }
        child.kill().expect("SIGKILL the child"); // Child::kill is SIGKILL on Unix.
        let status = child.wait().expect("reap the child");
        reader.join().expect("the stdout reader");
        if status.signal() != Some(libc::SIGKILL) {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                std::io::Read::read_to_string(&mut e, &mut err).ok();
            }
            panic!("run {run}: the child ended by itself ({status}), not by SIGKILL:\n{err}");
        }
        run_acks.extend(rx.try_iter());

        let store = RedbStore::open(&path)
            .unwrap_or_else(|e| panic!("run {run}: the store does not reopen after SIGKILL: {e}"));
        verified.extend(&store);
        check_acks(&store, &run_acks);
        all_acks.extend(run_acks);
        if run % 50 == 49 {
            check_acks(&store, &all_acks);
            verify_whole(&store, run);
        }
    }
    let store = RedbStore::open(&path).expect("final reopen");
    check_acks(&store, &all_acks);
    verify_whole(&store, KILLS as u64);
    let records = conformance::assert_chain_valid(&store);
    assert!(multi_writer_runs > 0);
    assert!(!all_acks.is_empty(), "the children acknowledged appends");
    println!(
        "{KILLS} kills, {} acknowledged batches, {} records, {multi_writer_runs} runs with several writers",
        all_acks.len(),
        records.len()
    );
}
