//! What a node needs to join a cluster: where it listens, whom it asks
//! first, which cluster it belongs to and the shared secret.

use std::net::SocketAddr;

use super::SimulatedNetwork;
use crate::transport::{Secret, DEFAULT_MAX_FRAME};

/// The cluster id a node uses unless told otherwise.
pub const DEFAULT_CLUSTER_ID: &str = "cairn";

/// The least value [`ClusterSettings::max_frame`] may take: room for the
/// control messages that carry a shard map or an epoch's parts.
pub const MIN_MAX_FRAME: usize = 64 * 1024;

/// The greatest value [`ClusterSettings::max_frame`] may take: a frame's
/// length prefix is 32 bits.
pub const MAX_MAX_FRAME: usize = u32::MAX as usize;

/// How a node joins a cluster ([`crate::NodeBuilder::cluster`]).
///
/// The node listens on `bind` for the cluster transport (TCP) and for
/// gossip (UDP, the same port number), and names itself by that address;
/// with a [`SimulatedNetwork`] it only names itself by it.
#[derive(Clone, Debug)]
pub struct ClusterSettings {
    /// The address the node listens on and is known by. Port 0: a port
    /// the system picks, free for both TCP and UDP, held for the node's
    /// whole life ([`crate::Node::cluster_addr`] tells it); refused on a
    /// simulated network, where `bind` is only the member's name.
    pub bind: SocketAddr,
    /// Members' `bind` addresses to gossip with first (`HOST:PORT`); the
    /// node's own address may be among them. Empty: the node starts a
    /// cluster of its own, which others join through it.
    pub seeds: Vec<String>,
    /// The cluster's name: nodes of another cluster are refused.
    pub cluster_id: String,
    /// The shared secret nodes authenticate each other with; `None` leaves
    /// the cluster port unauthenticated, and the node logs a warning.
    pub secret: Option<Secret>,
    /// The largest frame the transport sends or takes, in bytes (16 MiB
    /// by default; from [`MIN_MAX_FRAME`] to [`MAX_MAX_FRAME`]). A message
    /// or reply larger than fits in one cannot cross between members: a
    /// send is refused with
    /// `Error::MessageTooLarge`, a tell from an actor becomes a dead letter
    /// at its destination, a reply an error to its caller. Every member
    /// must use the same value: a node that finds a member with another
    /// refuses to join, as it does for another shard count.
    pub max_frame: usize,
    /// **For tests and simulation**: run the transport and gossip on these
    /// in-memory networks instead of sockets, `bind` naming the member on
    /// them. `None` (the default): TCP and UDP on `bind`.
    pub simulation: Option<SimulatedNetwork>,
}

impl ClusterSettings {
    /// A member listening on `bind`, joining through `seeds`, of the
    /// default cluster, with no secret.
    pub fn new<S: Into<String>>(bind: SocketAddr, seeds: impl IntoIterator<Item = S>) -> Self {
        Self {
            bind,
            seeds: seeds.into_iter().map(Into::into).collect(),
            cluster_id: DEFAULT_CLUSTER_ID.to_owned(),
            secret: None,
            max_frame: DEFAULT_MAX_FRAME,
            simulation: None,
        }
    }

    /// The same settings in cluster `cluster_id`.
    pub fn with_cluster_id(mut self, cluster_id: impl Into<String>) -> Self {
        self.cluster_id = cluster_id.into();
        self
    }

    /// The same settings with this shared secret.
    pub fn with_secret(mut self, secret: Option<Secret>) -> Self {
        self.secret = secret;
        self
    }

    /// The same settings with frames of at most `bytes` bytes
    /// ([`ClusterSettings::max_frame`]).
    pub fn with_max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// Why these settings cannot start a node, if they cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !(MIN_MAX_FRAME..=MAX_MAX_FRAME).contains(&self.max_frame) {
            return Err(format!(
                "the largest frame must be between {MIN_MAX_FRAME} and {MAX_MAX_FRAME} bytes, not {}",
                self.max_frame
            ));
        }
        Ok(())
    }

    /// **For tests and simulation**: the same settings on the in-memory
    /// `network` ([`SimulatedNetwork`]) instead of sockets. Every member of
    /// the cluster must be on the same network; `bind` and the seeds are
    /// names on it, and a member that rejoins gets a fresh endpoint (a new
    /// incarnation) on it.
    pub fn with_simulated_network(mut self, network: SimulatedNetwork) -> Self {
        self.simulation = Some(network);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest frame is checked against its bounds, both included.
    #[test]
    fn the_largest_frame_is_checked() {
        let settings = |max_frame| {
            ClusterSettings::new("127.0.0.1:0".parse().unwrap(), ["127.0.0.1:1"])
                .with_max_frame(max_frame)
        };
        for fits in [MIN_MAX_FRAME, DEFAULT_MAX_FRAME, MAX_MAX_FRAME] {
            assert_eq!(settings(fits).check(), Ok(()), "{fits}");
        }
        for refused in [0, 72, MIN_MAX_FRAME - 1, MAX_MAX_FRAME + 1] {
            let error = settings(refused).check().unwrap_err();
            assert!(error.contains(&refused.to_string()), "{error}");
        }
    }
}
