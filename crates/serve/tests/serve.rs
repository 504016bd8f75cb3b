//! `planledger serve` over HTTP on loopback: a local OpenID Connect issuer (discovery
//! document and JWKS, an Ed25519 key made here), people's JWTs and a system's API token;
//! each role's permitted and refused actions, bad tokens, the read-access log, the
//! OpenAPI document against the routes. Synthetic data only.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signer, SigningKey};
use planledger_app::Location;
use planledger_serve::{Config, Running, auth::token_sha256};
use serde_json::{Value, json};

const PNR: &str = "196408233234";
const OTHER_PNR: &str = "197010632391";
const API_TOKEN: &str = "plk-test-procapita-7f3a9c";
const UNDELEGATED_TOKEN: &str = "plk-test-lonesystem-1b2c";
const AUDIENCE: &str = "planledger";

/// A key made in the test.
fn new_key() -> SigningKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    SigningKey::from_bytes(&seed)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The local issuer: serves its discovery document and key set on loopback.
struct TestIssuer {
    url: String,
    key: SigningKey,
}

impl TestIssuer {
    fn start(rt: &tokio::runtime::Runtime) -> TestIssuer {
        let key = new_key();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let discovery = json!({"issuer": url, "jwks_uri": format!("{url}/jwks")});
        let jwks = json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "kid": "k1", "alg": "EdDSA", "use": "sig",
            "x": B64.encode(key.verifying_key().as_bytes()),
        }]});
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || async move { axum::Json(discovery) }),
            )
            .route(
                "/jwks",
                axum::routing::get(move || async move { axum::Json(jwks) }),
            );
        rt.spawn(async move { axum::serve(listener, app).await });
        TestIssuer { url, key }
    }

    /// A JWT for `sub`, signed with `key`, expiring `exp_in` seconds from now.
    fn token_with(&self, key: &SigningKey, sub: &str, exp_in: i64, aud: &str) -> String {
        let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"});
        let claims = json!({
            "iss": self.url, "aud": aud, "sub": sub,
            "iat": now_secs(), "exp": now_secs() + exp_in,
        });
        let signing_input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let sig = key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", B64.encode(sig.to_bytes()))
    }

    fn token(&self, sub: &str) -> String {
        self.token_with(&self.key, sub, 600, AUDIENCE)
    }
}

struct Harness {
    rt: tokio::runtime::Runtime,
    running: Option<Running>,
    base: String,
    issuer: TestIssuer,
    agent: ureq::Agent,
    dir: tempfile::TempDir,
}

fn config_text(ledger: &str, issuer: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
ledger = "{ledger}"

[oidc]
issuer = "{issuer}"
audience = "{AUDIENCE}"

[[users]]
user = "kim"
role = "key_worker"
units = ["hemtjanst-norr"]

[[users]]
user = "sam"
role = "key_worker"
units = ["hemtjanst-syd"]

[[users]]
user = "h7"
role = "case_officer"
units = ["*"]

[[users]]
user = "mona"
role = "unit_manager"
units = ["hemtjanst-norr"]

[[users]]
user = "ivo"
role = "inspector"

[[systems]]
name = "procapita"
token_sha256 = "{}"
on_behalf_of_users = true

[[systems]]
name = "lonesystem"
token_sha256 = "{}"
role = "admin"
units = ["hemtjanst-norr"]
"#,
        token_sha256(API_TOKEN),
        token_sha256(UNDELEGATED_TOKEN)
    )
}

