//! The in-memory gossip network for tests and simulation.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use chitchat::transport::{ChannelTransport, RecvOutcome, SendOutcome, Socket, Transport};
use chitchat::ChitchatEnvelope;
use parking_lot::Mutex;

/// An in-process network that memberships started with
/// [`Membership::start_in_memory`](super::Membership::start_in_memory)
/// gossip over instead of UDP. Every message is serialized and parsed as
/// on the wire; links can be cut and healed, both ways or one way. Cheap
/// to clone: clones are the same network. Works on paused Tokio time.
#[derive(Clone, Default)]
pub struct GossipNetwork {
    transport: ChannelTransport,
    /// The (sender, receiver) pairs whose messages are dropped. chitchat's
    /// in-process transport cuts links only both ways; one set of
    /// directed pairs serves both kinds of cut.
    cut: Arc<Mutex<HashSet<(SocketAddr, SocketAddr)>>>,
}

impl GossipNetwork {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops every message between `a` and `b`, both ways, until
    /// [`heal`](Self::heal).
    pub async fn cut(&self, a: SocketAddr, b: SocketAddr) {
        let mut cut = self.cut.lock();
        cut.insert((a, b));
        cut.insert((b, a));
    }

    /// Lets messages between `a` and `b` through again, both ways (after
    /// [`cut`](Self::cut) or [`cut_one_way`](Self::cut_one_way)).
    pub async fn heal(&self, a: SocketAddr, b: SocketAddr) {
        let mut cut = self.cut.lock();
        cut.remove(&(a, b));
        cut.remove(&(b, a));
    }

    /// Drops every message `from` sends to `to`, while `to`'s messages
    /// still reach `from`, until [`heal`](Self::heal): an asymmetric
    /// partition, in which `to` stops hearing `from` but `from` goes on
    /// hearing `to`.
    pub fn cut_one_way(&self, from: SocketAddr, to: SocketAddr) {
        self.cut.lock().insert((from, to));
    }

    /// What memberships on this network open their sockets on.
    pub(crate) fn transport(&self) -> Cuts {
        Cuts {
            inner: self.transport.clone(),
            cut: self.cut.clone(),
        }
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

/// chitchat's in-process transport, with the network's directed cuts on
/// top.
pub(crate) struct Cuts {
    inner: ChannelTransport,
    cut: Arc<Mutex<HashSet<(SocketAddr, SocketAddr)>>>,
}

#[async_trait]
impl Transport for Cuts {
    async fn open(&self, listen_addr: SocketAddr) -> anyhow::Result<Box<dyn Socket>> {
        let inner = self.inner.open(listen_addr).await?;
        Ok(Box::new(CutSocket {
            // Where it really listens: the address others see it send from.
            local: inner.local_addr()?,
            inner,
            cut: self.cut.clone(),
        }))
    }
}

/// A socket whose messages to peers that cannot hear it are dropped.
struct CutSocket {
    local: SocketAddr,
    inner: Box<dyn Socket>,
    cut: Arc<Mutex<HashSet<(SocketAddr, SocketAddr)>>>,
}

#[async_trait]
impl Socket for CutSocket {
    fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.inner.local_addr()
    }

    async fn send(
        &mut self,
        to: SocketAddr,
        envelope: ChitchatEnvelope,
    ) -> anyhow::Result<SendOutcome> {
        if self.cut.lock().contains(&(self.local, to)) {
            // Lost on the way, as a UDP datagram would be: sent, as far as
            // the sender can tell.
            let num_bytes_sent = 0;
            return Ok(SendOutcome { num_bytes_sent });
        }
        self.inner.send(to, envelope).await
    }

    async fn recv(&mut self) -> anyhow::Result<RecvOutcome> {
        self.inner.recv().await
    }
}
