//! The frame that carries one epoch's markers from some shards of one
//! node to some shards of another (SNAPSHOTS §3.2 rule 5).

use serde::{Deserialize, Serialize};

use crate::address::ShardId;
use crate::error::CodecError;
use crate::snapshot::Epoch;

/// The markers of `epoch` on every channel from one of `sources` (on the
/// sending node) to one of `destinations` (on the receiving node), a
/// shard to itself excepted. Only the cuts that differ from the last one
/// sent for their channel on this node link are listed; every other
/// covered channel's cut is that last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MarkerBatch {
    /// The epoch the sources recorded.
    pub(crate) epoch: Epoch,
    /// The shards whose markers the batch carries.
    pub(crate) sources: Vec<ShardId>,
    /// The shards they are for.
    pub(crate) destinations: Vec<ShardId>,
    /// The cuts that changed, or were never sent on this link.
    pub(crate) cuts: Vec<ListedCut>,
}

/// One channel's cut, listed in a [`MarkerBatch`]: `from` had sent
/// `cut_seq` messages to `to` when it recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ListedCut {
    pub(crate) from: ShardId,
    pub(crate) to: ShardId,
    pub(crate) cut_seq: u64,
}

impl MarkerBatch {
    /// A generous estimate of the encoded size of a batch covering
    /// `shards` sources and destinations in all and listing `listed` cuts.
    pub(crate) fn estimate(shards: usize, listed: usize) -> usize {
        // A header, a u32 per shard and (u32, u32, u64) per cut, each with
        // its MessagePack marker.
        32 + 5 * shards + 20 * listed
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, CodecError> {
        rmp_serde::to_vec(self).map_err(|error| CodecError::Encode(error.to_string()))
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        rmp_serde::from_slice(bytes).map_err(|error| CodecError::Decode(error.to_string()))
    }
}
