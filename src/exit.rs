//! Exit codes, and how an error chain maps to one. The codes are documented in
//! `--help` (`flags::AFTER_HELP`) and in the README; scripts depend on them.

use std::fmt;
use std::process::ExitCode;

use planledger_plan::Rejection;
use planledger_projection::ProjectionError;
use planledger_store::StoreError;

/// The documented exit codes other than 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The ledger, a checkpoint or a bundle does not verify.
    Verification = 1,
    /// A usage error or bad input, including a command the domain rejects.
    BadInput = 2,
    /// The plan changed since it was read (optimistic concurrency).
    Conflict = 3,
    /// No such plan, client, ledger or file.
    NotFound = 4,
    /// Storage or I/O failed.
    Storage = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// An error the binary raises itself, with the exit code it means. The message says
/// what is wrong and how to fix it; it never holds personal data.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// An `anyhow::Error` that exits with `exit`.
pub fn failure(exit: Exit, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        exit,
        message: message.into(),
    })
}

/// The exit code of a store error.
pub fn of_store_error(e: &StoreError) -> Exit {
    match e {
        StoreError::Conflict { .. } => Exit::Conflict,
        StoreError::NotFound { .. } => Exit::NotFound,
        StoreError::Corrupt { .. } => Exit::Verification,
        StoreError::NotContinuing { .. } | StoreError::EmptyBatch | StoreError::Format(_) => {
            Exit::BadInput
        }
        _ => Exit::Storage,
    }
}

/// The exit code of a domain rejection: a command on a plan that has no order is a
/// plan that does not exist (not found); every other rule is bad input.
pub fn of_rejection(r: &Rejection) -> Exit {
    match r {
        Rejection::NoOrder { .. } => Exit::NotFound,
        _ => Exit::BadInput,
    }
}

/// The exit code of a projection error that is a finding about the ledger itself: a
/// ledger rewritten or cut short under the saved projection, or a record that is not a
/// plan event, is what `verify` exists to report. `None`: let the cause below decide.
fn of_projection_error(e: &ProjectionError) -> Option<Exit> {
    match e {
        ProjectionError::Store(_) => None,
        ProjectionError::Snapshot { .. } => Some(Exit::Storage),
        _ => Some(Exit::Verification),
    }
}

/// The exit code for an error chain: the first cause that says.
pub fn of_error(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.exit;
        }
        if let Some(s) = cause.downcast_ref::<StoreError>() {
            return of_store_error(s);
        }
        if let Some(r) = cause.downcast_ref::<Rejection>() {
            return of_rejection(r);
        }
        if let Some(p) = cause.downcast_ref::<ProjectionError>() {
            if let Some(exit) = of_projection_error(p) {
                return exit;
            }
        }
        if cause.is::<planledger_audit::AuditError>() {
            // Every audit error is a plan or client the ledger does not hold.
            return Exit::NotFound;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::NotFound => Exit::NotFound,
                _ => Exit::Storage,
            };
        }
    }
    Exit::BadInput
}

/// Whether the error is a write to a closed pipe.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
