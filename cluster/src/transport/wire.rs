//! The frames on the wire: the handshake, data, acknowledgements.
//!
//! One enum, encoded with `rmp-serde` inside a length prefix (see
//! `codec`). The incarnation and generation of SNAPSHOTS §3.1 rule 1 are
//! exchanged once in the handshake and hold for the whole connection, so
//! data frames carry only the channel and the sequence number.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::identity::{ChannelId, Generation, Incarnation, NodeId};
use super::link::LinkIds;

/// The version of everything two members say to each other over the
/// cluster port: these frames, and the payloads they carry (cairn-core's
/// data-plane frames and marker batches, the control plane's messages,
/// replies to forwarded asks, credit grants). Members of different versions refuse each
/// other in the handshake, with a refusal that names both versions,
/// rather than misread or refuse each frame later.
///
/// Bump it with any change to those formats. Two tests fail on such a
/// change until they are updated, as a reminder: the handshake frames'
/// layout, which `transport_bad_input.rs` writes as a foreign client, and
/// the data-plane frame's bytes (`remote/tests.rs` in cairn-core). The
/// other formats have no such test.
///
/// Every build writes its version first in its hello, and a hello that
/// does not decode is still refused for its version if it states another
/// one (`codec`), so a later build may lay the rest of the hello out
/// differently. Builds from before the version are refused as malformed.
///
/// Version 2 added credit grants between shards (`dataplane::credit`);
/// version 3 moved a data-plane frame's generation tag from before the
/// frame to after it (`dataplane::generation`).
pub(crate) const WIRE_VERSION: u32 = 3;

/// Per channel, the highest sequence number delivered in order.
pub(crate) type Delivered = Vec<(ChannelId, u64)>;

/// Who a node says it is, sent by each side first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Hello {
    /// The sender's [`WIRE_VERSION`], first so that it is read first.
    pub(crate) wire_version: u32,
    pub(crate) cluster_id: String,
    pub(crate) node: NodeId,
    pub(crate) incarnation: Incarnation,
    pub(crate) generation: Generation,
    /// Fresh random bytes, so a recorded proof cannot be replayed.
    pub(crate) nonce: Bytes,
}

/// Every frame either side may send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Frame {
    /// Dialer → acceptor: the dialer's identity.
    Hello(Hello),
    /// Acceptor → dialer: the acceptor's identity and its proof over both
    /// hellos.
    Challenge { hello: Hello, proof: Bytes },
    /// Dialer → acceptor: the dialer's proof, its link ids, and what it
    /// has delivered.
    Auth {
        proof: Bytes,
        link: LinkIds,
        delivered: Delivered,
    },
    /// Acceptor → dialer: accepted, the acceptor's link ids, and what it
    /// has delivered.
    Accept { link: LinkIds, delivered: Delivered },
    /// Either side: the connection is refused, and why (for the logs).
    Refuse { reason: String },
    /// A payload on a channel.
    Data {
        channel: ChannelId,
        seq: u64,
        payload: Bytes,
    },
    /// Cumulative acknowledgements: delivered through `seq`, per channel.
    Ack { through: Delivered },
    /// In-memory transport only, sent when a link comes up: what the
    /// sender has delivered; the receiver resends the rest.
    Resume { delivered: Delivered },
}

impl Frame {
    /// The frame's kind, for logs.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Frame::Hello(_) => "hello",
            Frame::Challenge { .. } => "challenge",
            Frame::Auth { .. } => "auth",
            Frame::Accept { .. } => "accept",
            Frame::Refuse { .. } => "refuse",
            Frame::Data { .. } => "data",
            Frame::Ack { .. } => "ack",
            Frame::Resume { .. } => "resume",
        }
    }
}
