//! `--server URL`: the CLI as a client of `planledger serve`, for the commands that work
//! over HTTP (the domain commands, `import`, `show`, `history`, `audit`). The command
//! line is parsed and checked as for a local ledger; the request is the same JSON an
//! import line is; what the server answers is printed as the local command prints it.
//! The server's errors (`{code, message, rule}`) become the documented exit codes.
//!
//! The bearer token comes from `--token-file FILE` or the environment variable
//! `PLANLEDGER_TOKEN`, never from a flag's value (which `ps` shows to everyone).

use std::time::Duration;

use planledger_app::{Error, Kind, Limits, Result};
use serde::Deserialize;

/// The environment variable that may hold the token.
pub const TOKEN_ENV: &str = "PLANLEDGER_TOKEN";

/// A server to send requests to, with the caller's token.
pub struct Server {
    base: String,
    token: String,
    agent: ureq::Agent,
}

/// An error body of the server.
#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
    #[serde(default)]
    rule: Option<String>,
}

/// The exit code's kind of a server error: refusals (bad input, a rule, a role, a
/// token) are 2 as the same refusal is locally, then not found 4, conflict 3, a ledger
/// that does not verify 1, everything else (storage, unavailable, internal) 5.
fn kind_of(code: &str, status: u16) -> Kind {
    match code {
        "bad_input" | "rejected" | "forbidden" | "unauthenticated" => Kind::BadInput,
        "not_found" => Kind::NotFound,
        "conflict" => Kind::Conflict,
        "verification" => Kind::Verification,
        "" => match status {
            400 | 401 | 403 | 413 | 415 | 422 => Kind::BadInput,
            404 => Kind::NotFound,
            409 => Kind::Conflict,
            _ => Kind::Storage,
        },
        _ => Kind::Storage,
    }
}

/// `text` percent-encoded for a path segment or a query value (RFC 3986: all but the
/// unreserved characters).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string of the pairs whose value is given.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// A path segment (a plan id, a report's name), encoded.
pub fn segment(text: &str) -> String {
    encode(text)
}

impl Server {
    /// The server at `url` (http:// or https://), with the token from `token_file` or
    /// else from `PLANLEDGER_TOKEN`.
    pub fn new(url: &str, token_file: Option<&std::path::Path>, limits: &Limits) -> Result<Server> {
        let url = url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::new(
                Kind::BadInput,
                "--server must be an http:// or https:// URL",
            ));
        }
        let token = match token_file {
            Some(path) => {
                use std::io::Read;
                let cannot =
                    |e| Error::io(format!("cannot read the token file {}", path.display()), e);
                let mut bytes = Vec::new();
                std::fs::File::open(path)
                    .and_then(|f| {
                        f.take(limits.file_bytes.saturating_add(1))
                            .read_to_end(&mut bytes)
                    })
                    .map_err(cannot)?;
                if bytes.len() as u64 > limits.file_bytes {
                    return Err(Error::new(
                        Kind::BadInput,
                        format!(
                            "the token file is longer than the limit of {} bytes (--max-file-bytes)",
                            limits.file_bytes
                        ),
                    ));
                }
                String::from_utf8(bytes)
                    .map_err(|_| Error::new(Kind::BadInput, "the token file is not UTF-8 text"))?
            }
            None => std::env::var(TOKEN_ENV).map_err(|_| {
                Error::new(
                    Kind::BadInput,
                    format!("no token for --server: give --token-file FILE or set {TOKEN_ENV}"),
                )
            })?,
        };
        let token = token.trim().to_owned();
        if token.is_empty() || token.chars().any(|c| c.is_control() || c == ' ') {
            return Err(Error::new(
                Kind::BadInput,
                "the token is empty or has spaces or control characters",
            ));
        }
        // ureq speaks TLS through rustls with ring; platform roots verify the server.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .new_agent();
        Ok(Server {
            base: url.to_owned(),
            token,
            agent,
        })
    }

    /// Sends a request; the body of a 2xx answer, or the server's error as an [`Error`]
    /// of its kind. `purpose` goes in `X-Purpose` (reads of personal data need one).
    pub fn call(
        &self,
        method: &str,
        path_and_query: &str,
        purpose: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Result<(u16, Vec<u8>)> {
        let uri = format!("{}{path_and_query}", self.base);
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(&uri)
            .header("Authorization", format!("Bearer {}", self.token));
        if let Some(p) = purpose {
            req = req.header("X-Purpose", p);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let unreachable = |e: &dyn std::fmt::Display| {
            Error::new(
                Kind::Storage,
                format!("cannot reach the server at {}: {e}", self.base),
            )
        };
        let answer = match body {
            Some((content_type, bytes)) => {
                let req = req
                    .header("Content-Type", content_type)
                    .body(bytes.to_vec())
                    .map_err(|e| unreachable(&e))?;
                self.agent.run(req)
            }
            None => {
                let req = req.body(()).map_err(|e| unreachable(&e))?;
                self.agent.run(req)
            }
        };
        let mut resp = answer.map_err(|e| unreachable(&e))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .map_err(|e| unreachable(&e))?;
        if (200..300).contains(&status) {
            return Ok((status, bytes));
        }
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(e) => {
                let rule = e.rule.map(|r| format!(", rule {r}")).unwrap_or_default();
                Error::new(
                    kind_of(&e.code, status),
                    format!("the server refused ({}{rule}): {}", e.code, e.message),
                )
            }
            Err(_) => Error::new(
                kind_of("", status),
                format!("the server answered with status {status}"),
            ),
        })
    }

    /// A GET whose answer is printed as it is.
    pub fn get(&self, path_and_query: &str, purpose: Option<&str>) -> Result<Vec<u8>> {
        self.call("GET", path_and_query, purpose, &[], None)
            .map(|(_, b)| b)
    }

    /// A POST of `body` (JSON) whose answer is JSON.
    pub fn post_json<T: for<'de> Deserialize<'de>>(
        &self,
        path_and_query: &str,
        purpose: Option<&str>,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<T> {
        let (_, bytes) = self.call(
            "POST",
            path_and_query,
            purpose,
            headers,
            Some((content_type, body)),
        )?;
        serde_json::from_slice(&bytes).map_err(|_| {
            Error::new(
                Kind::Storage,
                "the server's answer is not what this version of planledger expects",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_percent_encoded() {
        assert_eq!(encode("plan-0001"), "plan-0001");
        assert_eq!(encode("a/b c&d"), "a%2Fb%20c%26d");
        assert_eq!(encode("å"), "%C3%A5");
        assert_eq!(
            query(&[("as_of", Some("2026-03-02".into())), ("unit", None)]),
            "?as_of=2026-03-02"
        );
        assert_eq!(query(&[("unit", None)]), "");
    }

    #[test]
    fn server_errors_map_to_the_documented_exit_codes() {
        assert_eq!(kind_of("forbidden", 403).exit_code(), 2);
        assert_eq!(kind_of("unauthenticated", 401).exit_code(), 2);
        assert_eq!(kind_of("rejected", 422).exit_code(), 2);
        assert_eq!(kind_of("not_found", 404).exit_code(), 4);
        assert_eq!(kind_of("conflict", 409).exit_code(), 3);
        assert_eq!(kind_of("verification", 500).exit_code(), 1);
        assert_eq!(kind_of("storage", 503).exit_code(), 5);
        assert_eq!(kind_of("access_log_unavailable", 503).exit_code(), 5);
        assert_eq!(kind_of("", 404).exit_code(), 4);
        assert_eq!(kind_of("", 502).exit_code(), 5);
    }
}
