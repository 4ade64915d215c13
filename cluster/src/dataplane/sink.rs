//! The runtime's sink for frames to shards on other nodes, over a
//! transport.

use std::sync::Arc;

use cairn_core::{AskError, AskReply, Error, RemoteChannel, RemoteShards, StoredMessage};

use super::credit::{encode_grant, CREDIT_CHANNEL};
use super::generation::{tag, TAG_LEN};
use crate::transport::{ChannelId, Generation, NodeId, Transport};

/// The transport channel marker batches travel on, one per node pair: no
/// shard has its number, and the external and control channels use
/// `u32::MAX` and `u32::MAX - 1`.
pub const MARKER_CHANNEL: ChannelId = ChannelId {
    src: u32::MAX - 2,
    dst: u32::MAX - 2,
};

/// Carries an ask from outside to the node running its actor's shard, and
/// its answer back ([`RemoteShards::forward_ask`]): the cluster's control
/// plane, which asks other nodes' actors anyway. Must not block.
pub trait AskRelay: Send + Sync + 'static {
    /// Asks `message` of the actor it names on `owner`, and hands the
    /// answer — or why there is none — to `reply`.
    fn relay(&self, owner: &NodeId, message: StoredMessage, durable: bool, reply: AskReply);
}

/// Sends each frame to the node that owns its destination shard, on the
/// transport channel of the same (source, destination) pair, and each
/// marker batch to its node on [`MARKER_CHANNEL`], tagged with the
/// generation of the shard map. Asks go through its [`AskRelay`], if it
/// has one; without, they are refused.
pub struct TransportSink<T: Transport> {
    transport: T,
    generation: Generation,
    congestion: Congestion,
    /// The owner of each shard, by index.
    owners: Vec<NodeId>,
    max_payload: usize,
    asks: Option<Arc<dyn AskRelay>>,
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
            congestion: Congestion::default(),
            owners,
            max_payload,
            asks: None,
        }
    }

    /// The sink, with asks for other nodes' shards carried by `relay`.
    pub fn with_asks(mut self, relay: Arc<dyn AskRelay>) -> Self {
        self.asks = Some(relay);
        self
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
        if let Err(error) = self.transport.send(owner, id, tag(self.generation, frame)) {
            // The receiver will see a gap in the channel's sequence.
            tracing::warn!(%channel, peer = %owner, %error, "frame not sent");
        }
    }

    fn max_frame(&self) -> usize {
        self.max_payload - TAG_LEN
    }

    fn node_of(&self, shard: u32) -> Option<&str> {
        self.owners
            .get(shard as usize)
            .filter(|owner| *owner != self.transport.local_node())
            .map(NodeId::as_str)
    }

    fn send_markers(&self, node: &str, frame: Vec<u8>) {
        let peer = NodeId::new(node);
        let payload = tag(self.generation, frame);
        if let Err(error) = self.transport.send(&peer, MARKER_CHANNEL, payload) {
            // The epoch cannot finish without them; it is aborted, and the
            // cluster rolls back.
            tracing::warn!(%peer, %error, "marker batch not sent");
        }
    }

    fn send_credit(&self, channel: RemoteChannel, through_seq: u64) {
        let Some(owner) = self.owners.get(channel.src as usize) else {
            tracing::error!(%channel, "credit for a shard outside the map; this is a bug");
            return;
        };
        let payload = tag(self.generation, encode_grant(channel, through_seq).to_vec());
        if let Err(error) = self.transport.send(owner, CREDIT_CHANNEL, payload) {
            // Its sender runs on after its patience.
            tracing::debug!(%channel, peer = %owner, %error, "credit not sent");
        }
    }

    fn congested(&self) -> bool {
        self.congestion.congested(|| self.transport.backlog())
    }

    fn forward_ask(&self, shard: u32, message: StoredMessage, durable: bool, reply: AskReply) {
        let owner = self
            .owners
            .get(shard as usize)
            .filter(|owner| *owner != self.transport.local_node());
        match (owner, &self.asks) {
            (Some(owner), Some(relay)) => relay.relay(owner, message, durable, reply),
            _ => reply.answer(Err(AskError::Send(Error::RemoteShard { shard }))),
        }
    }
}

/// Frames unacknowledged over every peer above which the link counts as
/// congested: at the largest batches of a turn, a few megabytes.
pub const CONGESTION_FRAMES: usize = 256;

/// How long a reading of the backlog stays good: counting it walks every
/// channel, and readers ask for every record.
const CONGESTION_READING: std::time::Duration = std::time::Duration::from_millis(2);

/// The last reading of the transport's backlog.
#[derive(Default)]
struct Congestion(parking_lot::Mutex<Option<(std::time::Instant, bool)>>);

impl Congestion {
    /// Whether the backlog `read` gives is above [`CONGESTION_FRAMES`],
    /// reading it again once the last reading is stale.
    fn congested(&self, read: impl FnOnce() -> usize) -> bool {
        let mut last = self.0.lock();
        let now = std::time::Instant::now();
        match *last {
            Some((at, congested)) if now - at < CONGESTION_READING => congested,
            _ => {
                let congested = read() > CONGESTION_FRAMES;
                *last = Some((now, congested));
                congested
            }
        }
    }
}
