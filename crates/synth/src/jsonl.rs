//! The commands as JSON Lines, in the import format the CLI reads: one object per
//! line, the actor and time first, then the command's own fields (tagged by
//! `"command"`).

use std::io::{BufWriter, Write};

use chrono::{DateTime, Utc};
use planledger_plan::{Actor, Command, ImportLine};

use crate::config::{ConfigError, Organisation};

/// One command as a line of the import format, [`ImportLine`] (the type the CLI reads):
/// `{"actor":{"user":"u-1","role":"key_worker"},"at":"2026-03-02T09:00:00Z","command":"sign",…}`.
pub fn import_line(at: DateTime<Utc>, actor: Actor, command: Command) -> ImportLine {
    ImportLine {
        id: None,
        actor,
        at: Some(at),
        expect_version: None,
        command,
    }
}

/// Why the JSON Lines could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("writing line {line} failed")]
    Io {
        line: u64,
        #[source]
        source: std::io::Error,
    },
}

/// Writes every command of `org` to `out` as JSON Lines; returns the number of lines.
/// `out` is buffered here, so a bare `File` is fine.
pub fn write_json_lines<W: Write>(org: &Organisation, out: W) -> Result<u64, WriteError> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let mut line = 0u64;
    for (at, actor, command) in org.commands()? {
        line += 1;
        let io = |source| WriteError::Io { line, source };
        serde_json::to_writer(&mut out, &import_line(at, actor, command))
            .map_err(|e| io(std::io::Error::from(e)))?;
        out.write_all(b"\n").map_err(io)?;
    }
    out.flush()
        .map_err(|source| WriteError::Io { line, source })?;
    Ok(line)
}
