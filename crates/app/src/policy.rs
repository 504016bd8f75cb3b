//! The organisation's policy: a TOML file kept under version control beside the ledger,
//! read on every invocation that counts deadlines (its deadlines) or weeds (its
//! `[retention.<act>]` rules), or the documented defaults.

use std::path::Path;

use planledger_plan::DeadlinePolicy;
use planledger_plan::retention::RetentionPolicy;

use crate::error::{Error, Kind, Result};
use crate::files::read_text_limited;
use crate::limits::Limits;

/// The deadline policy in `path`, or the defaults of docs/DOMAIN.md without one.
pub fn load_policy(path: Option<&Path>, limits: &Limits) -> Result<DeadlinePolicy> {
    load(path, limits, DeadlinePolicy::from_toml)
}

/// The retention rules in the policy file `path`, or the defaults without one.
pub fn load_retention_policy(path: Option<&Path>, limits: &Limits) -> Result<RetentionPolicy> {
    load(path, limits, RetentionPolicy::from_toml)
}

/// What `parse` makes of the policy file `path` (read within the line limit), or the
/// default without one.
fn load<T: Default, E: std::fmt::Display>(
    path: Option<&Path>,
    limits: &Limits,
    parse: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> Result<T> {
    let Some(path) = path else {
        return Ok(T::default());
    };
    let text = read_text_limited(
        path,
        "the policy file",
        limits.line_bytes,
        "--max-line-bytes",
    )?;
    parse(&text).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!("the policy file {} is invalid: {e}", path.display()),
        )
    })
}
