//! The organisation's deadline policy: a TOML file kept under version control beside the
//! ledger, read on every invocation that counts deadlines, or the documented defaults.

use std::path::Path;

use planledger_plan::DeadlinePolicy;

use crate::error::{Error, Kind, Result};
use crate::files::read_text_limited;
use crate::limits::Limits;

/// The policy in `path`, or the defaults of docs/DOMAIN.md without one.
pub fn load_policy(path: Option<&Path>, limits: &Limits) -> Result<DeadlinePolicy> {
    let Some(path) = path else {
        return Ok(DeadlinePolicy::default());
    };
    let text = read_text_limited(
        path,
        "the policy file",
        limits.line_bytes,
        "--max-line-bytes",
    )?;
    DeadlinePolicy::from_toml(&text).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!("the policy file {} is invalid: {e}", path.display()),
        )
    })
}
