//! The pages' sessions and their login: the OpenID Connect authorization-code flow (with
//! PKCE and a nonce) against the configured issuer, then a session cookie (HttpOnly,
//! SameSite=Lax, Secure when the service speaks TLS or its public URL is https).
//!
//! Sessions live in memory: a restart logs everyone out. A session names the user only;
//! the role and units come from the configuration at every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use planledger_plan::UserId;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::{Issuer, Principal};
use crate::config::{Config, Units};
use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "planledger_session";
/// The cookie binding a login in progress to the browser that began it.
pub const LOGIN_COOKIE: &str = "planledger_login";
/// The language cookie.
pub const LANG_COOKIE: &str = "planledger_lang";

/// The `[pages]` table of the configuration: the pages' OpenID Connect client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagesConfig {
    /// The client id registered with the issuer (the ID token's audience).
    pub client_id: String,
    /// The client secret, if the issuer gives the client one.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The URL people reach the service at (`https://planledger.example.se`); the
    /// redirect URI registered with the issuer is this followed by `/ui/callback`.
    pub public_url: String,
    /// How long a session lasts, in minutes (default 480, a working day).
    #[serde(default = "default_session_minutes")]
    pub session_minutes: u64,
}

fn default_session_minutes() -> u64 {
    480
}

impl PagesConfig {
    pub fn redirect_uri(&self) -> String {
        format!("{}/ui/callback", self.public_url.trim_end_matches('/'))
    }
}

/// A logged-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: UserId,
    /// The token every form of the session carries (cross-site request forgery).
    pub csrf: String,
    /// The purpose the person stated for reading personal data in this session.
    pub purpose: Option<String>,
    expires: Instant,
}

struct Pending {
    verifier: String,
    nonce: String,
    back: String,
    expires: Instant,
}

/// Sessions and logins in progress.
#[derive(Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
    pending: Mutex<HashMap<String, Pending>>,
}

/// At most this many logins may be in progress (older ones are dropped first).
const MAX_PENDING: usize = 10_000;
const LOGIN_TIMEOUT: Duration = Duration::from_secs(600);

/// A random token, 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the system's randomness");
    B64.encode(b)
}

impl Sessions {
    /// The session `id` names, if it is live.
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        match all.get(id) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                all.remove(id);
                None
            }
            None => None,
        }
    }

    pub fn set_purpose(&self, id: &str, purpose: String) {
        let mut all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = all.get_mut(id) {
            s.purpose = Some(purpose);
        }
    }

    pub fn end(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    fn start(&self, user: UserId, minutes: u64) -> String {
        let id = random_token();
        let mut all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        all.retain(|_, s| s.expires > now);
        all.insert(
            id.clone(),
            Session {
                user,
                csrf: random_token(),
                purpose: None,
                expires: now + Duration::from_secs(minutes * 60),
            },
        );
        id
    }

    /// Begins a login: the authorization URL to send the browser to, and the state to
    /// bind to it in the login cookie.
    pub fn begin_login(
        &self,
        pages: &PagesConfig,
        authorization_endpoint: &str,
        back: &str,
    ) -> (String, String) {
        let state = random_token();
        let verifier = random_token();
        let nonce = random_token();
        let challenge = B64.encode(Sha256::digest(verifier.as_bytes()));
        let url = format!(
            "{authorization_endpoint}{}response_type=code&client_id={}&redirect_uri={}&scope=openid&state={state}&nonce={nonce}&code_challenge={challenge}&code_challenge_method=S256",
            if authorization_endpoint.contains('?') {
                '&'
            } else {
                '?'
            },
            encode(&pages.client_id),
            encode(&pages.redirect_uri()),
        );
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        pending.retain(|_, p| p.expires > now);
        if pending.len() >= MAX_PENDING {
            pending.clear();
        }
        pending.insert(
            state.clone(),
            Pending {
                verifier,
                nonce,
                back: back.to_owned(),
                expires: now + LOGIN_TIMEOUT,
            },
        );
        (url, state)
    }

    /// Completes a login (blocking: calls the issuer's token endpoint): the code is
    /// exchanged for an ID token, which must verify for the pages' client id and carry
    /// the login's nonce, and name a user of the configuration. The new session's id,
    /// and where to go back to.
    pub fn complete_login(
        &self,
        config: &Config,
        issuer: &Issuer,
        pages: &PagesConfig,
        state: &str,
        code: &str,
    ) -> Result<(String, String), ApiError> {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(state)
            .filter(|p| p.expires > Instant::now())
            .ok_or_else(|| {
                ApiError::unauthenticated("the login expired or was not begun here; log in again")
            })?;
        let doc = issuer
            .discovery()
            .map_err(|why| ApiError::unavailable("issuer_unreachable", &why))?;
        let token_endpoint = doc
            .get("token_endpoint")
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                ApiError::unavailable(
                    "issuer_unusable",
                    "the issuer's discovery document has no token_endpoint",
                )
            })?;
        let redirect_uri = pages.redirect_uri();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", pages.client_id.as_str()),
            ("code_verifier", pending.verifier.as_str()),
        ];
        if let Some(secret) = &pages.client_secret {
            form.push(("client_secret", secret.as_str()));
        }
        let answer: serde_json::Value = issuer
            .agent()
            .post(token_endpoint)
            .send_form(form)
            .and_then(|mut r| r.body_mut().read_json())
            .map_err(|_| {
                ApiError::unauthenticated("the issuer did not exchange the login's code")
            })?;
        let id_token = answer
            .get("id_token")
            .and_then(|v| v.as_str())
            .ok_or_else(|| ApiError::unauthenticated("the issuer gave no ID token"))?;
        let claims = issuer.claims(id_token, &pages.client_id)?;
        if claims.get("nonce").and_then(|v| v.as_str()) != Some(pending.nonce.as_str()) {
            return Err(ApiError::unauthenticated(
                "the ID token is not for this login (nonce)",
            ));
        }
        let user = issuer.user_of(&claims)?;
        let entry = config
            .users
            .iter()
            .find(|u| u.user.as_str() == user)
            .ok_or_else(|| {
                ApiError::forbidden(
                    "user_not_configured",
                    "the token's user is not listed in the service's [[users]]",
                )
            })?;
        let id = self.start(entry.user.clone(), pages.session_minutes);
        Ok((id, pending.back))
    }
}

/// The principal of a session's user, from the configuration now.
pub fn principal(config: &Config, user: &UserId) -> Result<Principal, ApiError> {
    let entry = config
        .users
        .iter()
        .find(|u| &u.user == user)
        .ok_or_else(|| {
            ApiError::forbidden(
                "user_not_configured",
                "the session's user is no longer listed in the service's [[users]]",
            )
        })?;
    Ok(Principal {
        id: entry.user.clone(),
        role: Some(entry.role),
        units: Units::from_config(&entry.units),
        system: None,
    })
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when `secure`;
/// `max_age` seconds (0 deletes it; `None`: for the browser session).
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}
