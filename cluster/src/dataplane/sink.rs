//! The runtime's sink for frames to shards on other nodes, over a
//! transport.

use bytes::Bytes;
use cairn_core::{RemoteChannel, RemoteShards};

use crate::transport::{ChannelId, NodeId, Transport};

/// Sends each frame to the node that owns its destination shard, on the
/// transport channel of the same (source, destination) pair.
pub struct TransportSink<T: Transport> {
    transport: T,
    /// The owner of each shard, by index.
    owners: Vec<NodeId>,
    max_payload: usize,
}

impl<T: Transport> TransportSink<T> {
    /// A sink over `transport`, with `owners[shard]` the node of each
    /// shard, for frames of at most `max_payload` bytes.
    pub fn new(transport: T, owners: Vec<NodeId>, max_payload: usize) -> Self {
        Self {
            transport,
            owners,
            max_payload,
        }
    }
}

impl<T: Transport> RemoteShards for TransportSink<T> {
    fn send(&self, channel: RemoteChannel, frame: Vec<u8>) {
        let Some(owner) = self.owners.get(channel.dst as usize) else {
            tracing::error!(%channel, "frame for a shard outside the map; this is a bug");
            return;
        };
        if owner == self.transport.local_node() {
            tracing::error!(%channel, "frame for a local shard sent to the transport; this is a bug");
            return;
        }
        let id = ChannelId::new(channel.src, channel.dst);
        if let Err(error) = self.transport.send(owner, id, Bytes::from(frame)) {
            // The receiver will see a gap in the channel's sequence.
            tracing::warn!(%channel, peer = %owner, %error, "frame not sent");
        }
    }

    fn max_frame(&self) -> usize {
        self.max_payload
    }
}
