//! Crash safety of weeding (issue 16): a real `planledger weed` process, weeding many
//! clients, is killed with SIGKILL at random moments. After every kill, before any
//! further `weed`, each client must be either weeded with its event recorded (nothing
//! of theirs readable by `history`, `show`, the reports or `export`) or untouched
//! (readable, no weeding event), never half-weeded; and a following `weed` must finish
//! the work, leave `verify` passing and the destroyed keys' bytes in no file.
//!
//! Each round starts from the same ledger (copied back), so the kill moments, drawn
//! uniformly over the duration of a whole run (measured first), fall anywhere in it.
//! The second kill of a round lands in a run that first finishes the weedings the
//! first one left pending. The seed is printed, and `PLANLEDGER_WEED_CRASH_SEED`
//! reruns a failing sequence of choices.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use planledger_plan::retention::{self, CLIENT_WEEDED, RETENTION_STREAM};

use crate::e2e_integrity::keys;
use crate::util::TestLedger;

const SEED_OVERRIDE_ENV: &str = "PLANLEDGER_WEED_CRASH_SEED";
/// Clients due for weeding: enough that a run takes long enough to be killed inside.
const DUE: usize = 30;
/// Rounds of two kills each, from the same starting ledger.
const ROUNDS: usize = 10;

const WEED_DAY: &str = "2032-01-10T10:00:00Z";
const AS_OF: &str = "2032-01-10";
const ENTRY_DAY: &str = "2026-03-02T09:00:00Z";

/// xorshift64*, reproducible from the printed seed (as in `crash.rs`).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A synthetic personnummer: born on `yymmdd` (19xx), serial `nnn`, its Luhn digit.
fn personnummer(yymmdd: &str, nnn: usize) -> String {
    let nine = format!("{yymmdd}{nnn:03}");
    let sum: u32 = nine
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let p = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    format!("19{nine}{}", (10 - sum % 10) % 10)
}

/// One client of the test ledger.
struct Client {
    pnr: String,
    plan: String,
    /// Synthetic text in the client's deviation: if any reader prints it, the content
    /// was readable.
    marker: String,
}

fn client(i: usize, yymmdd: &str) -> Client {
    Client {
        pnr: personnummer(yymmdd, 100 + i),
        plan: format!("plan-{i:03}"),
        marker: format!("crashmarker{i:03}"),
    }
}

struct Setup {
    t: TestLedger,
    kek: String,
    map_key: String,
    secret: String,
    pubkey: String,
    /// Due, in the order `weed` takes them (by personnummer).
    due: Vec<Client>,
    /// Held; and born on the 25th (kept for research): neither is ever weeded.
    held: Client,
    kept: Client,
}