impl Harness {
    fn start() -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let issuer = TestIssuer::start(&rt);
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger");
        Location::Dir(ledger.clone()).create().unwrap();
        let config = Config::parse(&config_text(ledger.to_str().unwrap(), &issuer.url)).unwrap();
        let running = rt
            .block_on(planledger_serve::start(
                config,
                planledger_serve::system_clock(),
            ))
            .unwrap();
        let base = format!("http://{}", running.addr);
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        Harness {
            rt,
            running: Some(running),
            base,
            issuer,
            agent,
            dir,
        }
    }

    fn get(&self, path: &str, token: Option<&str>, purpose: Option<&str>) -> (u16, String) {
        let mut r = self.agent.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(p) = purpose {
            r = r.header("X-Purpose", p);
        }
        let mut resp = r.call().unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    }

    fn post(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut r = self.agent.post(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.header("Authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let mut resp = r.send(body).unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    }

    /// Posts one command as `token`.
    fn record(&self, token: &str, line: &Value) -> (u16, Value) {
        let (status, body) = self.post("/v1/commands", Some(token), &[], &line.to_string());
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// The records in the plans' ledger, read over HTTP as the inspector (no personal
    /// data: the verification status).
    fn ledger_size(&self) -> u64 {
        let (status, body) = self.get("/v1/verify", Some(&self.issuer.token("ivo")), None);
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["ok"], true, "{body}");
        v["ledger"]["records"].as_u64().unwrap()
    }

    fn access_log_size(&self) -> u64 {
        let (_, body) = self.get("/v1/verify", Some(&self.issuer.token("ivo")), None);
        let v: Value = serde_json::from_str(&body).unwrap();
        v["access_log"]["records"].as_u64().unwrap()
    }

    fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            self.rt
                .block_on(r.shutdown(Duration::from_secs(5)))
                .unwrap();
        }
    }
}

fn content() -> Value {
    serde_json::from_str(include_str!("../../../examples/plan-v1.json")).unwrap()
}

fn order_line(actor: &str, role: &str, plan: &str, unit: &str, client: &str) -> Value {
    json!({"actor": {"user": actor, "role": role}, "at": "2026-03-02T08:00:00Z",
           "command": "receive_order", "plan": plan, "order": format!("best-{plan}"),
           "unit": unit, "act": "home_care", "client": client, "received_on": "2026-03-02"})
}

fn draft_line(actor: &str, plan: &str) -> Value {
    json!({"actor": {"user": actor, "role": "key_worker"}, "at": "2026-03-10T09:00:00Z",
           "command": "draft", "plan": plan, "content": content()})
}

/// Sets up plan-0001 (hemtjanst-norr, PNR) drafted by kim.
fn with_plan(h: &Harness) {
    let h7 = h.issuer.token("h7");
    let (s, b) = h.record(
        &h7,
        &order_line("h7", "case_officer", "plan-0001", "hemtjanst-norr", PNR),
    );
    assert_eq!(s, 201, "{b}");
    let (s, b) = h.record(&h.issuer.token("kim"), &draft_line("kim", "plan-0001"));
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["recorded"][0]["event_type"], "plan_drafted", "{b}");
}

fn assert_forbidden(status: u16, body: &Value, rule: &str) {
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "forbidden", "{body}");
    assert_eq!(body["rule"], rule, "{body}");
}

