//! Chandy–Lamport snapshots of a shard: the sans-IO protocol core and what
//! a shard's part of a snapshot holds.
//!
//! Each shard is a C-L process and each ordered pair of shards a FIFO
//! channel (`SNAPSHOTS.md` §0). Messages carry their sender's epoch as a
//! colour, so a message from a shard that already recorded is an implicit
//! marker (Lai-Yang); explicit markers close idle channels.

mod parts;
mod process;
#[cfg(test)]
mod simulation;

pub(crate) use parts::{decode_payload, registered_name};
pub use parts::{is_full_epoch, FULL_SNAPSHOT_EVERY};
pub use parts::{
    ShardSnapshot, StoredActor, StoredChannel, StoredEgress, StoredMessage, StoredTimer,
};
pub use process::Epoch;
pub(crate) use process::{ProtocolError, SnapshotProcess};
