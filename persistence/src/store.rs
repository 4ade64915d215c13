//! The store: opening a URL, create-only writes, verified reads, the atomic manifest commit.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use opendal::services::{Fs, Memory, S3};
use opendal::{Capability, ErrorKind, Operator};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::cache::ObjectCache;
use crate::clock::{Clock, SystemClock};
use crate::error::{CorruptReason, Error, Result};
use crate::format::{decode_kind, encode_object, parse_envelope, Envelope, ObjectKind};
use crate::fs_commit::{create_atomic, Created};
use crate::fs_read::{list_files, list_folders, read_file, ListedFile};
use crate::keys::{
    generation_key, manifest_key, parse_epoch_folder, Key, ShardObjectKey, COORD_DIR, EPOCHS_DIR,
};
use crate::location::Location;
use crate::manifest::{Manifest, ObjectRef};

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Open a backend that cannot create objects only-if-absent. Two racing coordinators could
    /// then both commit the same epoch; only for backends you know are used by one writer.
    pub allow_non_atomic_create: bool,
    /// Bytes of verified shard objects kept in memory for repeated reads; zero disables the
    /// cache.
    pub cache_capacity_bytes: u64,
    /// Where "now" comes from (object ages for GC, generation claim stamps).
    pub clock: Arc<dyn Clock>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            allow_non_atomic_create: false,
            cache_capacity_bytes: 64 * 1024 * 1024,
            clock: Arc::new(SystemClock),
        }
    }
}

/// The result of a create-only commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// This writer created the object; it is the commit.
    Committed,
    /// Another writer created it first; nothing was changed. A coordinator steps down on this
    /// (SNAPSHOTS rule 29).
    LostRace,
}

/// A handle on a snapshot store. Cheap to clone; clones share the connection and the cache.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) url: String,
    pub(crate) op: Operator,
    /// The folder of an fs store, where commits are made atomic by hard links.
    pub(crate) fs_root: Option<PathBuf>,
    /// Whether the backend creates objects only-if-absent.
    pub(crate) atomic_create: bool,
    pub(crate) cache: ObjectCache,
    pub(crate) clock: Arc<dyn Clock>,
    /// When this process first saw each object, for backends that report no modification time.
    pub(crate) first_seen: Mutex<HashMap<String, SystemTime>>,
}

/// The body of a generation claim object.
#[derive(Debug, Serialize, Deserialize)]
struct GenerationClaim {
    generation: u64,
    claimed_at_unix_ms: u64,
}