#[test]
fn each_role_may_do_its_part_and_is_refused_the_rest_writing_nothing() {
    let mut h = Harness::start();
    with_plan(&h);
    let size = h.ledger_size();
    assert_eq!(size, 2);

    // A key worker of another unit: refused by the unit rule.
    let (s, b) = h.record(&h.issuer.token("sam"), &draft_line("sam", "plan-0001"));
    assert_forbidden(s, &b, "unit_not_assigned");
    // ... also when opening a plan in a unit not theirs.
    let (s, b) = h.record(
        &h.issuer.token("kim"),
        &order_line("kim", "key_worker", "plan-0002", "hemtjanst-syd", OTHER_PNR),
    );
    assert_forbidden(s, &b, "unit_not_assigned");
    // An inspector writes nothing.
    let line = json!({"actor": {"user": "ivo", "role": "inspector"}, "command": "submit",
                      "plan": "plan-0001", "version": 1});
    let (s, b) = h.record(&h.issuer.token("ivo"), &line);
    assert_forbidden(s, &b, "role_reads_only");
    // The actor is the caller, never what the body says.
    let line = json!({"actor": {"user": "h7", "role": "case_officer"}, "command": "approve",
                      "plan": "plan-0001", "version": 1});
    let (s, b) = h.record(&h.issuer.token("kim"), &line);
    assert_forbidden(s, &b, "actor_not_caller");
    let line = json!({"actor": {"user": "kim", "role": "case_officer"}, "command": "approve",
                      "plan": "plan-0001", "version": 1});
    let (s, b) = h.record(&h.issuer.token("kim"), &line);
    assert_forbidden(s, &b, "actor_not_caller");
    // A key worker may not approve: the domain's rule.
    let sign = |who: &str, cmd: &str, extra: Value| {
        let mut l = json!({"actor": {"user": who, "role": if who == "h7" {"case_officer"} else {"key_worker"}},
                           "at": "2026-03-10T10:00:00Z", "command": cmd, "plan": "plan-0001", "version": 1});
        for (k, v) in extra.as_object().unwrap() {
            l[k] = v.clone();
        }
        l
    };
    let (s, b) = h.record(&h.issuer.token("kim"), &sign("kim", "approve", json!({})));
    assert_forbidden(s, &b, "not_permitted");
    // A unit manager reads but this command is not theirs either.
    let line = json!({"actor": {"user": "mona", "role": "unit_manager"}, "command": "approve",
                      "plan": "plan-0001", "version": 1, "at": "2026-03-10T10:00:00Z"});
    let (s, b) = h.record(&h.issuer.token("mona"), &line);
    assert_forbidden(s, &b, "not_permitted");
    assert_eq!(h.ledger_size(), size, "a refused request wrote nothing");

    // The permitted path: key worker signs and submits, case officer approves.
    let kim = h.issuer.token("kim");
    let (s, b) = h.record(&kim, &sign("kim", "sign", json!({"signer": "client"})));
    assert_eq!(s, 201, "{b}");
    let (s, b) = h.record(&kim, &sign("kim", "submit", json!({})));
    assert_eq!(s, 201, "{b}");
    let mut approve = sign("h7", "approve", json!({}));
    approve["at"] = json!("2026-03-12T13:00:00Z");
    let (s, b) = h.record(&h.issuer.token("h7"), &approve);
    assert_eq!(s, 201, "{b}");
    assert_eq!(h.ledger_size(), size + 3);

    // A domain rejection is 422 with its rule, and writes nothing (another approval:
    // the same line again would be the same command, recorded already).
    approve["at"] = json!("2026-03-12T14:00:00Z");
    let (s, b) = h.record(&h.issuer.token("h7"), &approve);
    assert_eq!((s, b["code"].as_str()), (422, Some("rejected")), "{b}");
    assert_eq!(b["rule"], "already_approved");
    // A malformed body is 400 naming the field, quoting no value.
    let (s, body) = h.post(
        "/v1/commands",
        Some(&kim),
        &[],
        &json!({"actor": {"user": "kim", "role": "key_worker"}, "command": "receive_order",
                "plan": "p", "order": "o", "unit": "hemtjanst-norr", "act": "home_care",
                "client": "19640823-3235", "received_on": "2026-03-02"})
        .to_string(),
    );
    assert_eq!(s, 400, "{body}");
    assert!(
        !body.contains("3235") && !body.contains("19640823"),
        "{body}"
    );
    assert_eq!(h.ledger_size(), size + 3);
    h.stop();
}

