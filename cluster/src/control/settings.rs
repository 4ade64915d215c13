//! What a node needs to join a cluster: where it listens, whom it asks
//! first, which cluster it belongs to and the shared secret.

use std::net::SocketAddr;

use super::SimulatedNetwork;
use crate::transport::{Secret, DEFAULT_MAX_FRAME};

/// The cluster id a node uses unless told otherwise.
pub const DEFAULT_CLUSTER_ID: &str = "cairn";

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
    /// by default). A message or reply larger than fits in one cannot
    /// cross between members: a send is refused with
    /// `Error::MessageTooLarge`, a tell from an actor becomes a dead letter
    /// at its destination, a reply an error to its caller. Every member
    /// must use the same value: a frame over the receiver's own limit
    /// closes the connection.
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
