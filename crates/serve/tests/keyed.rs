//! `planledger serve` on a ledger that encrypts personal data under per-client keys
//! (README, "Weeding"), over HTTP on loopback with systems' API tokens: the
//! configuration's `kek` opens it keyed, so writes are sealed and reads opened; a weeded
//! client's plan reads as weeded; a ledger with a key store is refused without its KEK,
//! and so is a KEK file others may read. On the embedded ledger and on PostgreSQL (a
//! throwaway server, `testing::shared`). Synthetic data only.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use planledger_app::crypt::{self, Kek};
use planledger_app::{Location, weeding};
use planledger_plan::retention::RetentionPolicy;
use planledger_plan::{Actor, Role, UserId};
use planledger_serve::{Config, Running, auth::token_sha256};
use planledger_store_postgres::{migrate, postgres, testing};
use serde_json::{Value, json};

/// Synthetic clients: A is weeded, B is not.
const A: &str = "196408233234";
const B: &str = "197010632391";
const CASE_OFFICER_TOKEN: &str = "plk-test-registrar-5e1d";
const INSPECTOR_TOKEN: &str = "plk-test-ivo-93c0";

struct Service {
    rt: tokio::runtime::Runtime,
    running: Option<Running>,
    base: String,
    agent: ureq::Agent,
}

