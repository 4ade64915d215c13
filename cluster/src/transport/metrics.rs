//! The transport's metrics, through the `metrics` facade, each with a
//! `node` label.

use metrics::{counter, describe_counter, Counter, Unit};

use super::error::Refusal;
use super::identity::NodeId;

/// Bytes written to peers, length prefixes included.
pub const BYTES_SENT: &str = "cairn_transport_bytes_sent_total";
/// Bytes read from peers, length prefixes included.
pub const BYTES_RECEIVED: &str = "cairn_transport_bytes_received_total";
/// Frames written to peers.
pub const FRAMES_SENT: &str = "cairn_transport_frames_sent_total";
/// Frames read from peers.
pub const FRAMES_RECEIVED: &str = "cairn_transport_frames_received_total";
/// Connections to a peer established after the first one.
pub const RECONNECTS: &str = "cairn_transport_reconnects_total";
/// Connections refused or closed for bad input, by `reason`.
pub const CONNECTIONS_REFUSED: &str = "cairn_transport_connections_refused_total";

/// Describes the transport's metrics to the installed recorder. Call once
/// after installing it.
pub fn describe_transport_metrics() {
    describe_counter!(BYTES_SENT, Unit::Bytes, "Bytes written to cluster peers.");
    describe_counter!(
        BYTES_RECEIVED,
        Unit::Bytes,
        "Bytes read from cluster peers."
    );
    describe_counter!(FRAMES_SENT, "Frames written to cluster peers.");
    describe_counter!(FRAMES_RECEIVED, "Frames read from cluster peers.");
    describe_counter!(
        RECONNECTS,
        "Connections to a cluster peer established after the first."
    );
    describe_counter!(
        CONNECTIONS_REFUSED,
        "Cluster connections refused or closed for bad input, by reason."
    );
}

/// Registers every transport series of `node` at zero, so the first scrape
/// lists them all.
pub fn register_transport_metrics(node: &NodeId) {
    for name in [
        BYTES_SENT,
        BYTES_RECEIVED,
        FRAMES_SENT,
        FRAMES_RECEIVED,
        RECONNECTS,
    ] {
        counter!(name, "node" => node.to_string()).absolute(0);
    }
    for reason in Refusal::ALL {
        refused_counter(node, reason).absolute(0);
    }
}

/// The refusal counter of `node` for `reason`.
pub(crate) fn refused_counter(node: &NodeId, reason: Refusal) -> Counter {
    counter!(CONNECTIONS_REFUSED, "node" => node.to_string(), "reason" => reason.label())
}

/// The counters one node's codecs update, resolved once.
#[derive(Clone)]
pub(crate) struct WireCounters {
    pub(crate) bytes_sent: Counter,
    pub(crate) bytes_received: Counter,
    pub(crate) frames_sent: Counter,
    pub(crate) frames_received: Counter,
    pub(crate) reconnects: Counter,
}

impl WireCounters {
    pub(crate) fn new(node: &NodeId) -> Self {
        let label = || node.to_string();
        Self {
            bytes_sent: counter!(BYTES_SENT, "node" => label()),
            bytes_received: counter!(BYTES_RECEIVED, "node" => label()),
            frames_sent: counter!(FRAMES_SENT, "node" => label()),
            frames_received: counter!(FRAMES_RECEIVED, "node" => label()),
            reconnects: counter!(RECONNECTS, "node" => label()),
        }
    }
}
