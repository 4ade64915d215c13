//! The crate's error type, named in the store's own words.

use std::fmt;
use std::path::PathBuf;

use crate::format::ObjectKind;

/// What can go wrong when opening, reading or writing a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store URL could not be understood; `reason` names the offending part.
    #[error("invalid store URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The backend cannot create an object only if it is absent, so two coordinators could both
    /// believe they committed the same epoch (SNAPSHOTS rule 11).
    #[error(
        "store {url} cannot create objects only-if-absent (no write_with_if_not_exists); \
         manifests could be overwritten by a racing writer. \
         Use a backend that supports it, or set allow_non_atomic_create to accept the risk"
    )]
    NoAtomicCreate {
        /// The URL of the store.
        url: String,
    },
    /// The stored bytes are damaged or are not a Cairn object.
    #[error("object {key} is corrupt: {reason}")]
    Corrupt {
        /// The object's key.
        key: String,
        /// What is damaged.
        reason: CorruptReason,
    },
    /// The object was written by a newer (or unknown) version of the format.
    #[error("object {key} has format version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        /// The object's key.
        key: String,
        /// The version found in the object.
        found: u16,
        /// The version this build reads and writes.
        supported: u16,
    },
    /// No object is stored under the key.
    #[error("object {key} not found")]
    NotFound {
        /// The missing key.
        key: String,
    },
    /// A create-only write found the key already taken. Shard objects have unique names, so for
    /// them this means a name was reused.
    #[error("object {key} already exists (create-only write refused)")]
    AlreadyExists {
        /// The key that was taken.
        key: String,
    },
    /// A key does not follow the layout of SNAPSHOTS §3.4.
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A manifest contradicts itself and was refused before it was written.
    #[error("invalid manifest for epoch {epoch}: {reason}")]
    InvalidManifest {
        /// The manifest's epoch.
        epoch: u64,
        /// What is inconsistent.
        reason: String,
    },
    /// Parameters pinned in the store differ from the ones given.
    #[error("the store was started with {name} {stored}; refusing to run with {given}")]
    ParametersMismatch {
        /// The parameters' name.
        name: String,
        /// The stored parameters, as debug text.
        stored: String,
        /// The parameters given, as debug text.
        given: String,
    },
    /// An argument is out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An object body could not be serialized.
    #[error("cannot encode object body")]
    Encode(#[from] rmp_serde::encode::Error),
    /// The storage backend refused or failed an operation.
    #[error("storage operation {op} on {key:?} failed")]
    Storage {
        /// The operation (`read`, `write`, `list`, …).
        op: &'static str,
        /// The key or prefix it was applied to.
        key: String,
        /// The backend's error (boxed: it is large, and errors travel by value).
        #[source]
        source: Box<opendal::Error>,
    },
    /// A local filesystem call of the atomic fs commit failed.
    #[error("filesystem operation {op} on {} failed", path.display())]
    Io {
        /// The operation (`create`, `fsync`, `link`, …).
        op: &'static str,
        /// The path it was applied to.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An internal invariant broke.
    #[error("internal error, this is a bug: {0}")]
    Internal(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the bytes of an object are not a valid Cairn object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptReason {
    /// The object does not start with the Cairn magic bytes.
    BadMagic,
    /// The object is shorter than its header says: a torn or cut write.
    Truncated {
        /// The length the object should have.
        expected: u64,
        /// The length found.
        actual: u64,
    },
    /// The object is longer than its header says.
    TrailingBytes {
        /// The length the object should have.
        expected: u64,
        /// The length found.
        actual: u64,
    },
    /// The CRC32C does not match the content: bytes were changed.
    ChecksumMismatch {
        /// The checksum the object (or the manifest referencing it) carries.
        expected: u32,
        /// The checksum of the bytes found.
        actual: u32,
    },
    /// The header is malformed (unknown kind tag, bad UTF-8, lengths out of range).
    BadHeader(String),
    /// The object is of another kind than the one asked for.
    WrongKind {
        /// The kind asked for.
        expected: ObjectKind,
        /// The kind found.
        found: ObjectKind,
    },
    /// The body could not be deserialized into the requested type.
    Undecodable(String),
    /// The object is intact but contradicts where it is stored (e.g. a manifest for another
    /// epoch), or contradicts itself.
    Inconsistent(String),
}

impl fmt::Display for CorruptReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic => f.write_str("not a Cairn object (bad magic bytes)"),
            Self::Truncated { expected, actual } => {
                write!(f, "truncated: {actual} of {expected} bytes")
            }
            Self::TrailingBytes { expected, actual } => {
                write!(f, "{actual} bytes where the header says {expected}")
            }
            Self::ChecksumMismatch { expected, actual } => {
                write!(
                    f,
                    "checksum mismatch: expected {expected:#010x}, found {actual:#010x}"
                )
            }
            Self::BadHeader(why) => write!(f, "malformed header: {why}"),
            Self::WrongKind { expected, found } => {
                write!(
                    f,
                    "expected a {expected:?} object, found a {found:?} object"
                )
            }
            Self::Undecodable(why) => write!(f, "body does not decode: {why}"),
            Self::Inconsistent(why) => write!(f, "inconsistent: {why}"),
        }
    }
}

impl Error {
    pub(crate) fn storage(
        op: &'static str,
        key: impl Into<String>,
        source: opendal::Error,
    ) -> Self {
        match source.kind() {
            opendal::ErrorKind::NotFound => Self::NotFound { key: key.into() },
            _ => Self::Storage {
                op,
                key: key.into(),
                source: Box::new(source),
            },
        }
    }

    pub(crate) fn corrupt(key: impl Into<String>, reason: CorruptReason) -> Self {
        Self::Corrupt {
            key: key.into(),
            reason,
        }
    }
}
