//! Where each split lives and how far it has been read.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ReaderStop;
use crate::address::{ShardCount, ShardId};

/// A split's read position as recorded in its hosting shard's snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCursor {
    /// The ingress's name.
    pub source: String,
    /// The split.
    pub split: u32,
    /// The position after the last record admitted, or `None` if none was:
    /// the split is read from its start.
    pub offset: Option<u64>,
}

/// A split as its hosting shard tracks it.
#[derive(Debug)]
pub(crate) struct SplitCursor {
    /// The ingress's name.
    pub(crate) source: Arc<str>,
    /// The split.
    pub(crate) split: u32,
    /// The position after the last record admitted.
    pub(crate) offset: Option<u64>,
    /// Whether the reader has reached the split's end and every record
    /// before it has been admitted.
    pub(crate) finished: bool,
    /// Stops the split's reader when the shard leaves this node.
    pub(crate) reader_stop: Arc<ReaderStop>,
}

impl SplitCursor {
    /// The cursor as a snapshot stores it.
    pub(crate) fn stored(&self) -> StoredCursor {
        StoredCursor {
            source: self.source.to_string(),
            split: self.split,
            offset: self.offset,
        }
    }
}

/// The shard that hosts split `split` of source `source`: the splits of one
/// source go to consecutive shards from a point given by the source's name,
/// so they spread evenly and two sources do not pile onto the same shards.
pub(crate) fn hosting_shard(source: &str, split: u32, shards: ShardCount) -> ShardId {
    let start = xxhash_rust::xxh3::xxh3_64(source.as_bytes()) % u64::from(shards.get());
    ShardId(((start + u64::from(split)) % u64::from(shards.get())) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sources_splits_go_to_distinct_shards_while_there_are_enough() {
        let shards = ShardCount::new(64).unwrap();
        let mut hosts: Vec<_> = (0..64)
            .map(|split| hosting_shard("transfers", split, shards))
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        assert_eq!(hosts.len(), 64);
        assert_eq!(
            hosting_shard("transfers", 3, shards),
            hosting_shard("transfers", 3, shards)
        );
    }
}