impl Setup {
    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec!["--kek", self.kek.as_str()];
        a.extend_from_slice(args);
        a
    }

    fn weed_args(&self) -> Vec<&str> {
        self.args(&[
            "--claimed-at",
            WEED_DAY,
            "weed",
            "--as-of",
            AS_OF,
            "--decision",
            "GB-2032-1",
            "--as",
            "adm1",
            "--role",
            "admin",
            "--map-key",
            &self.map_key,
        ])
    }

    /// A `weed` process as `TestLedger::cmd` runs the binary, but spawned, to be killed.
    fn spawn_weed(&self) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_planledger"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PLANLEDGER_LEDGER", self.t.ledger())
            .args(self.weed_args())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn planledger weed")
    }

    fn state(&self) -> std::path::PathBuf {
        self.t.path("state")
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The ledger and the witness directory as they were before any weeding.
fn restore(s: &Setup) {
    for name in ["ledger", "witness"] {
        let _ = std::fs::remove_dir_all(s.t.path(name));
        copy_dir(&s.state().join(name), &s.t.path(name));
    }
}

fn setup() -> Setup {
    let t = TestLedger::new();
    let kek = t.path("ledger.kek");
    t.ok(&["kek-gen", "--out", kek.to_str().unwrap()]);
    let kek = kek.to_str().unwrap().to_owned();
    let map_key = t.path("map.key").to_str().unwrap().to_owned();
    t.ok(&["map-keygen", "--out", &map_key]);
    let (secret, pubkey) = keys(&t);
    let due: Vec<Client> = (0..DUE).map(|i| client(i, "500101")).collect();
    let held = client(DUE, "500102");
    let kept = client(DUE + 1, "500125");
    let mut lines = String::new();
    for c in due.iter().chain([&held, &kept]) {
        lines += &serde_json::json!({
            "actor": {"user": "h7", "role": "case_officer"}, "at": ENTRY_DAY,
            "command": "receive_order", "plan": c.plan, "order": format!("best-{}", c.plan),
            "unit": "hemtjanst-norr", "act": "home_care", "client": c.pnr,
            "received_on": "2026-03-02", "granted_services": ["dusch"],
        })
        .to_string();
        lines.push('\n');
        lines += &serde_json::json!({
            "actor": {"user": "s1", "role": "staff"}, "at": ENTRY_DAY,
            "command": "record_deviation", "plan": c.plan, "occurred_on": "2026-03-02",
            "service": "dusch", "description": format!("{} synthetic deviation text", c.marker),
        })
        .to_string();
        lines.push('\n');
    }
    let file = t.write("clients.jsonl", &lines);
    let s = Setup {
        t,
        kek,
        map_key,
        secret,
        pubkey,
        due,
        held,
        kept,
    };
    s.t.ok(&s.args(&["import", file.to_str().unwrap()]));
    s.t.ok_at(
        "2031-06-01T09:00:00Z",
        &s.args(&[
            "hold",
            "add",
            "--client",
            &s.held.pnr,
            "--reason",
            "IVO 2031-77",
            "--as",
            "adm1",
            "--role",
            "admin",
        ]),
    );
    // A checkpoint signing a map before the weeding: `verify --map-key` must still
    // pass against it afterwards.
    let witness = s.t.path("witness");
    s.t.ok(&s.args(&[
        "checkpoint",
        "--key",
        &s.secret,
        "--witness",
        witness.to_str().unwrap(),
        "--map-key",
        &s.map_key,
    ]));
    let ledger_file = std::fs::read(s.t.redb_file()).unwrap();
    for c in s.due.iter().chain([&s.held, &s.kept]) {
        assert!(
            !contains(&ledger_file, c.marker.as_bytes()),
            "the content is encrypted in the ledger file"
        );
    }
    for name in ["ledger", "witness"] {
        copy_dir(&s.t.path(name), &s.state().join(name));
    }
    s
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The plans whose weeding is recorded, read from the ledger file itself.
fn recorded_weedings(s: &Setup) -> Vec<retention::Weeded> {
    s.t.entries()
        .into_iter()
        .filter(|e| e.stream_id == RETENTION_STREAM && e.event_type == CLIENT_WEEDED)
        .map(|e| retention::decode_weeded(&e.payload).expect("a weeding decodes"))
        .collect()
}

/// Every entry of the key store's `keys` table: key id → wrapped key.
fn key_table(s: &Setup) -> HashMap<Vec<u8>, Vec<u8>> {
    let db = redb::Database::open(s.t.ledger().join("keys.redb")).expect("open the key store");
    let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
    let table: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("keys");
    let table = txn.open_table(table).unwrap();
    redb::ReadableTable::iter(&table)
        .unwrap()
        .map(|r| {
            let (a, b) = r.unwrap();
            (a.value().to_vec(), b.value().to_vec())
        })
        .collect()
}

/// Each plan's key id, from the envelope of its first record.
fn plan_keys(s: &Setup) -> HashMap<String, Vec<u8>> {
    let mut out = HashMap::new();
    for e in s.t.entries() {
        if e.stream_version == 1 && e.stream_id.starts_with("plan-") {
            assert_eq!(e.envelope.key_id.len(), 16, "the plan is encrypted");
            out.insert(e.stream_id.clone(), e.envelope.key_id.clone());
        }
    }
    out
}

fn run(s: &Setup, args: &[&str]) -> std::process::Output {
    s.t.run_at(WEED_DAY, &s.args(args))
}

fn stdout_of(s: &Setup, args: &[&str], what: &str) -> String {
    let out = run(s, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A weeded client: no command gives anything of their content, and those that name
/// the plan say it was weeded; their bundle verifies without plaintext and says so.
fn check_weeded(s: &Setup, c: &Client, at: &str) {
    let what = |cmd: &str| format!("{at}: {cmd} of weeded {}", c.plan);
    let h = stdout_of(
        s,
        &["history", "--plan", &c.plan, "--lang", "en"],
        &what("history --plan"),
    );
    assert!(
        h.contains("weeded on 2032-01-10 under SoL"),
        "{}: {h}",
        what("history")
    );
    assert!(!h.contains(&c.marker), "{}", what("history"));
    let shown = stdout_of(s, &["show", &c.plan, "--lang", "en"], &what("show"));
    assert!(
        shown.contains("weeded on 2032-01-10"),
        "{}: {shown}",
        what("show")
    );
    assert!(!shown.contains(&c.marker), "{}", what("show"));
    let out = run(s, &["history", "--client", &c.pnr]);
    assert_eq!(out.status.code(), Some(4), "{}", what("history --client"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&c.marker));
    check_bundle(s, c, true, at);
}

/// An untouched client: readable as before, no weeding recorded.
fn check_untouched(s: &Setup, c: &Client, at: &str) {
    let what = |cmd: &str| format!("{at}: {cmd} of untouched {}", c.plan);
    let h = stdout_of(
        s,
        &["history", "--plan", &c.plan, "--lang", "en"],
        &what("history --plan"),
    );
    assert!(h.contains(&c.marker), "{}: {h}", what("history"));
    assert!(!h.contains("weeded"), "{}: {h}", what("history"));
    let h = stdout_of(
        s,
        &["history", "--client", &c.pnr, "--lang", "en"],
        &what("history --client"),
    );
    assert!(h.contains(&c.marker), "{}: {h}", what("history --client"));
    check_bundle(s, c, false, at);
}

/// `export` of the client's bundle, proven against a checkpoint signed now: it holds
/// every record of the client's plan, as stored; for a weeded client it holds no
/// plaintext, and verifies saying the client was weeded, when and under what.
fn check_bundle(s: &Setup, c: &Client, weeded: bool, at: &str) {
    let out = s.t.path("bundle.json");
    let _ = std::fs::remove_file(&out);
    let witness = s.t.path("witness");
    stdout_of(
        s,
        &[
            "export",
            "--client",
            &c.pnr,
            "--key",
            &s.secret,
            "--witness",
            witness.to_str().unwrap(),
            "--map-key",
            &s.map_key,
            "--out",
            out.to_str().unwrap(),
        ],
        &format!("{at}: export of {}", c.plan),
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let bundle: verify_bundle::Bundle = serde_json::from_str(&text).unwrap();
    let records: Vec<planledger_ledger::Record> = bundle
        .records
        .iter()
        .map(|r| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&r.record)
                .unwrap();
            planledger_ledger::Record::decode(bytes).unwrap()
        })
        .collect();
    assert_eq!(records.len(), 2, "{at}: both records of {}", c.plan);
    assert!(records.iter().all(|r| r.stream_id() == c.plan));
    if weeded {
        // The number asked for is named once, by the map's completeness proof (which
        // proves the bundle holds all of that client's records); nothing else of theirs.
        let mut without_subject = bundle.clone();
        let completeness = without_subject.completeness.as_mut().expect("a map proof");
        assert_eq!(completeness.client, c.pnr);
        completeness.client.clear();
        let rest = serde_json::to_string(&without_subject).unwrap();
        assert!(
            !contains(rest.as_bytes(), c.marker.as_bytes())
                && !contains(rest.as_bytes(), c.pnr.as_bytes()),
            "{at}: plaintext in the bundle of weeded {}",
            c.plan
        );
        assert!(records.iter().all(|r| {
            !contains(r.bytes(), c.marker.as_bytes()) && !r.entry().envelope.is_plaintext()
        }));
        let key = planledger_ledger::CheckpointVerifier::from_text(
            std::fs::read_to_string(&s.pubkey).unwrap().trim(),
        )
        .unwrap();
        let proven = verify_bundle::verify(&text, &key)
            .unwrap_or_else(|e| panic!("{at}: the bundle of weeded {} fails: {e}", c.plan));
        let report = verify_bundle::report::text(&proven, &Default::default());
        assert!(
            report.contains("weeded on 2032-01-10 under SoL"),
            "{at}: {report}"
        );
    }
}

/// After a kill: every client weeded with its event, or untouched; the weeded ones a
/// prefix of the due clients in personnummer order (`weed` takes them so). Returns how
/// many are weeded and how many of those still had their key (a weeding pending).
fn check_state(
    s: &Setup,
    rng: &mut Rng,
    keys_of: &HashMap<String, Vec<u8>>,
    at: &str,
) -> (usize, usize) {
    let weedings = recorded_weedings(s);
    let weeded_plans: BTreeSet<String> = weedings.iter().flat_map(|w| w.plans.clone()).collect();
    assert_eq!(
        weeded_plans.len(),
        weedings.len(),
        "{at}: one weeding per client"
    );
    let k = weeded_plans.len();
    for (i, c) in s.due.iter().enumerate() {
        assert_eq!(
            weeded_plans.contains(&c.plan),
            i < k,
            "{at}: the weeded clients are the first {k} due"
        );
    }
    for c in [&s.held, &s.kept] {
        assert!(!weeded_plans.contains(&c.plan), "{at}: held or kept weeded");
    }
    let table = key_table(s);
    let pending = s.due[..k]
        .iter()
        .filter(|c| table.contains_key(&keys_of[&c.plan]))
        .count();
    // The reports: every plan not weeded is listed, none weeded is.
    let overview = stdout_of(s, &["audit", "overview", "--format", "json"], "overview");
    for (i, c) in s.due.iter().chain([&s.held, &s.kept]).enumerate() {
        assert_eq!(
            overview.contains(&format!("\"{}\"", c.plan)),
            i >= k,
            "{at}: overview lists {} iff it is not weeded",
            c.plan
        );
    }
    // Each command, on the clients at the boundary (the last weeded, most likely
    // pending; the first untouched) and one more of each side at random.
    let mut weeded = vec![];
    let mut untouched = vec![];
    if k > 0 {
        weeded.push(k - 1);
        weeded.push(rng.below(k as u64) as usize);
    }
    if k < DUE {
        untouched.push(k);
        untouched.push(k + rng.below((DUE - k) as u64) as usize);
    }
    weeded.dedup();
    untouched.dedup();
    for i in weeded {
        check_weeded(s, &s.due[i], at);
    }
    for i in untouched {
        check_untouched(s, &s.due[i], at);
    }
    (k, pending)
}

/// After a whole run: everyone due weeded, verify passes (against the checkpoint
/// signed before, its map too), the destroyed keys' bytes in no file of the ledger.
fn check_final(
    s: &Setup,
    keys_before: &HashMap<Vec<u8>, Vec<u8>>,
    keys_of: &HashMap<String, Vec<u8>>,
    at: &str,
) {
    let weeded: BTreeSet<String> = recorded_weedings(s)
        .into_iter()
        .flat_map(|w| w.plans)
        .collect();
    assert_eq!(weeded.len(), DUE, "{at}: every due client weeded");
    let witness = s.t.path("witness");
    let out = stdout_of(
        s,
        &[
            "verify",
            "--witness",
            witness.to_str().unwrap(),
            "--pubkey",
            &s.pubkey,
            "--map-key",
            &s.map_key,
        ],
        &format!("{at}: verify"),
    );
    assert!(out.contains("checkpoints matched"), "{at}: {out}");
    // Every file of the ledger directory: the key store, and any temporary one left.
    // The records name the key id (their envelope), never the key.
    let mut files = Vec::new();
    for entry in std::fs::read_dir(s.t.ledger()).unwrap() {
        let path = entry.unwrap().path();
        let is_ledger = path == s.t.redb_file();
        files.push((is_ledger, std::fs::read(path).unwrap()));
    }
    assert!(files.len() >= 2, "{at}: the ledger and its key store");
    for c in &s.due {
        let id = &keys_of[&c.plan];
        let wrapped = &keys_before[id];
        for (is_ledger, f) in &files {
            assert!(
                !contains(f, wrapped) && (*is_ledger || !contains(f, id)),
                "{at}: the key of weeded {} is still in a file of the ledger",
                c.plan
            );
        }
    }
    let table = key_table(s);
    for c in [&s.held, &s.kept] {
        assert!(
            table.contains_key(&keys_of[&c.plan]),
            "{at}: a kept key lost"
        );
    }
    check_untouched(s, &s.held, at);
    check_weeded(s, &s.due[DUE - 1], at);
}

/// Runs `weed` to its end.
fn weed_to_end(s: &Setup, at: &str) -> Duration {
    let start = Instant::now();
    let out = s.spawn_weed().wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{at}: weed failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

/// Starts `weed` and kills it after `delay`; true when the kill found it running.
fn weed_killed_after(s: &Setup, delay: Duration, at: &str) -> bool {
    let mut child = s.spawn_weed();
    std::thread::sleep(delay);
    child.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix.
    let out = child.wait_with_output().unwrap();
    match out.status.signal() {
        Some(libc::SIGKILL) => true,
        _ => {
            assert!(
                out.status.success(),
                "{at}: weed failed by itself: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            false
        }
    }
}

#[test]
fn weed_killed_at_random_moments_never_leaves_a_client_half_weeded() {
    let seed = std::env::var(SEED_OVERRIDE_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| RandomState::new().build_hasher().finish());
    // Printed (shown on failure) so that a failing sequence of choices can be rerun.
    println!("weed crash test seed: {seed} (rerun with {SEED_OVERRIDE_ENV}={seed})");
    let mut rng = Rng(seed | 1);
    let s = setup();
    let keys_of = plan_keys(&s);
    let keys_before = key_table(&s);

    // A whole run first: how long one takes, over which the kills are spread.
    let whole = weed_to_end(&s, "the uninterrupted run");
    check_final(&s, &keys_before, &keys_of, "the uninterrupted run");
    let span = whole.as_micros() as u64;
    println!("an uninterrupted weed of {DUE} clients took {whole:?}");

    let (mut kills, mut mid_run, mut pending_seen) = (0, 0, 0);
    for round in 0..ROUNDS {
        restore(&s);
        let mut done = 0;
        for kill in 0..2 {
            let at = format!("seed {seed} round {round} kill {kill}");
            // Over the whole run the first time; the second run has only what the first
            // left (plus its start), so its span shrinks with it.
            let left = (DUE - done) as u64;
            let delay = Duration::from_micros(rng.below(span * (left + 2) / (DUE as u64 + 2)));
            if weed_killed_after(&s, delay, &at) {
                kills += 1;
            }
            let (k, pending) = check_state(&s, &mut rng, &keys_of, &at);
            assert!(k >= done, "{at}: a weeding undone");
            done = k;
            if k > 0 && k < DUE {
                mid_run += 1;
            }
            pending_seen += pending;
        }
        let at = format!("seed {seed} round {round}, the run after the kills");
        weed_to_end(&s, &at);
        check_final(&s, &keys_before, &keys_of, &at);
    }
    println!(
        "{kills} kills of {} runs, {mid_run} with the clients partly weeded, {pending_seen} weedings found pending",
        2 * ROUNDS
    );
    // The kills must have landed inside runs, not only before or after them.
    assert!(
        kills > 0 && mid_run > 0,
        "no kill fell inside a run (seed {seed})"
    );
}
