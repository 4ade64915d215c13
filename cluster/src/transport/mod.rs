//! The node-to-node transport: one authenticated TCP connection per node
//! pair carrying many logical channels, each delivered exactly once and in
//! order across reconnects (SNAPSHOTS §3.1).
//!
//! The application sends opaque payloads to a peer on a [`ChannelId`] and
//! reads [`TransportEvent`]s: deliveries, and peers going up, down or
//! restarting. Two implementations of [`Transport`] share the reliability
//! layer: [`TcpTransport`] on real sockets and [`MemoryTransport`] on a
//! seeded, unreliable [`MemoryNetwork`] for simulation tests.
//!
//! # Layout
//! - `identity`: [`NodeId`], [`Incarnation`], [`Generation`], [`ChannelId`].
//! - `config`: [`TransportConfig`] and the shared [`Secret`].
//! - `error`: [`TransportError`] and [`Refusal`], why a connection closed.
//! - `events`: [`TransportEvent`], [`Delivery`] and the [`Events`] stream.
//! - `wire`: the frames; `codec`: length prefix plus MessagePack.
//! - `auth`: the HMAC-SHA256 challenge proofs.
//! - `link`: sequence numbers, acks, reordering and resends, sans I/O.
//! - `handshake`: the four-frame TCP handshake.
//! - `tcp`: [`TcpTransport`] (`peers` holds the shared state,
//!   `connection` runs one established connection).
//! - `memory`: [`MemoryNetwork`] and [`MemoryTransport`].
//! - `either`: `MemberTransport`, the one a cluster member runs on.
//! - `metrics`: the `cairn_transport_*` series.

mod auth;
mod codec;
mod config;
mod either;
mod error;
mod events;
mod handshake;
mod identity;
mod link;
mod memory;
mod metrics;
mod tcp;
mod wire;

use std::future::Future;

use bytes::Bytes;

pub use config::{Secret, TransportConfig, DEFAULT_MAX_FRAME, SECRET_ENV};
pub(crate) use either::MemberTransport;
pub use error::{Refusal, TransportError};
pub use events::{Delivery, Events, TransportEvent};
pub use identity::{ChannelId, Generation, Incarnation, NodeId};
pub use memory::{Faults, MemoryNetwork, MemoryTransport};
pub use metrics::{
    describe_transport_metrics, register_transport_metrics, BYTES_RECEIVED, BYTES_SENT,
    CONNECTIONS_REFUSED, FRAMES_RECEIVED, FRAMES_SENT, RECONNECTS,
};
pub use tcp::TcpTransport;

/// A node's end of the cluster network. Cheap to clone; every clone is
/// the same endpoint, and dropping the last one stops it. Events are read
/// from the [`Events`] returned with the transport when it is made.
pub trait Transport: Clone + Send + Sync + 'static {
    /// This node.
    fn local_node(&self) -> &NodeId;

    /// This node's incarnation.
    fn incarnation(&self) -> Incarnation;

    /// Makes `peer` known: the side with the lower [`NodeId`] dials it and
    /// keeps the connection up. Sending to a peer adds it too.
    fn add_peer(&self, peer: NodeId);

    /// Forgets `peer`'s life `life`: closes its connection, stops dialing
    /// it, drops what was unacknowledged to it, and ends the link,
    /// remembering only what it delivered from the peer. The next link to
    /// that life goes on from there, so nothing the peer sent is delivered
    /// twice or lost; the peer sees the new link and forgets what this
    /// node's old one sent ([`TransportEvent::LinkReset`]). Does nothing
    /// if the link is already with a later life of the peer.
    fn remove_peer(&self, peer: &NodeId, life: Incarnation);

    /// Queues `payload` for `peer` on `channel`. It is delivered exactly
    /// once and in order with the channel's other messages, across
    /// reconnects, as long as neither node restarts. Never waits: the
    /// message is kept until the peer acknowledges it.
    fn send(&self, peer: &NodeId, channel: ChannelId, payload: Bytes)
        -> Result<(), TransportError>;

    /// Frames sent and not yet acknowledged, over every peer: what the
    /// peers have yet to take.
    fn backlog(&self) -> usize;

    /// Raises the generation this node presents and requires of peers: a
    /// peer below it is refused at its next handshake (TCP) or its next
    /// frame (in-memory). It never goes down.
    fn set_generation(&self, generation: Generation);

    /// Closes every connection and stops every task of the transport.
    fn shutdown(&self) -> impl Future<Output = ()> + Send;
}
