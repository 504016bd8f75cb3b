//! The CLI as a client of a server (`--server URL`): a real `planledger serve --config`
//! child process on loopback, with API tokens (one system recording on behalf of users,
//! one registrar reading), driven by the CLI's domain commands, `import`, `show`,
//! `history` (by plan and by client) and `audit`; the server's refusals as the
//! documented exit codes; what the server printed compared with the same read of the
//! local ledger afterwards; every personal-data read in the access log. Synthetic data.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::util::TestLedger;

const PNR: &str = "19640823-3234";
const SYSTEM_TOKEN: &str = "e2e-client-procapita-token-4b7f";
const REGISTRAR_TOKEN: &str = "e2e-client-registrar-token-c21d";

fn sha256_hex(text: &str) -> String {
    planledger_serve::auth::token_sha256(text)
}

/// `planledger serve` on a free loopback port, stopped (SIGTERM) when dropped.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    fn start(t: &TestLedger) -> ServerProcess {
        let config = format!(
            r#"
listen = "127.0.0.1:0"
ledger = "{}"

[[users]]
user = "kim"
role = "key_worker"
units = ["hemtjanst-norr"]

[[users]]
user = "h7"
role = "case_officer"
units = ["*"]

[[systems]]
name = "procapita"
token_sha256 = "{}"
on_behalf_of_users = true

[[systems]]
name = "registrar"
token_sha256 = "{}"
role = "admin"
units = ["*"]
"#,
            t.ledger().display(),
            sha256_hex(SYSTEM_TOKEN),
            sha256_hex(REGISTRAR_TOKEN)
        );
        let path = t.write("serve.toml", &config);
        let mut child = Command::new(env!("CARGO_BIN_EXE_planledger"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["serve", "--config"])
            .arg(&path)
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        // It says where it listens on its first line of standard error.
        let mut line = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("planledger: serving on ")
            .unwrap_or_else(|| panic!("unexpected first line from serve: {line}"))
            .to_owned();
        ServerProcess { child, url }
    }

    /// SIGTERM, and the server's exit status (it finishes what it acknowledged first).
    fn stop(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CLI against `server` with the token in `token_file`.
fn remote(
    t: &TestLedger,
    server: &ServerProcess,
    token_file: &str,
    now: &str,
    args: &[&str],
) -> std::process::Output {
    t.cmd()
        .args(["--server", &server.url, "--token-file"])
        .arg(t.path(token_file))
        .args(["--claimed-at", now])
        .args(args)
        .output()
        .unwrap()
}

fn expect(out: &std::process::Output, code: i32, what: &str) -> (String, String) {
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}; stdout: {stdout} stderr: {stderr}"
    );
    (stdout, stderr)
}

const M2: &str = "2026-03-02T09:00:00+01:00";
const M10: &str = "2026-03-10T10:00:00+01:00";
const M12: &str = "2026-03-12T14:00:00+01:00";

