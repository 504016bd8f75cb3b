//! The application's errors, each with the kind of failure it is: the CLI maps a kind to
//! its documented exit code, the coming HTTP service to a status. Messages say what is
//! wrong and how to fix it, and never hold personal data.

use planledger_plan::Rejection;
use planledger_projection::ProjectionError;
use planledger_store::StoreError;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The ledger, a checkpoint or a bundle does not verify.
    Verification,
    /// Bad input, including a command the domain rejects.
    BadInput,
    /// The plan changed since it was read (optimistic concurrency).
    Conflict,
    /// No such plan, client, unit, ledger or file.
    NotFound,
    /// Storage or I/O failed.
    Storage,
}

impl Kind {
    /// The documented exit code of a failure of this kind (the CLI's, and the number a
    /// JSON report carries).
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Verification => 1,
            Kind::BadInput => 2,
            Kind::Conflict => 3,
            Kind::NotFound => 4,
            Kind::Storage => 5,
        }
    }

    /// Its name in JSON reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Verification => "verification",
            Kind::BadInput => "bad_input",
            Kind::Conflict => "conflict",
            Kind::NotFound => "not_found",
            Kind::Storage => "storage",
        }
    }

    /// A failure of this kind as a JSON report's `error` member; `message` is shown as
    /// given, so mask it first.
    pub fn json(self, message: &str) -> serde_json::Value {
        serde_json::json!({
            "kind": self.name(),
            "message": message,
            "exit_code": self.exit_code(),
        })
    }
}

/// Why an application call failed. Nothing of a failed write was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A failure the application names itself.
    #[error("{message}")]
    Failed { kind: Kind, message: String },
    /// The domain refused a command.
    #[error("{}", rejection_message(.0))]
    Rejected(Rejection),
    #[error("{}", store_message(.0))]
    Store(#[from] StoreError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// A query named a plan or client the ledger does not hold.
    #[error(transparent)]
    Audit(#[from] planledger_audit::AuditError),
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn rejection_message(r: &Rejection) -> String {
    match r {
        Rejection::NoOrder { .. } => format!("no such plan: {r}"),
        r => format!("rejected ({}): {r}", r.rule()),
    }
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error::Failed {
            kind,
            message: message.into(),
        }
    }

    /// A failed file operation; `what` names the file and the operation.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// Whether it is a write to a closed pipe (`planledger audit … | head`): the reader
    /// went away, which is no failure of the command.
    pub fn is_broken_pipe(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(c) = cause {
            if c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return true;
            }
            cause = c.source();
        }
        false
    }

    /// Where the command was recorded before, when this is the refusal of a command
    /// recorded already (its id is in the ledger): a replay, not a failure.
    pub fn already_recorded(&self) -> Option<u64> {
        match self {
            Error::Store(StoreError::AlreadyRecorded { position }) => Some(*position),
            _ => None,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Error::Failed { kind, .. } => *kind,
            Error::Rejected(Rejection::NoOrder { .. }) => Kind::NotFound,
            Error::Rejected(_) => Kind::BadInput,
            Error::Store(e) => store_kind(e),
            Error::Projection(e) => projection_kind(e),
            Error::Audit(planledger_audit::AuditError::Read(e)) => projection_kind(e),
            Error::Audit(_) => Kind::NotFound,
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Kind::NotFound
            }
            Error::Io { .. } => Kind::Storage,
        }
    }
}

/// The kind of a projection error.
fn projection_kind(e: &ProjectionError) -> Kind {
    match e {
        ProjectionError::Store(e) => store_kind(e),
        // The index must be rebuilt: an operator's task, not a finding about the records.
        ProjectionError::Index { .. } => Kind::Storage,
        // A record that is not a plan event, a stream out of order: what `verify` exists
        // to report.
        _ => Kind::Verification,
    }
}

/// A store error as a person needs it: a conflict in the plan's terms, and the embedded
/// store's lock (held by any other planledger process that has the ledger open) with
/// what to do about it.
pub fn store_message(e: &StoreError) -> String {
    use planledger_store::ExpectedVersion;
    match e {
        StoreError::Conflict {
            stream_id,
            expected: ExpectedVersion::Exact(n),
            actual,
        } => format!(
            "the plan {stream_id} has {actual} records now, you expected {n}; it changed since it was read: read it again and retry"
        ),
        StoreError::Conflict {
            stream_id, actual, ..
        } => format!(
            "the plan {stream_id} has {actual} records now, you expected it not to exist; it was created since it was read"
        ),
        StoreError::Backend(b)
            if matches!(
                b.downcast_ref::<redb::Error>(),
                Some(redb::Error::DatabaseAlreadyOpen)
            ) =>
        {
            "another planledger process is writing; retry (the embedded ledger is open in another process)"
                .to_owned()
        }
        StoreError::Backend(b) => match b.downcast_ref::<planledger_store_redb::OpenError>() {
            Some(read_only @ planledger_store_redb::OpenError::ReadOnly { .. }) => {
                read_only.to_string()
            }
            _ => e.to_string(),
        },
        e => e.to_string(),
    }
}

/// The kind of a store error.
pub fn store_kind(e: &StoreError) -> Kind {
    match e {
        StoreError::Conflict { .. } | StoreError::AlreadyRecorded { .. } => Kind::Conflict,
        StoreError::NotFound { .. } => Kind::NotFound,
        StoreError::Corrupt { .. } => Kind::Verification,
        StoreError::NotContinuing { .. } | StoreError::EmptyBatch | StoreError::Format(_) => {
            Kind::BadInput
        }
        _ => Kind::Storage,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
