//! Egress: records that handlers emit to the world outside the actor system.
//!
//! Handlers call `ctx.emit(name, &record)`; the shard encodes the record as
//! JSON, gives it a key `(epoch, shard, seq)` that is unique and stable, and
//! hands the turn's records to the sink's own thread, so that slow output
//! never stalls a shard.

mod file;
mod hub;
mod stdout;

use serde::{Deserialize, Serialize};

use crate::address::ShardId;

pub use file::FileSink;
pub(crate) use hub::{EgressHub, EgressThreads};
pub use stdout::StdoutSink;

/// Where egress records go: a file, a queue, a service. Each sink runs on a
/// thread of its own and gets the records in the order each shard emitted them.
pub trait EgressSink: Send + 'static {
    /// Writes `records`. On an error the same records are offered again after
    /// a backoff, so a sink sees a record at least once; a sink that must not
    /// repeat output deduplicates by [`EgressRecord::key`]. With snapshots,
    /// returning `Ok` is the confirmation that stops a record being sealed
    /// into later snapshots: return it only once the records are durable.
    fn publish(&mut self, records: &[EgressRecord]) -> std::io::Result<()>;
}

impl EgressSink for Box<dyn EgressSink> {
    fn publish(&mut self, records: &[EgressRecord]) -> std::io::Result<()> {
        (**self).publish(records)
    }
}

/// The stable identity of an egress record: the epoch it was emitted in, the
/// shard that emitted it, and its sequence number within that shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EgressKey {
    /// The snapshot epoch the record belongs to.
    pub epoch: u64,
    /// The emitting shard.
    pub shard: ShardId,
    /// The record's sequence number within its shard, from 1.
    pub seq: u64,
}

/// One record emitted by a handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressRecord {
    /// The index of the sink, in the order egresses were added.
    pub(crate) sink: usize,
    pub(crate) key: EgressKey,
    /// The record as JSON text.
    pub(crate) record: String,
}

impl EgressRecord {
    /// The record's stable key, for idempotent sinks.
    pub fn key(&self) -> EgressKey {
        self.key
    }

    /// The record as JSON text.
    pub fn json(&self) -> &str {
        &self.record
    }

    /// The record as one JSON line: `{"key":{…},"record":…}` and a newline.
    pub fn to_json_line(&self) -> String {
        let key = serde_json::to_string(&self.key).expect("a key always serializes");
        format!("{{\"key\":{key},\"record\":{}}}\n", self.record)
    }
}
