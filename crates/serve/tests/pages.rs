//! The pages in a real headless Chromium, driven over the DevTools protocol
//! (`headless_chrome`): log in through a local OpenID Connect issuer (discovery, JWKS,
//! an authorize form and a token endpoint, an Ed25519 key made here), open the unit
//! overview (filter, sort), a plan's timeline, the plan as of a day, download a report's
//! CSV, make the complaint dossier (HTML and PDF) and check it against a known-answer
//! scenario; every page with personal data must be in the access log. Screenshots go
//! to `target/screenshots/` for a person to look at. Chromium is required: without it
//! the test fails (`.ci/run` installs Debian's `chromium`). Synthetic data only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Form, Query};
use axum::response::{Html, IntoResponse, Redirect};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use chrono::{TimeZone, Utc};
use ed25519_dalek::{Signer, SigningKey};
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use planledger_app::{Limits, Location, Recorder};
use planledger_serve::Config;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PNR: &str = "196408233234";
const OTHER_PNR: &str = "197010632391";
const AUDIENCE: &str = "planledger";
const CLIENT_ID: &str = "planledger-pages";

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Grant {
    user: String,
    nonce: String,
    challenge: String,
    redirect_uri: String,
    client_id: String,
}

/// The local issuer: discovery, JWKS, an authorize form (a person types their user id)
/// and a token endpoint exchanging a code (checked against its PKCE challenge) for an
/// ID token.
struct TestIssuer {
    url: String,
    key: Arc<SigningKey>,
}

fn jwt(key: &SigningKey, claims: &Value) -> String {
    let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig.to_bytes()))
}

impl TestIssuer {
    fn start(rt: &tokio::runtime::Runtime) -> TestIssuer {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        let key = Arc::new(SigningKey::from_bytes(&seed));
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let discovery = json!({
            "issuer": url,
            "jwks_uri": format!("{url}/jwks"),
            "authorization_endpoint": format!("{url}/authorize"),
            "token_endpoint": format!("{url}/token"),
        });
        let jwks = json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "kid": "k1", "alg": "EdDSA", "use": "sig",
            "x": B64.encode(key.verifying_key().as_bytes()),
        }]});
        let grants: Arc<Mutex<HashMap<String, Grant>>> = Arc::default();
        let g1 = grants.clone();
        let g2 = grants.clone();
        let k2 = key.clone();
        let iss = url.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || async move { axum::Json(discovery) }),
            )
            .route(
                "/jwks",
                axum::routing::get(move || async move { axum::Json(jwks) }),
            )
            .route(
                "/authorize",
                axum::routing::get(|Query(q): Query<HashMap<String, String>>| async move {
                    assert_eq!(q.get("response_type").map(String::as_str), Some("code"));
                    assert_eq!(q.get("code_challenge_method").map(String::as_str), Some("S256"));
                    let hidden: String = ["client_id", "redirect_uri", "state", "nonce", "code_challenge"]
                        .iter()
                        .map(|k| {
                            format!(
                                r#"<input type="hidden" name="{k}" value="{}">"#,
                                q.get(*k).cloned().unwrap_or_default()
                            )
                        })
                        .collect();
                    Html(format!(
                        r#"<!DOCTYPE html><html lang="sv"><head><title>Test issuer</title></head><body><main><h1>Logga in</h1>
<form method="post" action="/authorize">{hidden}<label for="user">Användare</label><input id="user" name="user">
<button id="login" type="submit">Logga in</button></form></main></body></html>"#
                    ))
                })
                .post(move |Form(f): Form<HashMap<String, String>>| async move {
                    let code = B64.encode(rand_bytes());
                    let redirect = format!(
                        "{}?code={code}&state={}",
                        f["redirect_uri"], f["state"]
                    );
                    g1.lock().unwrap().insert(
                        code,
                        Grant {
                            user: f["user"].clone(),
                            nonce: f["nonce"].clone(),
                            challenge: f["code_challenge"].clone(),
                            redirect_uri: f["redirect_uri"].clone(),
                            client_id: f["client_id"].clone(),
                        },
                    );
                    Redirect::to(&redirect)
                }),
            )
            .route(
                "/token",
                axum::routing::post(move |Form(f): Form<HashMap<String, String>>| async move {
                    let grant = g2.lock().unwrap().remove(&f["code"]);
                    let Some(g) = grant else {
                        return (axum::http::StatusCode::BAD_REQUEST, "invalid_grant").into_response();
                    };
                    let verifier_ok = B64.encode(Sha256::digest(f["code_verifier"].as_bytes())) == g.challenge;
                    if !verifier_ok || f["redirect_uri"] != g.redirect_uri || f["client_id"] != g.client_id {
                        return (axum::http::StatusCode::BAD_REQUEST, "invalid_grant").into_response();
                    }
                    let id_token = jwt(&k2, &json!({
                        "iss": iss, "aud": g.client_id, "sub": g.user, "nonce": g.nonce,
                        "iat": now_secs(), "exp": now_secs() + 300,
                    }));
                    axum::Json(json!({"id_token": id_token, "token_type": "Bearer", "access_token": "unused"})).into_response()
                }),
            );
        rt.spawn(async move { axum::serve(listener, app).await });
        TestIssuer { url, key }
    }

    /// An access token for the API (audience `planledger`).
    fn token(&self, sub: &str) -> String {
        jwt(
            &self.key,
            &json!({"iss": self.url, "aud": AUDIENCE, "sub": sub, "iat": now_secs(), "exp": now_secs() + 600}),
        )
    }
}