/// A retried request is recorded once: the same `Idempotency-Key` (even with another
/// body) answers 200 with where the command was recorded, and writes nothing; so does
/// the same line sent again without a key, and in an import.
#[test]
fn a_retried_request_is_recorded_once() {
    let mut h = Harness::start();
    with_plan(&h);
    let kim = h.issuer.token("kim");
    let deviation = |text: &str| {
        json!({"actor": {"user": "kim", "role": "key_worker"}, "at": "2026-03-11T09:00:00Z",
               "command": "record_deviation", "plan": "plan-0001", "occurred_on": "2026-03-11",
               "description": text})
        .to_string()
    };
    let key = [("Idempotency-Key", "ccm-4711")];
    let (s, body) = h.post(
        "/v1/commands",
        Some(&kim),
        &key,
        &deviation("Besöket uteblev."),
    );
    assert_eq!(s, 201, "{body}");
    let first: Value = serde_json::from_str(&body).unwrap();
    let position = first["recorded"][0]["position"].as_u64().unwrap();
    let size = h.ledger_size();
    let (s, body) = h.post(
        "/v1/commands",
        Some(&kim),
        &key,
        &deviation("Besöket uteblev!"),
    );
    assert_eq!(s, 200, "{body}");
    let again: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(again["already_recorded_at"], position, "{body}");
    assert_eq!(again["recorded"], json!([]), "{body}");
    assert_eq!(h.ledger_size(), size, "a retry writes nothing");
    // Without a key, the line is known by its bytes.
    let line = deviation("Dörren var låst.");
    let (s, body) = h.post("/v1/commands", Some(&kim), &[], &line);
    assert_eq!(s, 201, "{body}");
    let (s, body) = h.post("/v1/commands", Some(&kim), &[], &line);
    assert_eq!(s, 200, "{body}");
    let (s, body) = h.post("/v1/import", Some(&kim), &[], &format!("{line}\n"));
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["results"][0]["already_recorded_at"].is_u64(), "{body}");
    assert_eq!(h.ledger_size(), size + 1);
    // A key that could be a personnummer is refused, and not echoed.
    let (s, body) = h.post(
        "/v1/commands",
        Some(&kim),
        &[("Idempotency-Key", "196408233234")],
        &deviation("x"),
    );
    assert_eq!(s, 400, "{body}");
    assert!(!body.contains("3234"), "{body}");
    h.stop();
}

#[test]
fn a_system_records_for_a_named_user_and_the_record_shows_both() {
    let mut h = Harness::start();
    with_plan(&h);
    let line = json!({"actor": {"user": "kim", "role": "key_worker"}, "at": "2026-03-11T09:00:00Z",
                      "command": "record_deviation", "plan": "plan-0001", "occurred_on": "2026-03-11",
                      "description": "Besöket blev en timme sent."});
    let (s, b) = h.record(API_TOKEN, &line);
    assert_eq!(s, 201, "{b}");
    // In the role the configuration gives the user, not another.
    let mut wrong = line.clone();
    wrong["actor"]["role"] = json!("case_officer");
    let (s, b) = h.record(API_TOKEN, &wrong);
    assert_forbidden(s, &b, "actor_role_mismatch");
    let mut stranger = line.clone();
    stranger["actor"]["user"] = json!("nobody");
    let (s, b) = h.record(API_TOKEN, &stranger);
    assert_forbidden(s, &b, "user_not_configured");
    // A system not delegated records only in its own name.
    let (s, b) = h.record(UNDELEGATED_TOKEN, &line);
    assert_forbidden(s, &b, "system_not_delegated");
    // An import of lines, each authorised on its own (another deviation: the same line
    // again would be the same command, recorded already).
    let mut other = line.clone();
    other["description"] = json!("Besöket blev två timmar sent.");
    let lines = format!("{other}\n\n{wrong}\n");
    let (s, body) = h.post("/v1/import", Some(API_TOKEN), &[], &lines);
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            v["lines"].as_u64(),
            v["records"].as_u64(),
            v["rejected"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{body}"
    );
    assert_eq!(v["results"][1]["line"], 3);
    assert_eq!(v["results"][1]["error"]["rule"], "actor_role_mismatch");
    h.stop();
    let store = Location::Dir(h.dir.path().join("ledger")).open().unwrap();
    let records = store.read_all(0, 100).unwrap();
    let actors: Vec<&str> = records
        .iter()
        .map(|r| r.entry().actor.user_id.as_str())
        .collect();
    assert_eq!(
        actors,
        ["h7", "kim", "kim/via/procapita", "kim/via/procapita"]
    );
    assert_eq!(records[2].entry().actor.role, "key_worker");
    assert!(
        planledger_store::verify_store(store.as_ref(), &[], &mut |_, _| {})
            .unwrap()
            .violation
            .is_none()
    );
}