#[test]
fn the_cli_records_imports_and_reads_through_a_server() {
    let t = TestLedger::new();
    t.write("system.token", &format!("{SYSTEM_TOKEN}\n"));
    t.write("registrar.token", REGISTRAR_TOKEN);
    t.write("wrong.token", "not-a-token-of-this-server");
    let content = t.write("plan-v1.json", include_str!("../examples/plan-v1.json"));
    let content = content.to_str().unwrap();
    let server = ServerProcess::start(&t);
    let sys = |now: &str, args: &[&str]| remote(&t, &server, "system.token", now, args);
    let reg = |args: &[&str]| remote(&t, &server, "registrar.token", M12, args);

    // The domain commands, each sent as an import line, printed as locally.
    let (out, _) = expect(
        &sys(
            M2,
            &[
                "order",
                "--as",
                "h7",
                "--role",
                "case_officer",
                "--plan",
                "plan-0001",
                "--order",
                "best-88",
                "--unit",
                "hemtjanst-norr",
                "--act",
                "home_care",
                "--client",
                PNR,
                "--received-on",
                "2026-03-02",
            ],
        ),
        0,
        "order",
    );
    assert_eq!(
        out,
        "recorded order_received at position 0: plan plan-0001 record 1\n"
    );
    let draft = [
        "draft",
        "--as",
        "kim",
        "--role",
        "key_worker",
        "--plan",
        "plan-0001",
        "--content",
        content,
    ];
    let (out, _) = expect(&sys(M10, &draft), 0, "draft");
    assert_eq!(
        out,
        "recorded plan_drafted at position 1: plan plan-0001 record 2\n"
    );
    // The same command sent again (a retry): recorded once.
    let (out, _) = expect(&sys(M10, &draft), 0, "draft again");
    assert_eq!(
        out,
        "already recorded at position 1: plan plan-0001; nothing recorded now\n"
    );
    for args in [
        &[
            "sign",
            "--as",
            "kim",
            "--role",
            "key_worker",
            "--plan",
            "plan-0001",
            "--version",
            "1",
            "--signer",
            "client",
        ][..],
        &[
            "submit",
            "--as",
            "kim",
            "--role",
            "key_worker",
            "--plan",
            "plan-0001",
            "--version",
            "1",
        ],
    ] {
        expect(&sys(M10, args), 0, args[0]);
    }
    // Refusals keep their local exit codes: a key worker may not approve (2, the rule
    // named); a plan that does not exist (4); a stale --expect-version (3).
    let approve = [
        "approve",
        "--as",
        "kim",
        "--role",
        "key_worker",
        "--plan",
        "plan-0001",
        "--version",
        "1",
    ];
    let (_, err) = expect(&sys(M12, &approve), 2, "a key worker approving");
    assert!(
        err.contains("forbidden") && err.contains("not_permitted"),
        "{err}"
    );
    let (_, err) = expect(
        &sys(
            M12,
            &[
                "submit",
                "--as",
                "kim",
                "--role",
                "key_worker",
                "--plan",
                "plan-0002",
                "--version",
                "1",
            ],
        ),
        4,
        "no such plan",
    );
    assert!(err.contains("not_found"), "{err}");
    expect(
        &sys(
            M12,
            &[
                "deviation",
                "--as",
                "kim",
                "--role",
                "key_worker",
                "--plan",
                "plan-0001",
                "--occurred-on",
                "2026-03-11",
                "--description",
                "Kom inte",
                "--expect-version",
                "2",
            ],
        ),
        3,
        "a stale expectation",
    );
    // A person's own token is theirs alone: the system may not act as a user it does not
    // record for (an unlisted user).
    let (_, err) = expect(
        &sys(
            M12,
            &[
                "deviation",
                "--as",
                "nobody",
                "--role",
                "staff",
                "--plan",
                "plan-0001",
                "--occurred-on",
                "2026-03-11",
                "--description",
                "Kom inte",
            ],
        ),
        2,
        "an unlisted user",
    );
    assert!(err.contains("user_not_configured"), "{err}");
    expect(
        &sys(
            M12,
            &[
                "approve",
                "--as",
                "h7",
                "--role",
                "case_officer",
                "--plan",
                "plan-0001",
                "--version",
                "1",
            ],
        ),
        0,
        "approve",
    );

    // import over the server: line numbers of the file, a rejected line exits 2 and the
    // others are recorded.
    let lines = [
        r#"{"actor":{"user":"kim","role":"key_worker"},"at":"2026-03-12T15:00:00Z","command":"record_deviation","plan":"plan-0001","occurred_on":"2026-03-12","description":"Insatsen uteblev"}"#,
        "",
        r#"{"actor":{"user":"kim","role":"key_worker"},"at":"2026-03-12T15:00:00Z","command":"approve","plan":"plan-0001","version":1}"#,
    ];
    let file = t.write("lines.jsonl", &(lines.join("\n") + "\n"));
    let (out, err) = expect(&sys(M12, &["import", file.to_str().unwrap()]), 2, "import");
    assert!(
        out.contains("imported 1 of 2 lines (1 records); 0 already recorded (skipped); 1 rejected"),
        "{out}"
    );
    assert!(err.contains("line 3:") && !err.contains("line 1:"), "{err}");
    // Again: the recorded line is known by its bytes.
    let (out, err) = expect(
        &sys(M12, &["import", file.to_str().unwrap()]),
        2,
        "import again",
    );
    assert!(out.contains("1 already recorded (skipped)"), "{out}");
    assert!(
        err.contains("line 1: already recorded at position 5"),
        "{err}"
    );

    // Reads need a purpose; the server logs it.
    let (_, err) = expect(&reg(&["show", "plan-0001"]), 2, "show without a purpose");
    assert!(err.contains("--purpose"), "{err}");
    let purpose = ["--purpose", "klagomal 2026-17"];
    let show_args = [&["show", "plan-0001", "--format", "json"][..], &purpose].concat();
    let (shown, _) = expect(&reg(&show_args), 0, "show");
    let history_args = [
        &["history", "--plan", "plan-0001", "--lang", "en"][..],
        &purpose,
    ]
    .concat();
    let (history, _) = expect(&reg(&history_args), 0, "history");
    assert!(history.contains("plan-0001"), "{history}");
    let by_client = [
        &["history", "--client", PNR, "--format", "json"][..],
        &purpose,
    ]
    .concat();
    let (client_history, _) = expect(&reg(&by_client), 0, "history by client");
    assert!(client_history.contains("plan-0001"), "{client_history}");
    let audit_args = [
        "audit",
        "overview",
        "--unit",
        "hemtjanst-norr",
        "--format",
        "csv",
        "--lang",
        "en",
        "--as-of",
        "2026-03-12",
    ];
    let (overview, _) = expect(&reg(&audit_args), 0, "audit");
    assert!(
        overview.contains("plan-0001,home care,approved"),
        "{overview}"
    );
    let (_, err) = expect(
        &reg(&[&["show", "plan-0404"][..], &purpose].concat()),
        4,
        "show a missing plan",
    );
    assert!(err.contains("not_found"), "{err}");

    // Tokens: a wrong one is refused (2), none at all is named.
    let (_, err) = expect(
        &remote(&t, &server, "wrong.token", M12, &audit_args),
        2,
        "a wrong token",
    );
    assert!(err.contains("unauthenticated"), "{err}");
    let out = t
        .cmd()
        .args(["--server", &server.url])
        .args(audit_args)
        .output()
        .unwrap();
    let (_, err) = expect(&out, 2, "no token");
    assert!(err.contains("PLANLEDGER_TOKEN"), "{err}");
    // ... and from the environment instead of a file.
    let out = t
        .cmd()
        .env("PLANLEDGER_TOKEN", REGISTRAR_TOKEN)
        .args(["--server", &server.url])
        .args(audit_args)
        .output()
        .unwrap();
    assert_eq!(expect(&out, 0, "a token from the environment").0, overview);
    // A command that needs the ledger itself is refused with --server.
    let (_, err) = expect(&reg(&["verify"]), 2, "verify with --server");
    assert!(err.contains("--server"), "{err}");

    assert!(server.stop().success(), "serve stops cleanly on SIGTERM");

    // What the server printed is what the local ledger gives.
    let local = |args: &[&str]| t.ok_at(M12, args);
    assert_eq!(local(&["show", "plan-0001", "--format", "json"]), shown);
    assert_eq!(
        local(&["history", "--plan", "plan-0001", "--lang", "en"]),
        history
    );
    assert_eq!(
        local(&["history", "--client", PNR, "--format", "json"]),
        client_history
    );
    assert_eq!(local(&audit_args), overview);
    let head = t.head();
    assert_eq!(
        head["size"], 6,
        "order, draft, sign, submit, approve, one deviation"
    );
    let records = t.entries();
    assert!(
        records[1].actor.user_id == "kim/via/procapita",
        "a system's record names the user and the system: {:?}",
        records[1].actor
    );
    t.ok(&["verify"]);

    // Every read of personal data over the server is in the access log, with its
    // purpose; the report (masked) is not.
    let extract = t.ok(&[
        "access-log",
        "--client",
        PNR,
        "--as",
        "reg-anna",
        "--role",
        "admin",
        "--purpose",
        "registerutdrag",
    ]);
    let reads: serde_json::Value = serde_json::from_str(&extract).unwrap();
    let queries: Vec<&str> = reads["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["query"].as_str().unwrap())
        .collect();
    assert_eq!(
        queries.len(),
        3,
        "show, history, history by client: {queries:?}"
    );
    assert!(
        queries[0].starts_with("GET /v1/plans/plan-0001"),
        "{queries:?}"
    );
    assert!(
        queries[1].starts_with("GET /v1/plans/plan-0001/history"),
        "{queries:?}"
    );
    assert!(
        queries[2].starts_with("POST /v1/clients/history"),
        "{queries:?}"
    );
    assert!(
        !queries[2].contains("3234"),
        "the number is not in the logged query: {queries:?}"
    );
    for r in reads["reads"].as_array().unwrap() {
        assert_eq!(r["purpose"], "klagomal 2026-17");
        assert_eq!(r["user"], "registrar");
    }
}

#[test]
fn an_unreachable_server_is_a_storage_error() {
    let t = TestLedger::new();
    t.write("token", SYSTEM_TOKEN);
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = t
        .cmd()
        .args([
            "--server",
            &format!("http://127.0.0.1:{port}"),
            "--token-file",
        ])
        .arg(t.path("token"))
        .args(["audit", "overview", "--unit", "hemtjanst-norr"])
        .output()
        .unwrap();
    let (_, err) = expect(&out, 5, "an unreachable server");
    assert!(err.contains("cannot reach the server"), "{err}");
    let out = t
        .cmd()
        .args(["--server", "ftp://example.invalid", "--token-file"])
        .arg(t.path("token"))
        .args(["audit", "overview"])
        .output()
        .unwrap();
    expect(&out, 2, "not an http URL");
}
