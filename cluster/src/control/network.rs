//! How a member reaches the others: the TCP transport and gossip over UDP,
//! or, for tests and simulation, an endpoint on a [`SimulatedNetwork`].

use std::net::SocketAddr;

use tokio::net::TcpListener;

use super::ClusterSettings;
use crate::error::NodeError;
use crate::membership::{GossipNetwork, Membership, MembershipConfig};
use crate::transport::{
    Events, MemberTransport, MemoryNetwork, NodeId, TcpTransport, TransportConfig,
};

/// **For tests and simulation.** The in-memory networks cluster members
/// run on instead of sockets ([`ClusterSettings::with_simulated_network`]):
/// the transport on a seeded, unreliable [`MemoryNetwork`] and gossip on
/// a [`GossipNetwork`]. A member is named by its `bind` address on both,
/// and nothing is bound on the host. Cheap to clone: clones are the same
/// networks.
#[derive(Clone, Debug)]
pub struct SimulatedNetwork {
    /// The network the cluster transport runs on.
    pub transport: MemoryNetwork,
    /// The network gossip runs on.
    pub gossip: GossipNetwork,
}

impl SimulatedNetwork {
    /// Cuts every message between members `a` and `b`, both ways, on the
    /// transport and gossip alike, until [`heal`](Self::heal).
    pub async fn cut(&self, a: SocketAddr, b: SocketAddr) {
        self.transport
            .cut(&NodeId::new(a.to_string()), &NodeId::new(b.to_string()));
        self.gossip.cut(a, b).await;
    }

    /// Lets messages between `a` and `b` through again, on both networks.
    pub async fn heal(&self, a: SocketAddr, b: SocketAddr) {
        self.transport
            .heal(&NodeId::new(a.to_string()), &NodeId::new(b.to_string()));
        self.gossip.heal(a, b).await;
    }
}

/// The transport this member sends on, its events, and the address it is
/// known by.
pub(super) struct Endpoint {
    pub(super) transport: MemberTransport,
    pub(super) events: Events,
    pub(super) bound: SocketAddr,
}

/// How many ports a member bound to port 0 tries before it gives up finding
/// one free for both TCP and UDP.
const FREE_PORT_ATTEMPTS: usize = 100;

/// A member's cluster port, bound once for the node's life: every
/// incarnation serves on a copy of the same listener, so the port is never
/// free for another socket to take between two incarnations.
#[derive(Debug)]
pub(crate) enum ClusterPort {
    /// The TCP listener (gossip binds the same port number over UDP).
    Bound(std::net::TcpListener),
    /// A name on a simulated network: nothing is bound.
    Simulated(SimulatedNetwork),
}

impl ClusterPort {
    /// Another handle on the same port.
    pub(crate) fn try_clone(&self) -> Result<Self, NodeError> {
        Ok(match self {
            ClusterPort::Bound(listener) => ClusterPort::Bound(
                listener
                    .try_clone()
                    .map_err(|error| NodeError::Cluster(format!("the cluster port: {error}")))?,
            ),
            ClusterPort::Simulated(network) => ClusterPort::Simulated(network.clone()),
        })
    }
}

/// Binds this member's cluster port before anything else of the node
/// starts, so that its name, the bound address, is known to the HTTP
/// endpoint's metrics: `settings.bind` becomes the address actually bound.
/// Bound to port 0, the member takes a port the system picks whose UDP
/// twin is free too, since gossip listens on the same number (gossip binds
/// it a moment later). On a simulated network the bind address is only a
/// name, and port 0 is refused.
pub(crate) fn bind_cluster_port(settings: &mut ClusterSettings) -> Result<ClusterPort, NodeError> {
    let asked = settings.bind;
    if let Some(simulated) = &settings.simulation {
        if asked.port() == 0 {
            return Err(NodeError::Cluster(format!(
                "{asked}: a member of a simulated network is named by its bind address, so it needs a port other than 0"
            )));
        }
        return Ok(ClusterPort::Simulated(simulated.clone()));
    }
    let cannot_listen = |error: std::io::Error| {
        NodeError::Cluster(format!(
            "cannot listen on {asked}: binding the cluster port: {error}"
        ))
    };
    let attempts = if asked.port() == 0 {
        FREE_PORT_ATTEMPTS
    } else {
        1
    };
    for _ in 0..attempts {
        let listener = std::net::TcpListener::bind(asked).map_err(cannot_listen)?;
        let bound = listener.local_addr().map_err(cannot_listen)?;
        if asked.port() == 0 && std::net::UdpSocket::bind(bound).is_err() {
            continue;
        }
        listener.set_nonblocking(true).map_err(cannot_listen)?;
        settings.bind = bound;
        return Ok(ClusterPort::Bound(listener));
    }
    Err(NodeError::Cluster(format!(
        "cannot listen on {asked}: no port of {FREE_PORT_ATTEMPTS} tried was free for both TCP and UDP"
    )))
}

/// Opens this member's transport endpoint on `port`: the TCP transport
/// serving a copy of its listener, or a fresh endpoint on the simulated
/// network (a new incarnation replaces the previous one there).
pub(super) fn open_transport(
    settings: &ClusterSettings,
    port: ClusterPort,
    config: TransportConfig,
) -> Result<Endpoint, NodeError> {
    match port {
        ClusterPort::Simulated(simulated) => {
            let node = NodeId::new(settings.bind.to_string());
            let (transport, events) = simulated.transport.endpoint(node, config);
            Ok(Endpoint {
                transport: MemberTransport::Memory(transport),
                events,
                bound: settings.bind,
            })
        }
        ClusterPort::Bound(listener) => {
            let cannot_serve = |error: &dyn std::fmt::Display| {
                NodeError::Cluster(format!("cannot serve on {}: {error}", settings.bind))
            };
            let listener = TcpListener::from_std(listener).map_err(|error| cannot_serve(&error))?;
            let bound = listener
                .local_addr()
                .map_err(|error| cannot_serve(&error))?;
            let (transport, events) =
                TcpTransport::serve_on(listener, config).map_err(|error| cannot_serve(&error))?;
            Ok(Endpoint {
                transport: MemberTransport::Tcp(transport),
                events,
                bound,
            })
        }
    }
}

/// Starts gossip: over UDP on a thread of its own, or on the simulated
/// network on the current runtime.
pub(super) async fn start_gossip(
    settings: &ClusterSettings,
    config: MembershipConfig,
) -> Result<Membership, NodeError> {
    let listen = config.listen;
    let started = match &settings.simulation {
        Some(simulated) => Membership::start_in_memory(config, &simulated.gossip).await,
        None => Membership::start_on_own_thread(config).await,
    };
    started.map_err(|error| NodeError::Cluster(format!("cannot gossip on {listen}: {error}")))
}
