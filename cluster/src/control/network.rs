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

/// Binds this member's cluster port before anything else of the node
/// starts, so that its name, the bound address, is known to the HTTP
/// endpoint's metrics and kept for its later incarnations: `settings.bind`
/// becomes the address actually bound. Bound to port 0, the member takes a
/// port the system picks whose UDP twin is free too, since gossip listens
/// on the same number. Nothing is bound on a simulated network.
pub(crate) async fn bind_cluster_port(
    settings: &mut ClusterSettings,
) -> Result<Option<TcpListener>, NodeError> {
    if settings.simulation.is_some() {
        return Ok(None);
    }
    let asked = settings.bind;
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
        let listener = TcpListener::bind(asked).await.map_err(cannot_listen)?;
        let bound = listener.local_addr().map_err(cannot_listen)?;
        if asked.port() == 0 && std::net::UdpSocket::bind(bound).is_err() {
            continue;
        }
        settings.bind = bound;
        return Ok(Some(listener));
    }
    Err(NodeError::Cluster(format!(
        "cannot listen on {asked}: no port of {FREE_PORT_ATTEMPTS} tried was free for both TCP and UDP"
    )))
}

/// Opens this member's transport endpoint: on `listener` if the cluster
/// port is bound already ([`bind_cluster_port`]), else a TCP listener on
/// the bind address, or a fresh endpoint on the simulated network (a new
/// incarnation replaces the previous one there).
pub(super) async fn open_transport(
    settings: &ClusterSettings,
    listener: Option<TcpListener>,
    config: TransportConfig,
) -> Result<Endpoint, NodeError> {
    if let Some(simulated) = &settings.simulation {
        let node = NodeId::new(settings.bind.to_string());
        let (transport, events) = simulated.transport.endpoint(node, config);
        return Ok(Endpoint {
            transport: MemberTransport::Memory(transport),
            events,
            bound: settings.bind,
        });
    }
    let (transport, events) = match listener {
        Some(listener) => TcpTransport::serve_on(listener, config),
        None => TcpTransport::bind(settings.bind, config).await,
    }
    .map_err(|error| NodeError::Cluster(format!("cannot listen on {}: {error}", settings.bind)))?;
    Ok(Endpoint {
        transport: MemberTransport::Tcp(transport),
        events,
        bound: settings.bind,
    })
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
