//! The service's configuration file (TOML): where it listens, the ledger, TLS, the
//! OpenID Connect issuer, and who is who: every person's role and units, every system's
//! hashed API token. Roles and units come from here, never from a request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use planledger_plan::{Role, UnitId, UserId};
use serde::Deserialize;

/// What separates the named user from the system in the user id of a record that a
/// system recorded on a person's behalf: `kim/via/procapita`.
pub const VIA: &str = "/via/";

/// Every unit: `units = ["*"]`.
pub const ALL_UNITS: &str = "*";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The address to listen on (`127.0.0.1:8443`; port 0 picks a free one).
    pub listen: SocketAddr,
    /// The plans' ledger: a directory (embedded) or a postgres:// URL.
    pub ledger: String,
    /// The ledger's name in a PostgreSQL database.
    #[serde(default = "default_ledger_name")]
    pub ledger_name: String,
    /// The read-access log: a directory for an embedded ledger (default: `access-log`
    /// inside the ledger directory); for PostgreSQL the ledger name (default: the plans'
    /// ledger name followed by `-access-log`).
    #[serde(default)]
    pub access_log: Option<String>,
    /// The key-encryption key file (`planledger kek-gen`, mode 0600), as `--kek`: for
    /// a ledger that encrypts personal data under per-client keys. Writes are then
    /// encrypted and reads decrypted, and a weeded client's plans read as weeded. A
    /// ledger with a key store is refused without it.
    #[serde(default)]
    pub kek: Option<PathBuf>,
    /// The deadline policy file (TOML), as `--policy`.
    #[serde(default)]
    pub policy: Option<PathBuf>,
    /// TLS from certificate files; plain HTTP without it (only behind a TLS proxy, or
    /// on loopback).
    #[serde(default)]
    pub tls: Option<Tls>,
    /// The OpenID Connect issuer of people's tokens; without it only API tokens work.
    #[serde(default)]
    pub oidc: Option<Oidc>,
    /// People: the user id their token names, their role and their units.
    #[serde(default)]
    pub users: Vec<User>,
    /// Systems: an API token (stored as its SHA-256) and what the system may do.
    #[serde(default)]
    pub systems: Vec<System>,
    /// Signing checkpoints (`POST /v1/checkpoint`) and proving bundles against them.
    #[serde(default)]
    pub checkpoint: Option<CheckpointConfig>,
    /// The pages' OpenID Connect client (`/ui/`); without it there are no pages.
    #[serde(default)]
    pub pages: Option<crate::pages::session::PagesConfig>,
    /// The largest request body, in bytes (an import), default 16 MiB.
    #[serde(default = "default_body_limit")]
    pub max_body_bytes: usize,
}

fn default_ledger_name() -> String {
    "main".to_owned()
}

