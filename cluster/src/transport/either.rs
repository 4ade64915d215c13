//! [`MemberTransport`]: the transport a cluster member runs on, real
//! sockets or the simulated network, behind one type so that nothing above
//! the transport is generic over it.

use bytes::Bytes;

use super::{
    ChannelId, Generation, Incarnation, MemoryTransport, NodeId, TcpTransport, Transport,
    TransportError,
};

/// A cluster member's transport: TCP, or an endpoint on a
/// [`MemoryNetwork`](super::MemoryNetwork) for simulation tests.
#[derive(Clone, Debug)]
pub(crate) enum MemberTransport {
    /// Real sockets.
    Tcp(TcpTransport),
    /// The simulated network.
    Memory(MemoryTransport),
}

impl Transport for MemberTransport {
    fn local_node(&self) -> &NodeId {
        match self {
            Self::Tcp(transport) => transport.local_node(),
            Self::Memory(transport) => transport.local_node(),
        }
    }

    fn incarnation(&self) -> Incarnation {
        match self {
            Self::Tcp(transport) => transport.incarnation(),
            Self::Memory(transport) => transport.incarnation(),
        }
    }

    fn add_peer(&self, peer: NodeId) {
        match self {
            Self::Tcp(transport) => transport.add_peer(peer),
            Self::Memory(transport) => transport.add_peer(peer),
        }
    }

    fn remove_peer(&self, peer: &NodeId, life: Incarnation) {
        match self {
            Self::Tcp(transport) => transport.remove_peer(peer, life),
            Self::Memory(transport) => transport.remove_peer(peer, life),
        }
    }

    fn send(
        &self,
        peer: &NodeId,
        channel: ChannelId,
        payload: Bytes,
    ) -> Result<(), TransportError> {
        match self {
            Self::Tcp(transport) => transport.send(peer, channel, payload),
            Self::Memory(transport) => transport.send(peer, channel, payload),
        }
    }

    fn backlog(&self) -> usize {
        match self {
            Self::Tcp(transport) => transport.backlog(),
            Self::Memory(transport) => transport.backlog(),
        }
    }

    fn set_generation(&self, generation: Generation) {
        match self {
            Self::Tcp(transport) => transport.set_generation(generation),
            Self::Memory(transport) => transport.set_generation(generation),
        }
    }

    async fn shutdown(&self) {
        match self {
            Self::Tcp(transport) => transport.shutdown().await,
            Self::Memory(transport) => transport.shutdown().await,
        }
    }
}