fn config_text(ledger: &str, kek: Option<&Path>) -> String {
    let kek = kek
        .map(|k| format!("kek = \"{}\"\n", k.display()))
        .unwrap_or_default();
    format!(
        r#"
listen = "127.0.0.1:0"
ledger = "{ledger}"
{kek}
[[systems]]
name = "registrar"
token_sha256 = "{}"
role = "case_officer"
units = ["*"]

[[systems]]
name = "ivo"
token_sha256 = "{}"
role = "inspector"
"#,
        token_sha256(CASE_OFFICER_TOKEN),
        token_sha256(INSPECTOR_TOKEN),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Starts the service on `ledger` with the configuration's `kek`; the reason when it
/// does not start.
fn start(ledger: &str, kek: Option<&Path>) -> Result<Service, String> {
    let rt = runtime();
    let config = Config::parse(&config_text(ledger, kek)).unwrap();
    let running = rt
        .block_on(planledger_serve::start(
            config,
            planledger_serve::system_clock(),
        ))
        .map_err(|e| e.to_string())?;
    let base = format!("http://{}", running.addr);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    Ok(Service {
        rt,
        running: Some(running),
        base,
        agent,
    })
}

impl Service {
    fn get(&self, path: &str) -> (u16, String) {
        let mut resp = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {INSPECTOR_TOKEN}"))
            .header("X-Purpose", "tillsyn 2032-3")
            .call()
            .unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    }

    fn order(&self, plan: &str, client: &str) -> (u16, String) {
        let line = json!({"actor": {"user": "registrar", "role": "case_officer"},
            "at": "2026-03-02T08:00:00Z", "command": "receive_order", "plan": plan,
            "order": format!("best-{plan}"), "unit": "hemtjanst-norr", "act": "home_care",
            "client": client, "received_on": "2026-03-02"});
        let mut resp = self
            .agent
            .post(format!("{}/v1/commands", self.base))
            .header("Authorization", format!("Bearer {CASE_OFFICER_TOKEN}"))
            .send(line.to_string())
            .unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    }

    fn stop(mut self) {
        if let Some(r) = self.running.take() {
            self.rt
                .block_on(r.shutdown(Duration::from_secs(5)))
                .unwrap();
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A new ledger with a key store (a directory in `dir`, or the ledger `main` of a new
/// database), its location as the configuration names it, and its KEK file.
fn keyed_ledger(dir: &Path, postgres: bool) -> (String, PathBuf, Kek) {
    let ledger = if postgres {
        let url = testing::shared().create_database().unwrap();
        migrate(&url).unwrap();
        url
    } else {
        dir.join("ledger").to_str().unwrap().to_owned()
    };
    let kek_file = dir.join("ledger.kek");
    let kek = crypt::kek_gen(&kek_file).unwrap();
    let at = Location::parse(&ledger, "main");
    at.create().unwrap();
    // As `planledger --kek FILE init` does: the key store is made with the ledger.
    at.open_keyed(&kek).unwrap();
    (ledger, kek_file, kek)
}

/// Weeds `client` as `planledger weed` does, as of 2032-01-10.
fn weed(ledger: &str, kek: &Kek, client: &str) {
    let store = Location::parse(ledger, "main").open_keyed(kek).unwrap();
    let as_of = NaiveDate::from_ymd_opt(2032, 1, 10).unwrap();
    let candidates = weeding::candidates(&store, &RetentionPolicy::default(), as_of).unwrap();
    let c = candidates
        .iter()
        .find(|c| c.client.digits() == client)
        .expect("the client is a candidate");
    assert!(c.weeds(), "the client is due");
    let actor = Actor::new(UserId::new("adm1".to_owned()).unwrap(), Role::Admin);
    let at = Utc.with_ymd_and_hms(2032, 1, 10, 10, 0, 0).unwrap();
    weeding::weed_one(&store, c, "GB-2032-1", as_of, &actor, at).unwrap();
}

/// Whether `clear` is in the plans' stored records: the embedded ledger's file, or the
/// records' bytes in PostgreSQL.
fn stored(ledger: &str, clear: &[u8]) -> bool {
    if ledger.starts_with("postgresql://") {
        let n: i64 = postgres::Client::connect(ledger, postgres::NoTls)
            .unwrap()
            .query_one(
                // The plans' ledger's records (the access log beside it, the ledger
                // `main-access-log`, names the clients read: README, "Weeding").
                "SELECT count(*) FROM planledger.records r
                 JOIN planledger.ledgers l ON l.id = r.ledger
                 WHERE l.name = 'main' AND position($1 IN r.bytes) > 0",
                &[&clear],
            )
            .unwrap()
            .get(0);
        n > 0
    } else {
        contains(
            &std::fs::read(Path::new(ledger).join("ledger.redb")).unwrap(),
            clear,
        )
    }
}

#[test]
fn a_keyed_embedded_ledger_is_served_encrypted_and_a_weeded_plan_reads_as_weeded() {
    served_keyed_and_weeded(false);
}

#[test]
fn a_keyed_postgres_ledger_is_served_encrypted_and_a_weeded_plan_reads_as_weeded() {
    served_keyed_and_weeded(true);
}

fn served_keyed_and_weeded(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, kek_file, kek) = keyed_ledger(dir.path(), postgres);

    // Without its KEK the ledger is not served (nothing may be written in plaintext).
    let err = start(&ledger, None).err().expect("refused without the KEK");
    assert!(err.contains("key-encryption key"), "{err}");

    let s = start(&ledger, Some(&kek_file)).unwrap();
    for (plan, client) in [("plan-a", A), ("plan-b", B)] {
        let (status, body) = s.order(plan, client);
        assert_eq!(status, 201, "{body}");
    }
    // Reads over HTTP are opened with the client's key.
    let (status, body) = s.get("/v1/plans/plan-a/history?format=table");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("best-plan-a mottagen"), "{body}");
    s.stop();

    // What was written over HTTP is sealed: no number, no order id in the records.
    for clear in [A.as_bytes(), B.as_bytes(), b"best-plan-a"] {
        assert!(!stored(&ledger, clear), "personal data in the clear");
    }
    assert!(stored(&ledger, b"plan-a"), "the search reads the records");

    weed(&ledger, &kek, A);
    let s = start(&ledger, Some(&kek_file)).unwrap();
    // A's plan reads as weeded, as `show` and `history` say it on the command line.
    let (status, body) = s.get("/v1/plans/plan-a/history?lang=en");
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["weeded_on"], "2032-01-10", "{body}");
    assert_eq!(v["rule"], "SoL", "{body}");
    assert_eq!(v["decision"], "GB-2032-1", "{body}");
    let (status, body) = s.get("/v1/plans/plan-a?format=table&lang=en");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("weeded on 2032-01-10 under SoL (decision GB-2032-1)"),
        "{body}"
    );
    assert!(!body.contains("best-plan-a"), "{body}");
    // B reads as before; a plan that never was is still not found.
    let (status, body) = s.get("/v1/plans/plan-b/history?format=table");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("best-plan-b mottagen"), "{body}");
    let (status, body) = s.get("/v1/plans/plan-z/history");
    assert_eq!(status, 404, "{body}");
    s.stop();
}

#[test]
fn a_kek_file_others_may_read_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, kek_file, _) = keyed_ledger(dir.path(), false);
    std::fs::set_permissions(&kek_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = start(&ledger, Some(&kek_file))
        .err()
        .expect("refused with a readable KEK");
    assert!(err.contains("`kek`") && err.contains("0600"), "{err}");
    // Not a KEK at all: refused too.
    let not_kek = dir.path().join("not.kek");
    std::fs::write(&not_kek, "planledger-kek/1 zz\n").unwrap();
    std::fs::set_permissions(&not_kek, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = start(&ledger, Some(&not_kek)).err().expect("refused");
    assert!(err.contains("`kek`") && err.contains("kek-gen"), "{err}");
}
