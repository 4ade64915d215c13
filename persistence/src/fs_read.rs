//! Reads and listings of the fs backend, straight from the file system.
//!
//! opendal's fs reader does not know an object's size when it starts reading: each read takes a
//! 2 MiB buffer, zeroes it, reads the object into it, and hands back a slice that keeps the whole
//! buffer alive. A manifest read then costs a 2 MiB `memset`, and every shard object held in the
//! object cache pins 2 MiB while the cache counts its few kilobytes — after recovery of a long
//! delta chain that was gigabytes of resident memory. `std::fs::read` sizes its buffer from the
//! file's length.
//!
//! opendal's recursive fs listing hops to tokio's blocking pool for every entry's metadata: a GC
//! pass over a few hundred epoch folders of 64 objects each was tens of thousands of thread
//! hand-offs. Here a whole listing is one blocking task.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;

use crate::error::{Error, Result};

/// The bytes stored under `key` below `root`, in a buffer of exactly their length.
pub(crate) async fn read_file(root: &Path, key: &str) -> Result<Bytes> {
    let path: PathBuf = root.join(key);
    let owned_key = key.to_owned();
    tokio::task::spawn_blocking(move || match std::fs::read(&path) {
        Ok(bytes) => Ok(Bytes::from(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::NotFound { key: owned_key }),
        Err(source) => Err(io_error("read", path, source)),
    })
    .await
    .map_err(|e| Error::Internal(format!("fs read task failed: {e}")))?
}

/// A file found by a listing: its key, and when it was last modified if the system says.
pub(crate) type ListedFile = (String, Option<SystemTime>);

/// Every file below `root/prefix`, recursively, keyed relative to `root` with `/` separators, in
/// no particular order. `prefix` names a folder (`epochs/`); a missing one lists nothing. Entries
/// that vanish while the listing runs (a concurrent GC) are left out.
pub(crate) async fn list_files(root: &Path, prefix: &str) -> Result<Vec<ListedFile>> {
    let root = root.to_path_buf();
    let prefix = prefix.trim_end_matches('/').to_owned();
    tokio::task::spawn_blocking(move || {
        let mut files = Vec::new();
        walk(&root.join(&prefix), &prefix, &mut files)?;
        Ok(files)
    })
    .await
    .map_err(|e| Error::Internal(format!("fs list task failed: {e}")))?
}

/// The names of the folders directly in `root/prefix`, in no particular order; a missing folder
/// lists nothing.
pub(crate) async fn list_folders(root: &Path, prefix: &str) -> Result<Vec<String>> {
    let dir = root.join(prefix.trim_end_matches('/'));
    tokio::task::spawn_blocking(move || {
        let mut folders = Vec::new();
        for entry in read_dir(&dir)? {
            let is_dir = match entry.file_type() {
                Ok(file_type) => file_type.is_dir(),
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(source) => return Err(io_error("stat", entry.path(), source)),
            };
            if let (true, Some(name)) = (is_dir, entry.file_name().to_str()) {
                folders.push(name.to_owned());
            }
        }
        Ok(folders)
    })
    .await
    .map_err(|e| Error::Internal(format!("fs list task failed: {e}")))?
}

fn walk(dir: &Path, key: &str, files: &mut Vec<ListedFile>) -> Result<()> {
    for entry in read_dir(dir)? {
        // Keys are UTF-8; a name that is not is no key of the layout, as opendal would
        // report it lossily.
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let child = format!("{key}/{name}");
        let metadata = match entry.metadata() {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(source) => return Err(io_error("stat", entry.path(), source)),
        };
        if metadata.is_dir() {
            walk(&entry.path(), &child, files)?;
        } else if metadata.is_file() {
            files.push((child, metadata.modified().ok()));
        }
    }
    Ok(())
}

/// The entries of `dir`; none if it does not exist (any more).
fn read_dir(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(io_error("list", dir.to_path_buf(), source)),
    };
    let mut listed = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => listed.push(entry),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(source) => return Err(io_error("list", dir.to_path_buf(), source)),
        }
    }
    Ok(listed)
}

fn io_error(op: &'static str, path: PathBuf, source: std::io::Error) -> Error {
    Error::Io { op, path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read gives the file's bytes, and a missing key is `NotFound`, as from opendal.
    #[tokio::test]
    async fn reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("epochs/1")).unwrap();
        std::fs::write(dir.path().join("epochs/1/x"), b"abc").unwrap();
        let bytes = read_file(dir.path(), "epochs/1/x").await.unwrap();
        assert_eq!(&bytes[..], b"abc");
        assert!(matches!(
            read_file(dir.path(), "epochs/1/missing").await,
            Err(Error::NotFound { key }) if key == "epochs/1/missing"
        ));
    }

    /// A listing finds every file below the prefix, with its modification time, and no folder;
    /// the folder listing finds the folders only; a missing prefix lists nothing.
    #[tokio::test]
    async fn lists_files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["epochs/1", "epochs/2/deep", "coord"] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        }
        for file in ["epochs/1/a", "epochs/2/deep/b", "epochs/top", "coord/gen-1"] {
            std::fs::write(dir.path().join(file), b"x").unwrap();
        }
        let mut files = list_files(dir.path(), "epochs/").await.unwrap();
        files.sort();
        let keys: Vec<_> = files.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["epochs/1/a", "epochs/2/deep/b", "epochs/top"]);
        assert!(files.iter().all(|(_, modified)| modified.is_some()));
        let mut folders = list_folders(dir.path(), "epochs/").await.unwrap();
        folders.sort();
        assert_eq!(folders, ["1", "2"]);
        assert!(list_files(dir.path(), "app/").await.unwrap().is_empty());
        assert!(list_folders(dir.path(), "app/").await.unwrap().is_empty());
    }
}