fn default_body_limit() -> usize {
    16 << 20
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointConfig {
    /// The checkpoint signing key (`planledger keygen`).
    pub key: PathBuf,
    /// The witness directory of the plans' ledger; the access log's checkpoints go to
    /// its subdirectory `access-log`.
    pub witness: PathBuf,
    /// The map key (`planledger map-keygen`), for checkpoints that commit the map.
    #[serde(default)]
    pub map_key: Option<PathBuf>,
    /// The checkpoints' origin line (default: the key's name).
    #[serde(default)]
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Oidc {
    /// The issuer URL; its discovery document is `ISSUER/.well-known/openid-configuration`.
    pub issuer: String,
    /// The audience tokens must name (`aud`).
    pub audience: String,
    /// The claim holding the user id that `[[users]]` name (default `sub`).
    #[serde(default = "default_user_claim")]
    pub user_claim: String,
    /// How long fetched keys are used before they are fetched again, in seconds (an
    /// unknown key id fetches them at once, at most every 10 seconds).
    #[serde(default = "default_jwks_seconds")]
    pub jwks_cache_seconds: u64,
    /// Tolerated clock difference for `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
}

fn default_user_claim() -> String {
    "sub".to_owned()
}

fn default_jwks_seconds() -> u64 {
    300
}

fn default_leeway() -> u64 {
    30
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The user id (the token's user claim; recorded in the ledger as is).
    pub user: UserId,
    pub role: Role,
    /// The units whose plans the user records and reads; `["*"]` for all.
    #[serde(default)]
    pub units: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// The system's name; the user id of what it records in its own name.
    pub name: UserId,
    /// SHA-256 of the API token, hex (`printf %s TOKEN | sha256sum`).
    pub token_sha256: String,
    /// The role it acts in when it records in its own name (none: it records only on
    /// behalf of users).
    #[serde(default)]
    pub role: Option<Role>,
    /// Its units, as a user's.
    #[serde(default)]
    pub units: Vec<String>,
    /// Whether it may record on behalf of the users in `[[users]]` (the line's
    /// `actor.user`); the record's user id is then `USER/via/SYSTEM`.
    #[serde(default)]
    pub on_behalf_of_users: bool,
}

/// Why a configuration is refused: the file, and the field or rule at fault.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        Config::parse(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }

    /// Parses and checks a configuration. The error names the line and field, never a
    /// value.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| format!("line {}: ", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            ConfigError(planledger_plan::json::mask_personnummer(&format!(
                "{at}{}",
                e.message()
            )))
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let mut seen = HashMap::new();
        for u in &self.users {
            if u.user.as_str().contains(VIA) {
                return Err(ConfigError(format!(
                    "a [[users]] id may not contain {VIA:?} (it marks a system recording on a user's behalf)"
                )));
            }
            if seen.insert(u.user.as_str(), ()).is_some() {
                return Err(ConfigError(
                    "a user is listed twice in [[users]]; give each person one entry".into(),
                ));
            }
            check_units(&u.units, "[[users]]")?;
        }
        for s in &self.systems {
            if s.name.as_str().contains('/') {
                return Err(ConfigError("a [[systems]] name may not contain '/'".into()));
            }
            if seen.insert(s.name.as_str(), ()).is_some() {
                return Err(ConfigError(
                    "a [[systems]] name is also a user's or another system's".into(),
                ));
            }
            let hex = &s.token_sha256;
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ConfigError(
                    "token_sha256 of a [[systems]] entry must be 64 hex digits (the SHA-256 of the token)"
                        .into(),
                ));
            }
            check_units(&s.units, "[[systems]]")?;
        }
        Ok(())
    }
}

fn check_units(units: &[String], table: &str) -> Result<(), ConfigError> {
    for u in units {
        if u != ALL_UNITS && UnitId::new(u.clone()).is_err() {
            return Err(ConfigError(format!(
                "a unit of a {table} entry is not a unit id (letters, digits, -_.:/) nor \"*\""
            )));
        }
    }
    Ok(())
}

/// The units a principal may work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Units {
    All,
    Some(Vec<UnitId>),
}

impl Units {
    pub fn from_config(units: &[String]) -> Units {
        if units.iter().any(|u| u == ALL_UNITS) {
            Units::All
        } else {
            Units::Some(
                units
                    .iter()
                    .filter_map(|u| UnitId::new(u.clone()).ok())
                    .collect(),
            )
        }
    }

    pub fn contains(&self, unit: &UnitId) -> bool {
        match self {
            Units::All => true,
            Units::Some(us) => us.contains(unit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
listen = "127.0.0.1:0"
ledger = "/tmp/x"
[[users]]
user = "kim"
role = "key_worker"
units = ["hemtjanst-norr"]
[[systems]]
name = "procapita"
token_sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
on_behalf_of_users = true
"#;

    #[test]
    fn a_good_config_parses() {
        let c = Config::parse(GOOD).unwrap();
        assert_eq!(c.users[0].role, Role::KeyWorker);
        assert!(c.systems[0].on_behalf_of_users);
        assert_eq!(c.ledger_name, "main");
    }

    #[test]
    fn a_misspelt_field_is_refused_by_line_and_name() {
        let e = Config::parse(&GOOD.replace("units =", "unit =")).unwrap_err();
        assert!(
            e.0.contains("line 7") && e.0.contains("unknown field `unit`"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_token_hash_or_duplicate_user_is_refused() {
        assert!(Config::parse(&GOOD.replace("000000000000000000000000", "xyz")).is_err());
        let twice = format!("{GOOD}\n[[users]]\nuser = \"kim\"\nrole = \"staff\"\n");
        assert!(Config::parse(&twice).unwrap_err().0.contains("twice"));
    }

    #[test]
    fn a_personnummer_in_a_bad_value_is_not_echoed() {
        let e = Config::parse(&GOOD.replace("\"kim\"", "19640823-3234")).unwrap_err();
        assert!(!e.0.contains("3234"), "{e}");
    }
}
