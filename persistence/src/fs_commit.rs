//! Atomic create-only writes on a local filesystem (SNAPSHOTS rule 10).
//!
//! opendal's fs service creates files exclusively but not atomically: a crash halfway leaves a
//! half-written file under the final name, which for a MANIFEST would be a torn commit. Here the
//! bytes go to a uniquely named temporary beside the target, are fsynced, and are then
//! hard-linked to the final name. `link` fails if the name exists, so exactly one racer wins, and
//! the name only ever points at complete bytes.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::keys::Key;

/// Whether a create-only write took the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Created {
    /// The name was free and now holds the bytes.
    Won,
    /// The name was already taken; nothing was changed.
    Lost,
}

/// Creates `root/key` holding `bytes` if no file has that name, atomically and durably.
pub(crate) fn create_atomic(root: &Path, key: &str, bytes: &[u8]) -> Result<Created> {
    let target = root.join(key);
    let dir = target
        .parent()
        .ok_or_else(|| Error::Internal(format!("key {key:?} has no parent folder")))?
        .to_path_buf();
    create_dir_durably(root, &dir)?;
    let temp_key = Key::Temp {
        target: Box::new(Key::parse(key)?),
        id: Uuid::new_v4(),
    };
    let temp = root.join(temp_key.to_string());
    let outcome = write_and_link(&temp, &target, bytes);
    // The temporary is only a second name for the same bytes, or a failed attempt. Failing to
    // remove it must not turn a commit into an error: GC removes stale temporaries.
    match fs::remove_file(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(path = %temp.display(), error = %e, "cannot remove commit temporary")
        }
    }
    outcome
}

fn write_and_link(temp: &Path, target: &Path, bytes: &[u8]) -> Result<Created> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(io("create", temp))?;
    file.write_all(bytes).map_err(io("write", temp))?;
    file.sync_all().map_err(io("fsync", temp))?;
    drop(file);
    let dir = target
        .parent()
        .expect("target has a parent, checked by caller");
    sync_dir(dir)?;
    match fs::hard_link(temp, target) {
        Ok(()) => {
            // The new name is durable once its folder is.
            sync_dir(dir)?;
            Ok(Created::Won)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(Created::Lost),
        Err(e) => Err(io("link", target)(e)),
    }
}

/// Creates `dir` and its missing parents below `root`, fsyncing each parent whose entries change,
/// so the folder survives a crash together with what is committed in it.
fn create_dir_durably(root: &Path, dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut at = dir;
    while !at.is_dir() && at != root {
        missing.push(at.to_path_buf());
        at = at.parent().expect("dir is below root");
    }
    for new in missing.into_iter().rev() {
        match fs::create_dir(&new) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io("mkdir", &new)(e)),
        }
        sync_dir(new.parent().expect("below root"))?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("fsync", dir))
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path: PathBuf = path.to_path_buf();
    move |source| Error::Io { op, path, source }
}