fn rand_bytes() -> [u8; 24] {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).unwrap();
    b
}

/// The known-answer scenario: plan-0001 of the first client in hemtjanst-norr (order,
/// version 1 drawn up, signed, sent, approved, a deviation and its correction, version 2
/// with a changed service), plan-0002 of the other client in hemtjanst-syd.
fn record_scenario(ledger: &std::path::Path) {
    let store = Location::Dir(ledger.to_path_buf()).open().unwrap();
    let content = include_str!("../../../examples/plan-v1.json");
    let v2 = content
        .replace("Två personal", "En personal, kunden duschar själv med stöd")
        .replace("2026-03-10", "2026-04-01");
    let lines = [
        format!(r#"{{"actor":{{"user":"h7","role":"case_officer"}},"at":"2026-03-02T09:00:00+01:00","command":"receive_order","plan":"plan-0001","order":"best-88","unit":"hemtjanst-norr","act":"home_care","client":"{PNR}","received_on":"2026-03-02"}}"#),
        format!(r#"{{"actor":{{"user":"kim","role":"key_worker"}},"at":"2026-03-10T10:00:00+01:00","command":"draft","plan":"plan-0001","content":{content}}}"#),
        r#"{"actor":{"user":"kim","role":"key_worker"},"at":"2026-03-10T10:05:00+01:00","command":"sign","plan":"plan-0001","version":1,"signer":"client"}"#.to_owned(),
        r#"{"actor":{"user":"kim","role":"key_worker"},"at":"2026-03-10T10:10:00+01:00","command":"submit","plan":"plan-0001","version":1}"#.to_owned(),
        r#"{"actor":{"user":"h7","role":"case_officer"},"at":"2026-03-12T14:00:00+01:00","command":"approve","plan":"plan-0001","version":1}"#.to_owned(),
        r#"{"actor":{"user":"kim","role":"key_worker"},"at":"2026-03-20T18:00:00+01:00","command":"record_deviation","plan":"plan-0001","occurred_on":"2026-03-20","description":"Besöket uteblev på förmiddagen"}"#.to_owned(),
        r#"{"actor":{"user":"kim","role":"key_worker"},"at":"2026-03-21T09:00:00+01:00","command":"correct","plan":"plan-0001","refers_to":6,"note":"Besöket gjordes på eftermiddagen"}"#.to_owned(),
        format!(r#"{{"actor":{{"user":"kim","role":"key_worker"}},"at":"2026-04-01T10:00:00+02:00","command":"revise","plan":"plan-0001","reason":"changed_needs","content":{v2}}}"#),
        format!(r#"{{"actor":{{"user":"h7","role":"case_officer"}},"at":"2026-05-04T09:00:00+02:00","command":"receive_order","plan":"plan-0002","order":"best-91","unit":"hemtjanst-syd","act":"home_care","client":"{OTHER_PNR}","received_on":"2026-05-04"}}"#),
    ];
    let mut recorder = Recorder::new(store.as_ref(), planledger_plan::DeadlinePolicy::default());
    for (i, l) in lines.iter().enumerate() {
        let line =
            planledger_app::import::parse_line(l).unwrap_or_else(|e| panic!("line {i}: {e}"));
        let at = line
            .at
            .unwrap_or_else(|| Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap());
        recorder
            .record(&line.command, &line.actor, at, None)
            .unwrap_or_else(|e| panic!("line {i}: {e}"));
    }
}

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn shot(tab: &Tab, name: &str) {
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

fn go(tab: &Tab, url: &str) -> String {
    tab.navigate_to(url).unwrap();
    tab.wait_until_navigated().unwrap();
    tab.get_content().unwrap()
}

/// Runs `script` (a promise of a string) in the page and returns the string.
fn eval_string(tab: &Tab, script: &str) -> String {
    let r = tab.evaluate(script, true).unwrap();
    r.value
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("the script gave no string: {script}"))
}

/// axe-core (tests/assets/README.md), injected into the pages the tests open.
const AXE: &str = include_str!("assets/axe.min.js");

/// Runs axe-core on the page in `tab` with the WCAG 2.0 and 2.1 A and AA rules: each
/// violation as `rule (impact): help at [targets]`.
fn axe_violations(tab: &Tab, page: &str) -> Vec<String> {
    let loaded = tab
        .evaluate(&format!("{AXE}\n;typeof axe"), false)
        .unwrap()
        .value;
    assert_eq!(
        loaded.as_ref().and_then(|v| v.as_str()),
        Some("object"),
        "axe-core did not load on {page}"
    );
    let report = eval_string(
        tab,
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r => JSON.stringify({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))}))}))",
    );
    let report: Value = serde_json::from_str(&report).unwrap();
    assert!(
        report["passes"].as_u64().unwrap() > 0,
        "axe-core checked nothing on {page}"
    );
    report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{} ({}): {} at {}",
                v["id"].as_str().unwrap_or_default(),
                v["impact"].as_str().unwrap_or_default(),
                v["help"].as_str().unwrap_or_default(),
                v["targets"]
            )
        })
        .collect()
}

