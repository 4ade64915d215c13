//! What a transport tells the application: delivered messages and changes
//! in its peers.

use bytes::Bytes;
use tokio::sync::mpsc;

use super::identity::{ChannelId, Generation, Incarnation, NodeId};

/// A message delivered on a channel: exactly once, in order per channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The node that sent it.
    pub from: NodeId,
    /// The channel it came on.
    pub channel: ChannelId,
    /// Its sequence number on the channel, from 1, without gaps for one
    /// incarnation of the sender.
    pub seq: u64,
    /// The application's bytes.
    pub payload: Bytes,
}

/// Something a transport reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportEvent {
    /// A message arrived.
    Message(Delivery),
    /// A connection to `peer` is up (a link healed, for the in-memory
    /// transport).
    PeerUp {
        /// The peer.
        peer: NodeId,
        /// The peer's incarnation.
        incarnation: Incarnation,
        /// The generation the peer presented.
        generation: Generation,
    },
    /// The connection to `peer` is down. Unacknowledged messages are kept
    /// and sent again when it is back.
    PeerDown {
        /// The peer.
        peer: NodeId,
    },
    /// `peer` restarted: a new incarnation. Every channel to and from it
    /// was reset (messages in flight either way are dropped and sequence
    /// numbers start again at 1); the layer above rolls back.
    PeerRestarted {
        /// The peer.
        peer: NodeId,
        /// The incarnation that was known.
        previous: Incarnation,
        /// The new one.
        current: Incarnation,
    },
    /// `peer`, in the same incarnation, began a new link to this node: it
    /// had forgotten this node (say, it declared it dead while this node
    /// went on). What its old link sent and this node had not delivered
    /// is gone (the peer dropped it when it forgot); what this node sent
    /// goes on, numbered as before, from what the peer had delivered.
    LinkReset {
        /// The peer.
        peer: NodeId,
    },
}

/// The receiving end of a transport's events.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::UnboundedReceiver<TransportEvent>,
}

impl Events {
    pub(crate) fn channel() -> (mpsc::UnboundedSender<TransportEvent>, Self) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Self { rx })
    }

    /// The next event; `None` once the transport is shut down and every
    /// event has been read.
    pub async fn recv(&mut self) -> Option<TransportEvent> {
        self.rx.recv().await
    }

    /// The next event if one is ready.
    pub fn try_recv(&mut self) -> Option<TransportEvent> {
        self.rx.try_recv().ok()
    }
}
