//! Why a send failed, and why a connection was refused or closed.

use std::fmt;

use super::identity::NodeId;

/// What went wrong in the transport.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The payload does not fit in one frame.
    #[error("payload of {size} bytes exceeds the largest payload of {max} bytes")]
    PayloadTooLarge {
        /// The payload's size.
        size: usize,
        /// The largest payload allowed.
        max: usize,
    },
    /// The message was addressed to this node itself.
    #[error("cannot send to the local node {0}")]
    SelfSend(NodeId),
    /// The transport has been shut down.
    #[error("the transport is shut down")]
    Closed,
    /// The listener could not be bound.
    #[error("binding the cluster port: {0}")]
    Bind(#[source] std::io::Error),
    /// A socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A connection was refused, by this node or by the peer.
    #[error("connection refused: {0}")]
    Refused(Refusal),
}

/// Why a connection was refused or closed for bad input. Each is a value
/// of the `reason` label of `cairn_transport_connections_refused_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// Bytes that do not decode as a frame.
    Malformed,
    /// A length prefix above the frame limit.
    FrameTooLarge,
    /// The peer speaks another wire version (it runs another build).
    WireVersion,
    /// The peer belongs to another cluster.
    ClusterId,
    /// The peer could not prove it knows the shared secret.
    Auth,
    /// The peer is an older incarnation of a node already seen.
    StaleIncarnation,
    /// The peer's generation is below this node's.
    StaleGeneration,
    /// The peer presents an older link than one it presented before.
    StaleLink,
    /// The peer is not the node that was dialed, or is this node.
    WrongNode,
    /// A well-formed frame out of place (say, data before the handshake).
    Protocol,
    /// The handshake did not finish in time.
    Timeout,
    /// The peer refused us; what it said is logged.
    ByPeer,
}

impl Refusal {
    /// Every reason, in the order the metrics list them.
    pub const ALL: [Refusal; 12] = [
        Refusal::Malformed,
        Refusal::FrameTooLarge,
        Refusal::WireVersion,
        Refusal::ClusterId,
        Refusal::Auth,
        Refusal::StaleIncarnation,
        Refusal::StaleGeneration,
        Refusal::StaleLink,
        Refusal::WrongNode,
        Refusal::Protocol,
        Refusal::Timeout,
        Refusal::ByPeer,
    ];

    /// The metric label value.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::FrameTooLarge => "frame_too_large",
            Refusal::WireVersion => "wire_version",
            Refusal::ClusterId => "cluster_id",
            Refusal::Auth => "auth",
            Refusal::StaleIncarnation => "stale_incarnation",
            Refusal::StaleGeneration => "stale_generation",
            Refusal::StaleLink => "stale_link",
            Refusal::WrongNode => "wrong_node",
            Refusal::Protocol => "protocol",
            Refusal::Timeout => "timeout",
            Refusal::ByPeer => "by_peer",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