impl Store {
    /// Opens the store at `url`: `fs://PATH` (created if missing), `memory://`, or
    /// `s3://BUCKET/PREFIX?endpoint=URL&region=R` with credentials from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`.
    pub fn open(url: &str, options: StoreOptions) -> Result<Self> {
        let location = Location::parse(url)?;
        let built = |result: opendal::Result<Operator>| {
            result.map_err(|source| match source.kind() {
                ErrorKind::ConfigInvalid => Error::InvalidUrl {
                    url: url.to_owned(),
                    reason: source.to_string(),
                },
                _ => Error::Storage {
                    op: "open",
                    key: url.to_owned(),
                    source: Box::new(source),
                },
            })
        };
        let (op, fs_root) = match location {
            Location::Fs { path } => {
                let root = prepare_fs_root(url, &path)?;
                let root_str = root.to_str().ok_or_else(|| Error::InvalidUrl {
                    url: url.to_owned(),
                    reason: format!("{} is not valid UTF-8", root.display()),
                })?;
                (
                    built(Operator::new(Fs::default().root(root_str)))?,
                    Some(root),
                )
            }
            Location::Memory => (built(Operator::new(Memory::default()))?, None),
            Location::S3 {
                bucket,
                prefix,
                endpoint,
                region,
            } => {
                // Registers the reqwest HTTP transport; idempotent, first install wins.
                opendal::install_default();
                let mut builder = S3::default().bucket(&bucket).root(&format!("/{prefix}"));
                if let Some(endpoint) = &endpoint {
                    builder = builder.endpoint(endpoint);
                }
                if let Some(region) = &region {
                    builder = builder.region(region);
                }
                (built(Operator::new(builder))?, None)
            }
        };
        let atomic_create =
            check_atomic_create(url, op.info().capability(), options.allow_non_atomic_create)?;
        Ok(Self {
            inner: Arc::new(Inner {
                url: url.to_owned(),
                op,
                fs_root,
                atomic_create,
                cache: ObjectCache::new(options.cache_capacity_bytes),
                clock: options.clock,
                first_seen: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The URL the store was opened with.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Stores an encoded shard object (see [`encode_object`](crate::encode_object)) under `key`,
    /// create-only, and returns the reference a manifest records. The envelope is checked first,
    /// and its kind must match the key's.
    pub async fn put_object(
        &self,
        key: &ShardObjectKey,
        bytes: impl Into<Bytes>,
    ) -> Result<ObjectRef> {
        let bytes = bytes.into();
        let path = key.to_string();
        let envelope = checked_envelope(&path, &bytes, key)?;
        let reference = ObjectRef {
            key: key.clone(),
            len: bytes.len() as u64,
            crc32c: envelope.crc32c,
        };
        // Shard objects need no atomic create: a torn one is never referenced by a manifest, whose
        // length and checksum would not match it anyway.
        match self.create_only(&path, bytes, false).await? {
            Created::Won => Ok(reference),
            Created::Lost => Err(Error::AlreadyExists { key: path }),
        }
    }

    /// Reads a shard object, verifying its envelope and checksum, through the local cache.
    pub async fn read_object(&self, key: &ShardObjectKey) -> Result<Bytes> {
        let path = key.to_string();
        if let Some(bytes) = self.inner.cache.get(&path) {
            return Ok(bytes);
        }
        let bytes = self.read_raw(&path).await?;
        checked_envelope(&path, &bytes, key)?;
        self.inner.cache.insert(&path, bytes.clone());
        Ok(bytes)
    }

    /// Commits `manifest` (or an ABORTED tombstone) as `epochs/<E>/MANIFEST`, create-only and
    /// atomically: the manifest is either absent or complete. Write every object it references
    /// first. An `Err` leaves the outcome unknown: read the manifest back to learn it.
    pub async fn commit_manifest(&self, manifest: &Manifest) -> Result<CommitOutcome> {
        manifest.validate()?;
        let bytes = Bytes::from(manifest.encode()?);
        let outcome = self
            .create_only(&manifest_key(manifest.epoch), bytes, true)
            .await?;
        Ok(outcome.into())
    }

    /// Claims coordinator generation `generation` with a create-only `coord/gen-<g>` object
    /// (SNAPSHOTS rule 29).
    pub async fn claim_generation(&self, generation: u64) -> Result<CommitOutcome> {
        let claimed_at_unix_ms = self
            .inner
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis() as u64;
        let claim = GenerationClaim {
            generation,
            claimed_at_unix_ms,
        };
        let bytes = encode_object(ObjectKind::GenerationClaim, &[], &claim)?;
        let outcome = self
            .create_only(&generation_key(generation), bytes.into(), true)
            .await?;
        Ok(outcome.into())
    }

    /// The highest claimed generation, if any; its claim object must be intact.
    pub async fn highest_generation(&self) -> Result<Option<u64>> {
        let entries = self
            .inner
            .op
            .list(COORD_DIR)
            .await
            .map_err(|e| Error::storage("list", COORD_DIR, e))?;
        let highest = entries
            .iter()
            .filter_map(|entry| match Key::parse(entry.path()) {
                Ok(Key::Generation { generation }) => Some(generation),
                _ => None,
            })
            .max();
        let Some(generation) = highest else {
            return Ok(None);
        };
        let key = generation_key(generation);
        let bytes = self.read_raw(&key).await?;
        let claim: GenerationClaim = decode_kind(&key, &bytes, ObjectKind::GenerationClaim)?;
        if claim.generation != generation {
            return Err(Error::corrupt(
                key,
                CorruptReason::Inconsistent(format!("claims generation {}", claim.generation)),
            ));
        }
        Ok(Some(generation))
    }

    /// The manifest (or tombstone) of `epoch`, or `None` if it has none. A damaged manifest is a
    /// typed error.
    pub async fn read_manifest(&self, epoch: u64) -> Result<Option<Manifest>> {
        match self.read_raw(&manifest_key(epoch)).await {
            Ok(bytes) => Manifest::decode(epoch, &bytes).map(Some),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The epochs that have a folder, ascending (committed or not).
    pub(crate) async fn epoch_folders(&self) -> Result<Vec<u64>> {
        let mut epochs: Vec<u64> = if let Some(root) = &self.inner.fs_root {
            list_folders(root, EPOCHS_DIR)
                .await?
                .iter()
                .filter_map(|name| parse_epoch_folder(name))
                .collect()
        } else {
            self.inner
                .op
                .list(EPOCHS_DIR)
                .await
                .map_err(|e| Error::storage("list", EPOCHS_DIR, e))?
                .iter()
                .filter_map(|entry| {
                    entry
                        .path()
                        .strip_prefix(EPOCHS_DIR)
                        .and_then(parse_epoch_folder)
                })
                .collect()
        };
        epochs.sort_unstable();
        epochs.dedup();
        Ok(epochs)
    }

    /// Every file below `prefix`, recursively, sorted, with its modification time where the
    /// listing gives one.
    pub(crate) async fn list_entries(&self, prefix: &str) -> Result<Vec<ListedFile>> {
        let mut files = if let Some(root) = &self.inner.fs_root {
            list_files(root, prefix).await?
        } else {
            self.inner
                .op
                .list_with(prefix)
                .recursive(true)
                .await
                .map_err(|e| Error::storage("list", prefix, e))?
                .into_iter()
                .filter(|entry| entry.metadata().is_file())
                .map(|entry| {
                    let (path, metadata) = entry.into_parts();
                    (path, metadata.last_modified().map(SystemTime::from))
                })
                .collect()
        };
        files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(files)
    }

    /// Reads bytes as stored, bypassing the cache. On fs, in a buffer of exactly their size (see
    /// `fs_read`).
    pub(crate) async fn read_raw(&self, key: &str) -> Result<Bytes> {
        if let Some(root) = &self.inner.fs_root {
            return read_file(root, key).await;
        }
        let buffer = self
            .inner
            .op
            .read(key)
            .await
            .map_err(|e| Error::storage("read", key, e))?;
        Ok(buffer.to_bytes())
    }

    pub(crate) async fn create_only(
        &self,
        key: &str,
        bytes: Bytes,
        atomic: bool,
    ) -> Result<Created> {
        if let (true, Some(root)) = (atomic, &self.inner.fs_root) {
            let root = root.clone();
            let key = key.to_owned();
            return tokio::task::spawn_blocking(move || create_atomic(&root, &key, &bytes))
                .await
                .map_err(|e| Error::Internal(format!("fs commit task failed: {e}")))?;
        }
        let op = &self.inner.op;
        if !self.inner.atomic_create {
            // Only reachable with allow_non_atomic_create: a racing writer can slip in between.
            if op
                .exists(key)
                .await
                .map_err(|e| Error::storage("stat", key, e))?
            {
                return Ok(Created::Lost);
            }
            op.write(key, bytes)
                .await
                .map_err(|e| Error::storage("write", key, e))?;
            return Ok(Created::Won);
        }
        match op.write_with(key, bytes).if_not_exists(true).await {
            Ok(_) => Ok(Created::Won),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConditionNotMatch | ErrorKind::AlreadyExists
                ) =>
            {
                Ok(Created::Lost)
            }
            Err(e) => Err(Error::storage("write", key, e)),
        }
    }
}

impl From<Created> for CommitOutcome {
    fn from(created: Created) -> Self {
        match created {
            Created::Won => Self::Committed,
            Created::Lost => Self::LostRace,
        }
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.inner.url)
            .field("atomic_create", &self.inner.atomic_create)
            .finish_non_exhaustive()
    }
}

/// Creates the store's folder if missing and returns its absolute, canonical path.
fn prepare_fs_root(url: &str, path: &Path) -> Result<PathBuf> {
    let io = |op: &'static str| {
        move |source| Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    };
    std::fs::create_dir_all(path).map_err(io("mkdir"))?;
    let root = path.canonicalize().map_err(io("canonicalize"))?;
    if !root.is_dir() {
        return Err(Error::InvalidUrl {
            url: url.to_owned(),
            reason: format!("{} is not a folder", root.display()),
        });
    }
    Ok(root)
}

/// SNAPSHOTS rule 11: refuse a backend without create-only writes unless told to accept it.
/// Returns whether creates are atomic.
fn check_atomic_create(url: &str, capability: Capability, allow_non_atomic: bool) -> Result<bool> {
    if capability.write_with_if_not_exists {
        return Ok(true);
    }
    if !allow_non_atomic {
        return Err(Error::NoAtomicCreate {
            url: url.to_owned(),
        });
    }
    tracing::warn!(
        url,
        "store cannot create objects only-if-absent; racing coordinators could both commit an epoch"
    );
    Ok(false)
}

/// Parses an object's envelope (checksum included) and checks that its kind
/// is the one its key names.
fn checked_envelope<'a>(path: &str, bytes: &'a [u8], key: &ShardObjectKey) -> Result<Envelope<'a>> {
    let envelope = parse_envelope(path, bytes)?;
    let expected = key.kind.object_kind();
    if envelope.kind != expected {
        return Err(Error::corrupt(
            path.to_owned(),
            CorruptReason::WrongKind {
                expected,
                found: envelope.kind,
            },
        ));
    }
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend without create-only writes is refused unless explicitly allowed.
    #[test]
    fn non_atomic_backends_need_consent() {
        let none = Capability::default();
        assert!(matches!(
            check_atomic_create("x://", none, false),
            Err(Error::NoAtomicCreate { .. })
        ));
        assert!(!check_atomic_create("x://", none, true).unwrap());
        let atomic = Capability {
            write_with_if_not_exists: true,
            ..Capability::default()
        };
        assert!(check_atomic_create("x://", atomic, false).unwrap());
    }

    /// The three supported backends all create atomically.
    #[tokio::test]
    async fn supported_backends_are_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let fs = Store::open(
            &format!("fs://{}", dir.path().display()),
            StoreOptions::default(),
        )
        .unwrap();
        assert!(fs.inner.atomic_create);
        let memory = Store::open("memory://", StoreOptions::default()).unwrap();
        assert!(memory.inner.atomic_create);
    }
}