/// Fails, naming each rule and the elements it found, on any WCAG 2.1 A/AA violation
/// axe-core finds on the page in `tab`.
fn accessible(tab: &Tab, page: &str) {
    let violations = axe_violations(tab, page);
    assert!(
        violations.is_empty(),
        "axe-core finds WCAG 2.1 A/AA violations on {page}:\n  {}",
        violations.join("\n  ")
    );
}

struct World {
    rt: tokio::runtime::Runtime,
    running: Option<planledger_serve::Running>,
    base: String,
    issuer: TestIssuer,
    dir: tempfile::TempDir,
    verifier_text: String,
}

fn start() -> World {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let issuer = TestIssuer::start(&rt);
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    Location::Dir(ledger.clone()).create().unwrap();
    record_scenario(&ledger);
    // A checkpoint signed into a witness directory, for the dossier's proof.
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    let signer =
        planledger_ledger::CheckpointSigner::from_seed("exempelkommun.se/planledger", seed)
            .unwrap();
    let key = dir.path().join("ledger.key");
    std::fs::write(&key, signer.to_key_text()).unwrap();
    let witness = dir.path().join("witness");
    {
        let store = Location::Dir(ledger.clone()).open().unwrap();
        planledger_app::witness::checkpoint(
            store.as_ref(),
            &signer,
            &witness,
            None,
            Utc::now(),
            &Limits::default(),
            None,
        )
        .unwrap();
    }
    // Port 0 is chosen by the server; the public URL must be known before, so take a
    // free port first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = Config::parse(&format!(
        r#"
listen = "127.0.0.1:{port}"
ledger = "{ledger}"

[oidc]
issuer = "{issuer}"
audience = "{AUDIENCE}"

[pages]
client_id = "{CLIENT_ID}"
public_url = "http://127.0.0.1:{port}"

[checkpoint]
key = "{key}"
witness = "{witness}"

[[users]]
user = "ivo"
role = "inspector"

[[users]]
user = "mona"
role = "unit_manager"
units = ["hemtjanst-norr"]
"#,
        ledger = ledger.display(),
        issuer = issuer.url,
        key = key.display(),
        witness = witness.display(),
    ))
    .unwrap();
    let running = rt
        .block_on(planledger_serve::start(
            config,
            planledger_serve::system_clock(),
        ))
        .unwrap();
    World {
        base: format!("http://{}", running.addr),
        running: Some(running),
        rt,
        issuer,
        dir,
        verifier_text: signer.verifier().to_text(),
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let _ = self.rt.block_on(r.shutdown(Duration::from_secs(5)));
        }
    }
}

