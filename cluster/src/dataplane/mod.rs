//! The cluster data plane: a runtime that runs only the shards a
//! [`ShardMap`] gives this node, with the
//! channels to the other shards carried by a [`Transport`].
//!
//! Each channel between shards (source shard → destination shard) is one
//! transport channel `ChannelId { src, dst }`, so the transport's
//! per-channel exactly-once FIFO is the channel's FIFO, and batches and
//! colours cross nodes unchanged: the receiving shard's Chandy–Lamport
//! process runs as for a local channel. Markers travel batched per node
//! pair on [`MARKER_CHANNEL`], credit grants on [`CREDIT_CHANNEL`]; a marker that overtakes its channel's last
//! messages waits for them at the receiving shard. Messages sent from
//! outside to an actor on another node travel on that node's external
//! channel `ChannelId { src: EXTERNAL_SOURCE, dst }`.
//!
//! Independent of `Node`: give it a transport, a map and the runtime, and
//! it builds the runtime's [`Placement`] and feeds
//! the transport's deliveries into the runtime.
//!
//! # Layout
//! - `sink`: [`TransportSink`], the runtime's remote sink over a transport,
//!   and the [`AskRelay`] it hands asks to.
//! - `receiver`: [`ReceiveLoop`], the task that delivers frames.
//! - `credit`: credit grants between nodes, on [`CREDIT_CHANNEL`].
//! - [`generation`]: the generation tag every frame carries.
//! - `error`: [`DataPlaneError`].

mod credit;
mod error;
pub mod generation;
mod receiver;
mod sink;

use std::sync::Arc;

use cairn_core::{Placement, ShardCount, ShardId};

use crate::membership::ShardMap;
use crate::transport::{Generation, Transport, TransportConfig};

pub use credit::CREDIT_CHANNEL;
pub use error::DataPlaneError;
pub use receiver::{deliver, Delivered, ReceiveLoop};
pub use sink::{AskRelay, TransportSink, CONGESTION_FRAMES, MARKER_CHANNEL};

/// This node's part of the data plane under one shard map: which shards
/// run here, and where frames for the others go.
pub struct DataPlane<T: Transport> {
    sink: Arc<TransportSink<T>>,
    generation: Generation,
    owned: Vec<ShardId>,
}

impl<T: Transport> DataPlane<T> {
    /// The data plane of `transport`'s node under `map`, for a runtime of
    /// `shard_count` shards. Frames are kept under `transport_config`'s
    /// largest payload. Every other node of the map is added to the
    /// transport as a peer. Fails if the map does not cover exactly
    /// `shard_count` shards.
    pub fn new(
        transport: T,
        map: &ShardMap,
        shard_count: ShardCount,
        transport_config: &TransportConfig,
    ) -> Result<Self, DataPlaneError> {
        if map.owners.len() != shard_count.get() as usize {
            return Err(DataPlaneError::ShardCount {
                map: map.owners.len(),
                runtime: shard_count.get(),
            });
        }
        let local = transport.local_node().clone();
        let owned = map.shards_of(&local);
        let mut peers: Vec<_> = map.owners.iter().filter(|node| **node != local).collect();
        peers.sort();
        peers.dedup();
        for peer in peers {
            transport.add_peer(peer.clone());
        }
        let sink = TransportSink::new(
            transport,
            map.generation,
            map.owners.clone(),
            transport_config.max_payload(),
        );
        Ok(Self {
            sink: Arc::new(sink),
            generation: map.generation,
            owned,
        })
    }

    /// The generation of the map this data plane runs.
    pub fn generation(&self) -> Generation {
        self.generation
    }

    /// The shards that run on this node.
    pub fn owned_shards(&self) -> &[ShardId] {
        &self.owned
    }

    /// What to start the runtime with
    /// ([`Runtime::start_with`](cairn_core::Runtime::start_with)).
    pub fn placement(&self) -> Placement {
        Placement::partial(self.owned.iter().copied(), self.sink.clone())
    }
}

impl<T: Transport> std::fmt::Debug for DataPlane<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataPlane")
            .field("owned", &self.owned)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{Faults, MemoryNetwork, NodeId};

    fn map(owners: &[&str]) -> ShardMap {
        ShardMap {
            generation: Generation(1),
            owners: owners.iter().map(|owner| NodeId::new(*owner)).collect(),
        }
    }

    #[tokio::test]
    async fn a_node_runs_the_shards_the_map_gives_it() {
        let network = MemoryNetwork::new(1, Faults::none());
        let config = TransportConfig::new("dataplane-unit").with_secret(None);
        let (transport, _events) = network.endpoint(NodeId::new("b"), config.clone());
        let count = ShardCount::new(4).unwrap();
        let plane = DataPlane::new(
            transport.clone(),
            &map(&["a", "b", "a", "b"]),
            count,
            &config,
        )
        .unwrap();
        assert_eq!(plane.owned_shards(), &[ShardId(1), ShardId(3)]);
        let wrong = DataPlane::new(transport, &map(&["a", "b"]), count, &config);
        assert_eq!(
            wrong.err(),
            Some(DataPlaneError::ShardCount { map: 2, runtime: 4 })
        );
    }
}
