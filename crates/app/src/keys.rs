//! Checkpoint keys: made from the operating system's random number generator, kept in a
//! file of mode 0600; the verifier key is what inspectors get.

use std::path::Path;

use planledger_ledger::{CheckpointSigner, CheckpointVerifier, WitnessSigner, WitnessVerifier};

use crate::error::{Error, Kind, Result};
use crate::files::{read_text_limited, write_new};
use crate::limits::Limits;
use crate::witness::check_name;

/// Makes a new ed25519 key named `name`, writes the secret key to `out` (mode 0600,
/// never overwritten) and returns the signer.
pub fn keygen(name: &str, out: &Path) -> Result<CheckpointSigner> {
    check_name(name, "--name")?;
    let seed = crate::crypt::random()?;
    let signer = CheckpointSigner::from_seed(name, seed).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!("--name: {}", planledger_plan::json::redact(&e.to_string())),
        )
    })?;
    write_new(out, &format!("{}\n", signer.to_key_text()), true)?;
    Ok(signer)
}

/// The secret key in `path` (from [`keygen`]).
pub fn load_signer(path: &Path, limits: &Limits) -> Result<CheckpointSigner> {
    let text = read_text_limited(path, "the key file", limits.file_bytes, "--max-file-bytes")?;
    CheckpointSigner::from_key_text(&text).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!(
                "{} is not a secret key from `planledger keygen`: {e}",
                path.display()
            ),
        )
    })
}

/// The verifier key in `path` (printed by `keygen`).
pub fn load_verifier(path: &Path, limits: &Limits) -> Result<CheckpointVerifier> {
    let text = read_text_limited(
        path,
        "the verifier key",
        limits.file_bytes,
        "--max-file-bytes",
    )?;
    CheckpointVerifier::from_text(&text).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!(
                "{} is not a verifier key from `planledger keygen`: {e}",
                path.display()
            ),
        )
    })
}

/// Makes a new witness key (FORMAT.md §13.1) named `name`, writes the secret key to `out`
/// (mode 0600, never overwritten) and returns the signer.
pub fn witness_keygen(name: &str, out: &Path) -> Result<WitnessSigner> {
    check_name(name, "--name")?;
    let seed = crate::crypt::random()?;
    let signer = WitnessSigner::from_seed(name, seed).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!("--name: {}", planledger_plan::json::redact(&e.to_string())),
        )
    })?;
    write_new(out, &format!("{}\n", signer.to_key_text()), true)?;
    Ok(signer)
}

/// The witness's secret key in `path` (from [`witness_keygen`]).
pub fn load_witness_signer(path: &Path, limits: &Limits) -> Result<WitnessSigner> {
    let text = read_text_limited(path, "the key file", limits.file_bytes, "--max-file-bytes")?;
    WitnessSigner::from_key_text(&text).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!(
                "{} is not a secret key from `planledger witness keygen`: {e}",
                path.display()
            ),
        )
    })
}

/// A witness's verifier key in `path` (printed by `planledger witness keygen`).
pub fn load_witness_verifier(path: &Path, limits: &Limits) -> Result<WitnessVerifier> {
    let text = read_text_limited(
        path,
        "the witness key",
        limits.file_bytes,
        "--max-file-bytes",
    )?;
    WitnessVerifier::from_text(&text).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!(
                "{} is not a witness verifier key from `planledger witness keygen`: {e}",
                path.display()
            ),
        )
    })
}
