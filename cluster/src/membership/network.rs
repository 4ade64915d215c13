//! The in-memory gossip network for tests and simulation.

use std::fmt;
use std::net::SocketAddr;

use chitchat::transport::ChannelTransport;

/// An in-process network that memberships started with
/// [`Membership::start_in_memory`](super::Membership::start_in_memory)
/// gossip over instead of UDP. Every message is serialized and parsed as
/// on the wire; links can be cut and healed. Cheap to clone: clones are
/// the same network. Works on paused Tokio time.
#[derive(Clone, Default)]
pub struct GossipNetwork {
    transport: ChannelTransport,
}

impl GossipNetwork {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops every message between `a` and `b`, both ways, until
    /// [`heal`](Self::heal).
    pub async fn cut(&self, a: SocketAddr, b: SocketAddr) {
        self.transport.remove_link(a, b).await;
    }

    /// Lets messages between `a` and `b` through again.
    pub async fn heal(&self, a: SocketAddr, b: SocketAddr) {
        self.transport.add_link(a, b).await;
    }

    pub(crate) fn transport(&self) -> &ChannelTransport {
        &self.transport
    }
}

impl fmt::Debug for GossipNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let statistics = self.transport.statistics();
        f.debug_struct("GossipNetwork")
            .field("messages", &statistics.num_messages_total)
            .field("bytes", &statistics.num_bytes_total)
            .finish()
    }
}