fn browser() -> Browser {
    let chromium = planledger_app::dossier::chromium().expect(
        "the page tests drive a real Chromium and fail without it: apt-get install chromium (.ci/run does)",
    );
    Browser::new(
        LaunchOptions::default_builder()
            .path(Some(chromium))
            .headless(true)
            .sandbox(false)
            .window_size(Some((1280, 1000)))
            .idle_browser_timeout(Duration::from_secs(300))
            .build()
            .unwrap(),
    )
    .expect("Chromium starts")
}

/// Logs in as `user` through the issuer's form, starting at `url`; the page it lands on.
fn log_in(tab: &Tab, url: &str, user: &str) -> String {
    tab.navigate_to(url).unwrap();
    tab.wait_for_element("#user").unwrap().click().unwrap();
    tab.type_str(user).unwrap();
    tab.wait_for_element("#login").unwrap().click().unwrap();
    if tab.wait_for_element("main#main").is_err() {
        panic!(
            "no page after the login: {} {}",
            tab.get_url(),
            tab.get_content().unwrap_or_default()
        );
    }
    tab.get_content().unwrap()
}

/// The access log's reads of a client, through the API as the inspector, but for the
/// extracts themselves.
fn reads_of(w: &World, client: &str) -> Vec<Value> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut r = agent
        .post(format!("{}/v1/access-log/extract", w.base))
        .header("Authorization", format!("Bearer {}", w.issuer.token("ivo")))
        .header("X-Purpose", "test: who read")
        .send(json!({"client": client}).to_string())
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.body_mut().read_json().unwrap();
    // Without the extracts this test asks for (each logged too).
    v["reads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            !r["query"]
                .as_str()
                .unwrap()
                .starts_with("POST /v1/access-log")
        })
        .cloned()
        .collect()
}

