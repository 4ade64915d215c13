//! Where Cairn snapshots live and what they look like. Knows nothing of actors: it stores
//! opaque, checksummed objects and the manifests that reference them, and decides which epochs
//! are committed (SNAPSHOTS §3.4).
//!
//! A [`Store`] is opened from a URL (`fs://PATH`, `memory://`, `s3://BUCKET/PREFIX?…`). Shards
//! write their objects under unique keys with [`Store::put_object`]; the coordinator then writes
//! the epoch's [`Manifest`] with [`Store::commit_manifest`], create-only and atomically: the
//! manifest is the commit point. Recovery reads [`Store::latest_committed`]; [`Store::verify`]
//! checks committed epochs offline and [`Store::gc`] drops old ones.
//!
//! # Layout
//! - `error` — [`Error`], [`CorruptReason`] and the [`Result`] alias.
//! - `format` — the object envelope: magic, version, length, kind, type list, rmp-serde body,
//!   CRC32C ([`encode_object`], [`decode_object`], [`parse_envelope`]).
//! - `keys` — typed keys of the layout `epochs/<E>/…` and `coord/gen-<g>` ([`Key`],
//!   [`ShardObjectKey`]).
//! - `manifest` — [`Manifest`], [`ShardEntry`], [`ObjectRef`].
//! - `location` — parsing of store URLs ([`check_url`]).
//! - `store` — [`Store`]: opening, create-only writes, verified reads, commits, claims.
//! - `fs_commit` — the atomic create of the fs backend (temporary, fsync, hard link).
//! - `fs_read` — reads of the fs backend in buffers of the objects' own size.
//! - `history` — which epochs are committed, aborted, fenced or torn ([`ManifestStatus`]).
//! - `verify` — [`VerifyReport`]: damage to committed epochs and uncommitted leftovers.
//! - `gc` — [`GcPolicy`], [`GcReport`].
//! - `cache` — the bounded cache of verified objects.
//! - `clock` — [`Clock`], so tests control the time GC ages objects by.
//!
//! # Decisions
//! - **Committed** means: the MANIFEST exists, passes its checksum, decodes, is not an ABORTED
//!   tombstone, *and* is not fenced — its generation is not below that of a valid manifest or
//!   tombstone at a lower epoch (SNAPSHOTS rule 29). A MANIFEST of an unknown future format
//!   version is an error, not "uncommitted": it may be a real commit.
//! - **fs commits** (manifests, generation claims) go through a temporary, `fsync`, a hard link
//!   and an `fsync` of the folder. Shard objects use opendal's exclusive create: a torn object is
//!   harmless, since no manifest references it (its length and checksum would not match).
//! - **No retry layer**: a retried conditional PUT whose first attempt landed would report a lost
//!   race. An `Err` from a commit means "outcome unknown": read the manifest back.
//! - **GC** deletes manifests only below the oldest kept commit, which keeps the rule 29 fence
//!   stable, and never touches folders above the newest MANIFEST (the open epoch), whatever
//!   their age. Where the backend keeps no modification time (memory), an object's age counts
//!   from the first GC pass that saw it.
//! - **fs reads** bypass opendal, whose fs reader zeroes a 2 MiB buffer per read and hands back
//!   a slice that keeps all of it alive (a cached 3 KB object pinned 2 MiB).
//! - **The next epoch number** needs only the highest folder holding a MANIFEST of any kind, so
//!   [`Store::next_epoch`] lists the folders and checks for a MANIFEST from the top down instead
//!   of reading and decoding every manifest; coordinators count epochs themselves and ask the
//!   store only when they may be behind it.
//! - Manifests are read from storage every time (they are small, and GC deletes them); only shard
//!   objects go through the cache.

mod cache;
mod clock;
mod error;
mod format;
mod fs_commit;
mod fs_read;
mod gc;
mod history;
mod keys;
mod location;
mod manifest;
mod parameters;
mod store;
mod verify;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{CorruptReason, Error, Result};
pub use format::{
    decode_object, encode_object, parse_envelope, Envelope, Object, ObjectKind, TypeSchema,
    FORMAT_VERSION, MAGIC,
};
pub use gc::{GcPolicy, GcReport};
pub use history::ManifestStatus;
pub use keys::{epoch_prefix, generation_key, manifest_key, Key, ShardObjectKey, ShardObjectKind};
pub use location::check_url;
pub use manifest::{Manifest, ObjectRef, ShardEntry};
pub use store::{CommitOutcome, Store, StoreOptions};
pub use verify::{Problem, ProblemKind, Uncommitted, UncommittedReason, VerifyReport};
