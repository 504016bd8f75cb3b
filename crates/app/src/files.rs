//! Files: written atomically and never overwritten (keys, checkpoints, evidence
//! bundles), and read with a limit (a file that is a symlink to `/dev/zero` must not be
//! read until memory runs out).

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Kind, Result};

/// Writes `text` to a new file at `path`, atomically and durably: into a temporary file
/// in the same directory (mode 0600 when `private`: a secret key, a bundle with personal
/// data), fsynced, then linked to `path` (which fails if `path` exists, so nothing is
/// ever overwritten, even by a concurrent writer), the temporary name removed and the
/// directory fsynced. On any failure (a full disk) nothing is left behind: `path` either
/// holds the whole text or does not exist.
pub fn write_new(path: &Path, text: &str, private: bool) -> Result<()> {
    write_new_bytes(path, text.as_bytes(), private)
}

/// [`write_new`] for bytes that need not be text (a PDF).
pub fn write_new_bytes(path: &Path, text: &[u8], private: bool) -> Result<()> {
    let exists = || {
        Error::new(
            Kind::BadInput,
            format!("{} already exists; it is never overwritten", path.display()),
        )
    };
    if path.symlink_metadata().is_ok() {
        return Err(exists());
    }
    let (dir, temp) = written_beside(path, text, private)?;
    let linked = std::fs::hard_link(&temp, path);
    // The temporary name goes whether the link worked or not.
    let _ = std::fs::remove_file(&temp);
    match linked {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
        Err(e) => return Err(Error::io(format!("cannot write {}", path.display()), e)),
        Ok(()) => {}
    }
    sync_dir(&dir)
}

/// Writes `text` to `path`, replacing what stands there atomically and durably: into a
/// temporary file in the same directory (mode 0600 when `private`), fsynced, renamed
/// over `path`, and the directory fsynced. A reader sees the old text or the whole new
/// one, never a mix; on any failure the old text stays. Only for the files that are
/// rewritten by design: a witness's state and a checkpoint that gains cosignatures.
pub fn replace(path: &Path, text: &str, private: bool) -> Result<()> {
    let (dir, temp) = written_beside(path, text.as_bytes(), private)?;
    if let Err(e) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::io(format!("cannot write {}", path.display()), e));
    }
    sync_dir(&dir)
}

/// `text` in a new temporary file beside `path` (mode 0600 when `private`), fsynced:
/// its directory and name. Hidden, and unique to this process and instant, so that two
/// writers never share one; a leftover from a killed process has no `.checkpoint` ending
/// and is ignored. On failure nothing is left behind.
fn written_beside(path: &Path, text: &[u8], private: bool) -> Result<(PathBuf, PathBuf)> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::new(Kind::BadInput, format!("{} names no file", path.display())))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!(
        ".{}.{}-{nanos}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let cannot = |e| Error::io(format!("cannot write {}", path.display()), e);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    if private {
        opts.mode(0o600);
    }
    let mut f = opts.open(&temp).map_err(cannot)?;
    let written = f.write_all(text).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(cannot(e));
    }
    Ok((dir, temp))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("cannot sync the directory {}", dir.display()), e))
}

/// An exclusive lock on the file `path` (created if missing), held until the returned
/// file is dropped: what makes a read, a check and a [`replace`] one step against
/// another process doing the same (`flock`, released by the kernel when a process dies).
pub fn lock(path: &Path) -> Result<File> {
    let cannot = |e| Error::io(format!("cannot lock {}", path.display()), e);
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(cannot)?;
    rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| cannot(std::io::Error::from(e)))?;
    Ok(f)
}

/// Reads at most `limit` bytes of a file; a longer one is refused naming the limit and
/// `flag` (the option that sets it) with `kind`. Never reads more than `limit` + 1 bytes.
pub fn read_limited(
    path: &Path,
    what: &str,
    limit: u64,
    flag: &str,
    kind: Kind,
) -> Result<Vec<u8>> {
    let cannot = |e| Error::io(format!("cannot read {what} {}", path.display()), e);
    let f = File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    f.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(Error::new(
            kind,
            format!(
                "{what} {} is longer than the limit of {limit} bytes ({flag})",
                path.display()
            ),
        ));
    }
    Ok(bytes)
}

/// Reads a text file of at most `limit` bytes (see [`read_limited`]); a file that is
/// not UTF-8 is bad input, named.
pub fn read_text_limited(path: &Path, what: &str, limit: u64, flag: &str) -> Result<String> {
    let bytes = read_limited(path, what, limit, flag, Kind::BadInput)?;
    String::from_utf8(bytes).map_err(|e| {
        Error::new(
            Kind::BadInput,
            format!(
                "{what} {} is not UTF-8 text (invalid byte at offset {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ),
        )
    })
}