#[test]
fn an_inspector_browses_the_pages_and_makes_a_dossier_in_a_real_browser() {
    let w = start();
    let browser = browser();
    let tab = browser.new_tab().unwrap();

    // Not logged in: the overview sends the browser to the issuer, and back.
    let overview = log_in(&tab, &format!("{}/ui/overview", w.base), "ivo");
    assert!(
        tab.get_url()
            .starts_with(&format!("{}/ui/overview", w.base)),
        "{}",
        tab.get_url()
    );
    assert!(
        overview.contains(r#"<html lang="sv">"#),
        "Swedish by default"
    );
    assert!(
        overview.contains("plan-0001") && overview.contains("plan-0002"),
        "{overview}"
    );
    assert!(
        overview.contains("19640823-****"),
        "personnummer masked in the overview"
    );
    assert!(!overview.contains("19640823-3234"));
    shot(&tab, "overview");
    accessible(&tab, "the overview");

    // The session cookie is HttpOnly and SameSite=Lax: page scripts cannot read it.
    assert_eq!(eval_string(&tab, "Promise.resolve(document.cookie)"), "");

    // Filter by unit, sort by plan descending.
    let filtered = go(&tab, &format!("{}/ui/overview?unit=hemtjanst-norr", w.base));
    assert!(filtered.contains("plan-0001") && !filtered.contains("plan-0002"));
    let sorted = go(&tab, &format!("{}/ui/overview?sort=plan&dir=desc", w.base));
    let (a, b) = (
        sorted.find(">plan-0002<").unwrap(),
        sorted.find(">plan-0001<").unwrap(),
    );
    assert!(a < b, "descending by plan");
    assert!(sorted.contains(r#"aria-sort="descending""#));
    accessible(&tab, "the overview, filtered and sorted");

    // English.
    let en = go(&tab, &format!("{}/ui/lang?to=en&back=/ui/overview", w.base));
    assert!(en.contains(r#"<html lang="en">"#) && en.contains("Overview"));
    accessible(&tab, "the overview in English");
    go(&tab, &format!("{}/ui/lang?to=sv&back=/ui/overview", w.base));

    // A report's CSV, downloaded with the session (plain and for spreadsheets).
    let report = go(&tab, &format!("{}/ui/reports/backdated", w.base));
    assert!(report.contains("Ladda ner CSV"));
    accessible(&tab, "a report");
    let csv = eval_string(
        &tab,
        "fetch(document.querySelector('a[download]').href).then(r => r.text())",
    );
    assert!(
        csv.lines().count() > 1 && csv.contains("plan-0001"),
        "{csv}"
    );
    let sheet = eval_string(
        &tab,
        "fetch(document.querySelectorAll('a[download]')[1].href).then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b).slice(0, 3)).join(','))",
    );
    assert_eq!(sheet, "239,187,191", "a UTF-8 byte order mark");

    // A plan's timeline: personal data, so first the purpose.
    let ask = go(&tab, &format!("{}/ui/plans/plan-0001", w.base));
    assert!(
        ask.contains(r#"for="purpose""#),
        "the purpose is asked first"
    );
    assert_eq!(reads_of(&w, PNR).len(), 0, "nothing shown, nothing logged");
    accessible(&tab, "the purpose form");
    tab.wait_for_element("#purpose").unwrap().click().unwrap();
    tab.type_str("klagomål 2026-17").unwrap();
    tab.press_key("Enter").unwrap();
    tab.wait_for_element("section.version").unwrap();
    let timeline = tab.get_content().unwrap();
    for expected in [
        "Version 1",
        "Version 2",
        "2026-03-10 10:00 +01:00, kim (kontaktperson)",
        "2026-03-12 14:00 +01:00, h7 (biståndshandläggare)",
        "Förseglad i liggaren",
        "Två personal",
        "En personal, kunden duschar själv med stöd",
        "Besöket uteblev på förmiddagen",
        "Besöket gjordes på eftermiddagen",
        r##"href="#plan-0001-e6""##,
    ] {
        assert!(timeline.contains(expected), "the timeline lacks {expected}");
    }
    if let Some(i) = timeline.find("196408233234") {
        panic!(
            "personnummer in the timeline: {}",
            &timeline[i.saturating_sub(300)..i + 20]
        );
    }
    shot(&tab, "timeline");
    accessible(&tab, "the timeline");

    // The plan as of a day: version 1 in force on 2026-03-15.
    let as_of = go(
        &tab,
        &format!("{}/ui/plans/plan-0001/as-of?date=2026-03-15", w.base),
    );
    assert!(as_of.contains("Två personal") && !as_of.contains("En personal"));
    accessible(&tab, "the plan as of a day");

    // The dossier, from the timeline's button (HTML), checked against the scenario.
    go(&tab, &format!("{}/ui/plans/plan-0001", w.base));
    let dossier = eval_string(
        &tab,
        "(() => { const f = document.querySelector('form[action=\"/ui/dossier\"]'); return fetch(f.action, {method: 'POST', body: new URLSearchParams(new FormData(f))}).then(r => r.text()); })()",
    );
    for expected in [
        "Klagomålsakt 19640823-3234",
        "Version 2",
        "Besöket uteblev på förmiddagen",
        "Tidsfrister",
        "exempelkommun.se/planledger",
        "verify-bundle",
        &w.verifier_text,
        "planledger-evidence-bundle",
    ] {
        assert!(dossier.contains(expected), "the dossier lacks {expected}");
    }
    let dossier_file = screenshots().join("dossier.html");
    let _ = std::fs::remove_file(&dossier_file);
    std::fs::write(&dossier_file, &dossier).unwrap();
    go(&tab, &format!("file://{}", dossier_file.display()));
    shot(&tab, "dossier");
    accessible(&tab, "the dossier");

    // The same as PDF: its text extracted by pdftotext, å, ä, ö right.
    go(&tab, &format!("{}/ui/plans/plan-0001", w.base));
    let pdf_b64 = eval_string(
        &tab,
        "(() => { const f = document.querySelector('form[action=\"/ui/dossier\"]'); const d = new FormData(f); d.set('format', 'pdf'); return fetch(f.action, {method: 'POST', body: new URLSearchParams(d)}).then(r => r.arrayBuffer()).then(b => { let s = ''; new Uint8Array(b).forEach(x => s += String.fromCharCode(x)); return btoa(s); }); })()",
    );
    let pdf = STANDARD.decode(pdf_b64).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let pdf_file = w.dir.path().join("dossier.pdf");
    std::fs::write(&pdf_file, &pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf_file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Klagomålsakt") && text.contains("Besöket uteblev på förmiddagen"),
        "{text}"
    );

    // The verification status.
    let verify = go(&tab, &format!("{}/ui/verify", w.base));
    assert!(verify.contains("exempelkommun.se/planledger") && verify.contains("Verifiera nu"));
    tab.wait_for_element("form[action=\"/ui/verify\"] button")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    tab.wait_for_element("span.good").unwrap();
    shot(&tab, "verify");
    accessible(&tab, "the verification");

    // Every page with personal data is in the access log, with its purpose; the
    // overview, the reports and the verification are not.
    let reads = reads_of(&w, PNR);
    let queries: Vec<&str> = reads.iter().map(|r| r["query"].as_str().unwrap()).collect();
    assert_eq!(
        queries
            .iter()
            .filter(|q| q.starts_with("GET /ui/plans/plan-0001?"))
            .count(),
        3,
        "{queries:?}"
    );
    assert_eq!(
        queries
            .iter()
            .filter(|q| q.starts_with("GET /ui/plans/plan-0001/as-of"))
            .count(),
        1
    );
    assert_eq!(
        queries
            .iter()
            .filter(|q| q.starts_with("POST /ui/dossier"))
            .count(),
        2
    );
    assert!(
        reads
            .iter()
            .all(|r| r["user"] == "ivo" && r["purpose"] == "klagomål 2026-17"),
        "{reads:?}"
    );
    assert_eq!(reads_of(&w, OTHER_PNR).len(), 0);
}

#[test]
fn a_unit_manager_sees_only_their_unit_and_no_dossier() {
    let w = start();
    let browser = browser();
    let tab = browser.new_tab().unwrap();
    let overview = log_in(&tab, &format!("{}/ui/overview", w.base), "mona");
    assert!(
        overview.contains("plan-0001") && !overview.contains("plan-0002"),
        "{overview}"
    );
    let refused = go(&tab, &format!("{}/ui/overview?unit=hemtjanst-syd", w.base));
    assert!(refused.contains("unit_not_assigned"), "{refused}");
    accessible(&tab, "a refusal");
    let home = go(&tab, &format!("{}/ui/", w.base));
    assert!(
        !home.contains("dossier-button"),
        "no dossier button for a unit manager"
    );
    accessible(&tab, "the start page");
    // The other unit's plan: refused before anything is shown or logged.
    go(&tab, &format!("{}/ui/plans/plan-0001", w.base));
    tab.wait_for_element("#purpose").unwrap().click().unwrap();
    tab.type_str("egenkontroll").unwrap();
    tab.press_key("Enter").unwrap();
    tab.wait_for_element("section.version").unwrap();
    let other = go(&tab, &format!("{}/ui/plans/plan-0002", w.base));
    assert!(other.contains("unit_not_assigned"), "{other}");
    assert_eq!(reads_of(&w, OTHER_PNR).len(), 0);
    assert_eq!(reads_of(&w, PNR).len(), 1);
    // A forged callback (no login begun in this browser) is refused.
    let forged = go(&tab, &format!("{}/ui/callback?code=x&state=y", w.base));
    assert!(forged.contains("Inte inloggad"), "{forged}");
    accessible(&tab, "the not-logged-in page");

    // The check itself finds what it is for: a page without a language, an unlabelled
    // field, an image without a text and grey on white.
    let bad = w.dir.path().join("inaccessible.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><html><head><title>x</title></head><body><main><input type=text><img src=x.png><p style=\"color:#aaa\">grå text</p></main></body></html>",
    )
    .unwrap();
    go(&tab, &format!("file://{}", bad.display()));
    let found = axe_violations(&tab, "a page made inaccessible");
    for rule in ["html-has-lang", "label", "image-alt", "color-contrast"] {
        assert!(
            found.iter().any(|v| v.starts_with(&format!("{rule} "))),
            "axe-core misses {rule}: {found:?}"
        );
    }
}
