//! Writing files that are never overwritten: keys, checkpoints, evidence bundles.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, Kind, Result};

/// Writes `text` to a new file at `path`, durably (fsync) before returning; readable by
/// its owner only when `private` (a secret key, a bundle with personal data). An
/// existing file is refused and left as it is.
pub fn write_new(path: &Path, text: &str, private: bool) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    if private {
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::new(
                Kind::BadInput,
                format!("{} already exists; it is never overwritten", path.display()),
            )
        } else {
            Error::io(format!("cannot create {}", path.display()), e)
        }
    })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// Reads a whole text file; the error names it.
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {what} {}", path.display()), e))
}