#[test]
fn missing_expired_forged_and_foreign_tokens_are_401_and_write_nothing() {
    let mut h = Harness::start();
    with_plan(&h);
    let size = h.ledger_size();
    let line = draft_line("kim", "plan-0001").to_string();
    let other_key = new_key();
    let cases = [
        ("missing", None),
        (
            "expired",
            Some(h.issuer.token_with(&h.issuer.key, "kim", -3600, AUDIENCE)),
        ),
        (
            "forged",
            Some(h.issuer.token_with(&other_key, "kim", 600, AUDIENCE)),
        ),
        (
            "audience",
            Some(
                h.issuer
                    .token_with(&h.issuer.key, "kim", 600, "another-service"),
            ),
        ),
        ("tampered", {
            let t = h.issuer.token("kim");
            let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
            let claims = String::from_utf8(B64.decode(&parts[1]).unwrap())
                .unwrap()
                .replace("\"kim\"", "\"h7\"");
            parts[1] = B64.encode(claims);
            Some(parts.join("."))
        }),
        ("unknown API token", Some("plk-not-a-token".to_owned())),
        ("not a token", Some("a.b.c".to_owned())),
    ];
    for (what, token) in cases {
        let (s, body) = h.post("/v1/commands", token.as_deref(), &[], &line);
        assert_eq!(s, 401, "{what}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], "unauthenticated", "{what}");
        let (s, _) = h.get("/v1/plans/plan-0001", token.as_deref(), Some("test"));
        assert_eq!(s, 401, "{what}");
    }
    // A valid token of a person the configuration does not list.
    let (s, body) = h.post("/v1/commands", Some(&h.issuer.token("eve")), &[], &line);
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("user_not_configured"));
    assert_eq!(h.ledger_size(), size);
    assert_eq!(h.access_log_size(), 0);
    h.stop();
}

fn extract(h: &Harness, client: &str) -> Vec<Value> {
    let (s, body) = h.post(
        "/v1/access-log/extract",
        Some(&h.issuer.token("ivo")),
        &[("X-Purpose", "begäran om registerutdrag")],
        &json!({"client": client}).to_string(),
    );
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["reads"].as_array().unwrap().clone()
}

