//! The runtime's sink for frames to shards on other nodes, over a
//! transport.

use cairn_core::{RemoteChannel, RemoteShards};

use super::generation::{tag, TAG_LEN};
use crate::transport::{ChannelId, Generation, NodeId, Transport};

/// Sends each frame to the node that owns its destination shard, on the
/// transport channel of the same (source, destination) pair, tagged with
/// the generation of the shard map.
pub struct TransportSink<T: Transport> {
    transport: T,
    generation: Generation,
    /// The owner of each shard, by index.
    owners: Vec<NodeId>,
    max_payload: usize,
}

impl<T: Transport> TransportSink<T> {
    /// A sink over `transport`, with `owners[shard]` the node of each
    /// shard under map `generation`, for payloads of at most `max_payload`
    /// bytes (the generation tag included).
    pub fn new(
        transport: T,
        generation: Generation,
        owners: Vec<NodeId>,
        max_payload: usize,
    ) -> Self {
        Self {
            transport,
            generation,
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
        if let Err(error) = self.transport.send(owner, id, tag(self.generation, &frame)) {
            // The receiver will see a gap in the channel's sequence.
            tracing::warn!(%channel, peer = %owner, %error, "frame not sent");
        }
    }

    fn max_frame(&self) -> usize {
        self.max_payload - TAG_LEN
    }
}
