//! Who is calling: an OpenID Connect bearer token (a JWT checked against the issuer's
//! keys, fetched from its discovery document's `jwks_uri` and cached) for people, an API
//! token (compared by its SHA-256 with the configuration's) for systems. The role and
//! units come from the configuration, never from the token or the request.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use planledger_plan::{Role, UserId};
use sha2::{Digest, Sha256};

use crate::config::{Config, Oidc, Units};
use crate::error::ApiError;

/// Who an authenticated request comes from.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The person's user id, or the system's name.
    pub id: UserId,
    /// The role it acts in; a system that only records on behalf of users has none.
    pub role: Option<Role>,
    pub units: Units,
    /// A system (API token), and whether it may record on behalf of users.
    pub system: Option<SystemGrant>,
}

#[derive(Debug, Clone, Copy)]
pub struct SystemGrant {
    pub on_behalf_of_users: bool,
}

/// The least time between two fetches of the issuer's keys caused by an unknown key id.
const REFETCH_AFTER: Duration = Duration::from_secs(10);

/// The issuer's keys, fetched when first needed and again when old or when a token
/// names a key id they lack.
pub struct Issuer {
    oidc: Oidc,
    keys: Mutex<Option<(Instant, JwkSet)>>,
    agent: ureq::Agent,
}

impl Issuer {
    pub fn new(oidc: Oidc) -> Issuer {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .new_agent();
        Issuer {
            oidc,
            keys: Mutex::new(None),
            agent,
        }
    }

    /// Fetches the discovery document and the key set it names (blocking).
    fn fetch(&self) -> Result<JwkSet, String> {
        let doc = self.discovery()?;
        let jwks_uri = doc
            .get("jwks_uri")
            .and_then(|u| u.as_str())
            .ok_or("the issuer's discovery document has no jwks_uri")?;
        self.agent
            .get(jwks_uri)
            .call()
            .and_then(|mut r| r.body_mut().read_json::<JwkSet>())
            .map_err(|e| format!("cannot read the issuer's keys: {e}"))
    }

    /// The issuer's discovery document, checked to name this issuer (blocking).
    pub fn discovery(&self) -> Result<serde_json::Value, String> {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            self.oidc.issuer.trim_end_matches('/')
        );
        let doc: serde_json::Value = self
            .agent
            .get(&discovery)
            .call()
            .and_then(|mut r| r.body_mut().read_json())
            .map_err(|e| format!("cannot read the issuer's discovery document: {e}"))?;
        if doc.get("issuer").and_then(|i| i.as_str()) != Some(self.oidc.issuer.as_str()) {
            return Err("the issuer's discovery document names another issuer".into());
        }
        Ok(doc)
    }

    /// The agent the issuer is called with (timeouts set).
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// The key `kid` names (the only key when the token names none), fetching the key
    /// set when it is missing, old, or lacks `kid`.
    fn key(&self, kid: Option<&str>) -> Result<jsonwebtoken::jwk::Jwk, ApiError> {
        let max_age = Duration::from_secs(self.oidc.jwks_cache_seconds);
        let find = |set: &JwkSet| match kid {
            Some(k) => set.find(k).cloned(),
            None if set.keys.len() == 1 => Some(set.keys[0].clone()),
            None => None,
        };
        let mut cached = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, set)) = cached.as_ref() {
            if at.elapsed() < max_age {
                if let Some(k) = find(set) {
                    return Ok(k);
                }
                if at.elapsed() < REFETCH_AFTER {
                    return Err(ApiError::unauthenticated(
                        "the token is signed with a key the issuer does not publish",
                    ));
                }
            }
        }
        let set = self.fetch().map_err(|why| {
            tracing::warn!("cannot fetch the issuer's keys");
            ApiError::unavailable("issuer_unreachable", &why)
        })?;
        let found = find(&set);
        *cached = Some((Instant::now(), set));
        found.ok_or_else(|| {
            ApiError::unauthenticated("the token is signed with a key the issuer does not publish")
        })
    }

    /// The user id the token names, if its signature, issuer, audience and times hold
    /// (blocking: it may fetch keys).
    pub fn check(&self, token: &str) -> Result<String, ApiError> {
        let claims = self.claims(token, &self.oidc.audience)?;
        self.user_of(&claims)
    }

    /// The user id the configured user claim of `claims` names.
    pub fn user_of(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, ApiError> {
        claims
            .get(&self.oidc.user_claim)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::unauthenticated("the token lacks the configured user claim"))
    }

    /// The claims of a token for `audience` (an access token: the configured audience;
    /// an ID token of the pages' login: their client id), if its signature, issuer,
    /// audience and times hold (blocking: it may fetch keys).
    pub fn claims(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
        let bad = |why: &str| ApiError::unauthenticated(why);
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| bad("the token is not a JWT"))?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
                | Algorithm::ES256
                | Algorithm::ES384
                | Algorithm::EdDSA
        ) {
            return Err(bad("the token's algorithm is not an issuer's signature"));
        }
        let jwk = self.key(header.kid.as_deref())?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| bad("the issuer's key is unusable"))?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.oidc.issuer]);
        v.set_audience(&[audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v.leeway = self.oidc.leeway_seconds;
        v.validate_nbf = true;
        let data =
            jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &v)
                .map_err(|e| {
                    use jsonwebtoken::errors::ErrorKind as K;
                    bad(match e.kind() {
                        K::ExpiredSignature => "the token has expired",
                        K::ImmatureSignature => "the token is not valid yet",
                        K::InvalidSignature => "the token's signature does not verify",
                        K::InvalidIssuer => "the token is from another issuer",
                        K::InvalidAudience => "the token is for another audience",
                        K::MissingRequiredClaim(_) => "the token lacks exp, iss or aud",
                        _ => "the token is not valid",
                    })
                })?;
        Ok(data.claims)
    }
}

/// The SHA-256 of an API token, hex.
pub fn token_sha256(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `a` and `b` are equal, in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Resolves a bearer token to a principal (blocking: an OIDC token may fetch keys).
pub fn authenticate(
    config: &Config,
    issuer: Option<&Issuer>,
    bearer: Option<&str>,
) -> Result<Principal, ApiError> {
    let token = bearer.ok_or_else(|| {
        ApiError::unauthenticated("no bearer token: send Authorization: Bearer TOKEN")
    })?;
    // A JWT has three dot-separated parts; an API token has none.
    if token.split('.').count() == 3 {
        let issuer = issuer.ok_or_else(|| {
            ApiError::unauthenticated("this service accepts no OpenID Connect tokens")
        })?;
        let user = issuer.check(token)?;
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
        return Ok(Principal {
            id: entry.user.clone(),
            role: Some(entry.role),
            units: Units::from_config(&entry.units),
            system: None,
        });
    }
    let hash = token_sha256(token);
    let system = config
        .systems
        .iter()
        .find(|s| {
            same(
                s.token_sha256.to_ascii_lowercase().as_bytes(),
                hash.as_bytes(),
            )
        })
        .ok_or_else(|| ApiError::unauthenticated("the API token is not known"))?;
    Ok(Principal {
        id: system.name.clone(),
        role: system.role,
        units: Units::from_config(&system.units),
        system: Some(SystemGrant {
            on_behalf_of_users: system.on_behalf_of_users,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_hash_is_sha256_hex() {
        assert_eq!(
            token_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(same(b"ab", b"ab") && !same(b"ab", b"ac") && !same(b"ab", b"abc"));
    }
}