#[test]
fn every_read_of_personal_data_is_logged_once_and_no_other() {
    let mut h = Harness::start();
    with_plan(&h);
    let kim = h.issuer.token("kim");
    let mona = h.issuer.token("mona");
    assert_eq!(h.access_log_size(), 0);

    // Reads without personal data: nothing logged.
    assert_eq!(h.get("/health", None, None).0, 200);
    assert_eq!(h.get("/ready", None, None).0, 200);
    let (s, body) = h.get(
        "/v1/reports/overview?unit=hemtjanst-norr&as_of=2026-03-20&lang=en",
        Some(&mona),
        None,
    );
    assert_eq!(s, 200, "{body}");
    assert!(
        body.contains("plan-0001") && !body.contains("3234"),
        "masked: {body}"
    );
    let (s, body) = h.get(
        "/v1/reports/late?unit=hemtjanst-norr&format=csv",
        Some(&kim),
        None,
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(h.access_log_size(), 0);

    // Refused and malformed reads: nothing logged, nothing shown.
    let (s, body) = h.get(
        "/v1/plans/plan-0001",
        Some(&h.issuer.token("sam")),
        Some("uppföljning"),
    );
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("unit_not_assigned") && !body.contains("3234"));
    let (s, body) = h.get("/v1/plans/plan-0001", Some(&kim), None);
    assert_eq!(s, 400, "a read of personal data states its purpose: {body}");
    let (s, body) = h.get("/v1/reports/overview", Some(&kim), None);
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("unit_required"));
    assert_eq!(h.access_log_size(), 0);

    // Each personal-data read: one entry.
    let (s, body) = h.get(
        "/v1/plans/plan-0001",
        Some(&kim),
        Some("genomgång av planen"),
    );
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("\"version\": 1"), "{body}");
    assert_eq!(h.access_log_size(), 1);
    let (s, body) = h.get(
        "/v1/plans/plan-0001/history?lang=en",
        Some(&mona),
        Some("egenkontroll"),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(h.access_log_size(), 2);
    let (s, _) = h.get(
        "/v1/plans/plan-0001?as_of=2026-03-11&format=csv",
        Some(&h.issuer.token("ivo")),
        Some("tillsyn"),
    );
    assert_eq!(s, 200);
    assert_eq!(h.access_log_size(), 3);
    // A report with personnummer in full: one entry per client listed.
    let (s, body) = h.get(
        "/v1/reports/overview?unit=hemtjanst-norr&as_of=2026-03-20&reveal_personnummer=true",
        Some(&mona),
        Some("egenkontroll"),
    );
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("3234"), "{body}");
    assert_eq!(h.access_log_size(), 4);

    // The extract: who read this client's data, and why; reading it is logged too.
    let reads = extract(&h, PNR);
    assert_eq!(reads.len(), 4, "{reads:?}");
    let who: Vec<(&str, &str, &str)> = reads
        .iter()
        .map(|r| {
            (
                r["user"].as_str().unwrap(),
                r["role"].as_str().unwrap(),
                r["purpose"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            ("kim", "key_worker", "genomgång av planen"),
            ("mona", "unit_manager", "egenkontroll"),
            ("ivo", "inspector", "tillsyn"),
            ("mona", "unit_manager", "egenkontroll")
        ]
    );
    assert_eq!(reads[0]["query"], "GET /v1/plans/plan-0001");
    assert_eq!(reads[0]["plan"], "plan-0001");
    assert_eq!(h.access_log_size(), 5);
    let again = extract(&h, PNR);
    assert_eq!(again.len(), 5);
    assert_eq!(again[4]["query"], "POST /v1/access-log/extract");
    assert!(extract(&h, OTHER_PNR).is_empty());

    // The sample a unit manager checks.
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today.pred_opt().unwrap(), today.succ_opt().unwrap());
    let path = format!("/v1/access-log/sample?n=2&unit=hemtjanst-norr&from={from}&to={to}");
    let before = h.access_log_size();
    let (s, body) = h.get(&path, Some(&mona), Some("stickprov"));
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["reads"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(
        h.access_log_size(),
        before + 2,
        "each sampled read's client is logged"
    );
    let (s, body) = h.get(&path, Some(&kim), Some("stickprov"));
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("role_not_allowed"));
    let other_unit = format!("/v1/access-log/sample?n=2&unit=hemtjanst-syd&from={from}&to={to}");
    let (s, body) = h.get(&other_unit, Some(&mona), Some("stickprov"));
    assert_eq!(s, 403, "{body}");
    // Only the inspector and administrators make extracts.
    let (s, _) = h.post(
        "/v1/access-log/extract",
        Some(&mona),
        &[("X-Purpose", "x")],
        &json!({"client": PNR}).to_string(),
    );
    assert_eq!(s, 403);

    // No personnummer outside the payload of the access log.
    let metrics = h.get("/metrics", None, None).1;
    assert!(
        metrics.contains("planledger_access_log_entries_total 9"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/v1/plans/{plan}\""), "{metrics}");
    h.stop();
    let log = Location::Dir(h.dir.path().join("ledger/access-log"))
        .open()
        .unwrap();
    for r in log.read_all(0, 1000).unwrap() {
        let e = r.entry();
        for text in [&e.stream_id, &e.actor.user_id, &e.actor.role, &e.event_type] {
            assert!(!text.contains("3234") && !text.contains("2391"), "{text}");
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(h.dir.path().join("ledger/access-log/ledger.redb"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the access log is readable by its owner only"
        );
    }
}

#[test]
fn a_clients_history_is_read_by_the_number_in_the_body_and_logged_per_plan() {
    let mut h = Harness::start();
    with_plan(&h);
    // The same client has a plan in another unit too.
    let (s, b) = h.record(
        &h.issuer.token("h7"),
        &order_line("h7", "case_officer", "plan-0002", "hemtjanst-syd", PNR),
    );
    assert_eq!(s, 201, "{b}");
    let ask = |token: &str, query: &str, purpose: Option<&str>, client: &str| {
        let mut headers = vec![];
        if let Some(p) = purpose {
            headers.push(("X-Purpose", p));
        }
        let (s, body) = h.post(
            &format!("/v1/clients/history{query}"),
            Some(token),
            &headers,
            &json!({"client": client}).to_string(),
        );
        (s, body)
    };
    let (kim, ivo) = (h.issuer.token("kim"), h.issuer.token("ivo"));
    let logged = h.access_log_size();
    // kim may not read the client's plan in hemtjanst-syd: refused, nothing logged.
    let (s, body) = ask(&kim, "", Some("genomgång"), PNR);
    assert_forbidden(
        s,
        &serde_json::from_str(&body).unwrap(),
        "unit_not_assigned",
    );
    // A purpose is needed; the body holds the number and nothing else.
    assert_eq!(ask(&ivo, "", None, PNR).0, 400);
    let (s, _) = h.post(
        "/v1/clients/history",
        Some(&ivo),
        &[("X-Purpose", "tillsyn")],
        &json!({"client": PNR, "plan": "plan-0001"}).to_string(),
    );
    assert_eq!(s, 400);
    // A client without plans: 404, without the number.
    let (s, body) = ask(&ivo, "", Some("tillsyn"), OTHER_PNR);
    assert_eq!(s, 404, "{body}");
    assert!(!body.contains("2391"), "{body}");
    assert_eq!(h.access_log_size(), logged, "refusals are not reads");
    // kim's own unit: that plan only, one entry.
    let (s, body) = ask(&kim, "?unit=hemtjanst-norr&lang=en", Some("genomgång"), PNR);
    assert_eq!(s, 200, "{body}");
    assert!(
        body.contains("plan-0001") && !body.contains("plan-0002"),
        "{body}"
    );
    assert_eq!(h.access_log_size(), logged + 1);
    // The inspector: both plans, one entry each, the query without the number.
    let (s, body) = ask(&ivo, "?format=csv", Some("tillsyn"), PNR);
    assert_eq!(s, 200, "{body}");
    assert!(
        body.contains("plan-0001") && body.contains("plan-0002"),
        "{body}"
    );
    assert_eq!(h.access_log_size(), logged + 3);
    let reads = extract(&h, PNR);
    let by_client: Vec<&Value> = reads
        .iter()
        .filter(|r| {
            r["query"]
                .as_str()
                .unwrap()
                .starts_with("POST /v1/clients/history")
        })
        .collect();
    assert_eq!(by_client.len(), 3, "{reads:?}");
    for r in by_client {
        assert!(!r["query"].as_str().unwrap().contains("3234"), "{r}");
    }
    h.stop();
}

#[test]
fn the_openapi_document_lists_exactly_the_routes() {
    let mut h = Harness::start();
    let (s, body) = h.get("/openapi.json", None, None);
    assert_eq!(s, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut listed: Vec<(String, String)> = Vec::new();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            listed.push((method.to_uppercase(), path.clone()));
        }
    }
    listed.sort();
    let expected: Vec<(String, String)> = [
        ("GET", "/health"),
        ("GET", "/metrics"),
        ("GET", "/ready"),
        ("GET", "/v1/access-log/sample"),
        ("GET", "/v1/plans/{plan}"),
        ("GET", "/v1/plans/{plan}/history"),
        ("GET", "/v1/reports/{report}"),
        ("GET", "/v1/verify"),
        ("POST", "/v1/access-log/extract"),
        ("POST", "/v1/bundles"),
        ("POST", "/v1/checkpoint"),
        ("POST", "/v1/clients/history"),
        ("POST", "/v1/commands"),
        ("POST", "/v1/import"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect::<std::collections::BTreeSet<_>>()
    .into_iter()
    .collect();
    assert_eq!(listed, expected);
    // Every documented operation is served (an unauthenticated call is 401 or an
    // answer, never the fallback's 404 nor 405) ...
    for (method, path) in &listed {
        let concrete = path
            .replace("{plan}", "plan-x")
            .replace("{report}", "overview");
        let (s, body) = match method.as_str() {
            "GET" => h.get(&concrete, None, None),
            _ => h.post(&concrete, None, &[], "{}"),
        };
        assert!(s != 404 && s != 405, "{method} {path}: {s} {body}");
        if path.starts_with("/v1/") {
            assert_eq!(s, 401, "{method} {path} needs a token");
            let op = &paths[path][method.to_lowercase()];
            assert!(
                op["security"].is_array(),
                "{method} {path} documents its bearer token"
            );
        }
    }
    // ... and what is not documented is not served.
    assert_eq!(h.get("/v1/plans", None, None).0, 404);
    let (s, body) = h.post("/v1/verify", None, &[], "");
    assert_eq!(s, 405, "{body}");
    h.stop();
}

#[test]
fn shutdown_finishes_the_writes_in_flight() {
    let mut h = Harness::start();
    with_plan(&h);
    let base = Arc::new(h.base.clone());
    let kim = h.issuer.token("kim");
    // Writers in flight while the server is told to stop: every write acknowledged
    // with 201 is in the ledger afterwards.
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (base, kim) = (base.clone(), kim.clone());
            std::thread::spawn(move || {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .new_agent();
                let mut acked = 0;
                for j in 0..5 {
                    let line = json!({"actor": {"user": "kim", "role": "key_worker"},
                        "at": "2026-03-11T09:00:00Z", "command": "record_deviation",
                        "plan": "plan-0001", "occurred_on": "2026-03-11",
                        "description": format!("avvikelse {i}-{j}")});
                    match agent
                        .post(format!("{base}/v1/commands"))
                        .header("Authorization", format!("Bearer {kim}"))
                        .send(line.to_string())
                    {
                        Ok(r) if r.status() == 201 => acked += 1,
                        _ => {}
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    h.stop();
    let acked: u64 = handles.into_iter().map(|t| t.join().unwrap()).sum();
    let store = Location::Dir(h.dir.path().join("ledger")).open().unwrap();
    assert_eq!(store.head().unwrap().size, 2 + acked);
}

#[test]
fn it_serves_tls_from_certificate_files() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    Location::Dir(ledger.clone()).create().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let text = format!(
        "listen = \"127.0.0.1:0\"\nledger = \"{}\"\n[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
        ledger.display(),
        dir.path().join("cert.pem").display(),
        dir.path().join("key.pem").display()
    );
    let running = rt
        .block_on(planledger_serve::start(
            Config::parse(&text).unwrap(),
            planledger_serve::system_clock(),
        ))
        .unwrap();
    assert!(running.tls);
    let port = running.addr.port();
    let roots = ureq::tls::RootCerts::Specific(Arc::new(vec![
        ureq::tls::Certificate::from_der(cert.cert.der()).to_owned(),
    ]));
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
        .build()
        .new_agent();
    let mut r = agent
        .get(format!("https://localhost:{port}/health"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.body_mut().read_to_string().unwrap().contains("ok"));
    // Plain HTTP to the TLS port gets no answer.
    let plain = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent();
    assert!(
        plain
            .get(format!("http://127.0.0.1:{port}/health"))
            .call()
            .is_err()
    );
    rt.block_on(running.shutdown(Duration::from_secs(5)))
        .unwrap();
}
