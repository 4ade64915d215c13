//! [`TcpTransport`]: the transport on real sockets. A listener accepts
//! peers; for each known peer with a higher [`NodeId`] a dialer keeps one
//! connection up, so each node pair has one connection, dialed by its
//! lower id.

mod connection;
pub(crate) mod peers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio_util::codec::Framed;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::codec::FrameCodec;
use super::config::TransportConfig;
use super::error::{Refusal, TransportError};
use super::events::Events;
use super::handshake::{self, HandshakeError, Wire};
use super::identity::{ChannelId, Generation, Incarnation, NodeId};
use super::metrics::register_transport_metrics;
use super::Transport;
use peers::Shared;

/// The TCP transport of one node. Cheap to clone.
#[derive(Clone)]
pub struct TcpTransport {
    shared: Arc<Shared>,
    /// Stops every task when the last handle is dropped: the tasks hold
    /// `shared`, so its own drop would never come.
    _stop: Arc<DropGuard>,
    local_addr: SocketAddr,
}

impl std::fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpTransport")
            .field("node", &self.shared.local)
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl TcpTransport {
    /// Listens on `addr` and names this node by the bound address (so
    /// port 0 works). Logs a warning if no secret is configured.
    pub async fn bind(
        addr: impl ToSocketAddrs,
        config: TransportConfig,
    ) -> Result<(Self, Events), TransportError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(TransportError::Bind)?;
        Self::serve_on(listener, config)
    }

    /// Serves on `listener`, bound already, and names this node by its
    /// address. Logs a warning if no secret is configured.
    pub fn serve_on(
        listener: TcpListener,
        config: TransportConfig,
    ) -> Result<(Self, Events), TransportError> {
        let local = NodeId::new(
            listener
                .local_addr()
                .map_err(TransportError::Bind)?
                .to_string(),
        );
        Self::serve(listener, local, config)
    }

    /// Listens on `addr` and names this node `node`, the address peers
    /// reach it at (when it differs from the bound one, behind NAT say).
    pub async fn bind_as(
        addr: impl ToSocketAddrs,
        node: NodeId,
        config: TransportConfig,
    ) -> Result<(Self, Events), TransportError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(TransportError::Bind)?;
        Self::serve(listener, node, config)
    }

    fn serve(
        listener: TcpListener,
        local: NodeId,
        config: TransportConfig,
    ) -> Result<(Self, Events), TransportError> {
        let local_addr = listener.local_addr().map_err(TransportError::Bind)?;
        if config.secret.is_none() {
            tracing::warn!(node = %local, "no cluster secret configured: the cluster port is unauthenticated");
        }
        register_transport_metrics(&local);
        let (events_tx, events) = Events::channel();
        let shared = Arc::new(Shared::new(config, local, events_tx));
        shared.spawn(listen(Arc::clone(&shared), listener));
        let stop = Arc::new(shared.cancel.clone().drop_guard());
        Ok((
            Self {
                shared,
                _stop: stop,
                local_addr,
            },
            events,
        ))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether a connection to `peer` is up.
    pub fn is_connected(&self, peer: &NodeId) -> bool {
        self.shared.is_connected(peer)
    }

    /// Closes the current connection to `peer` without forgetting it: the
    /// dialing side reconnects, and unacknowledged messages are sent again.
    /// For operators and fault-injection tests.
    pub fn disconnect(&self, peer: &NodeId) {
        self.shared.disconnect(peer);
    }
}

impl Transport for TcpTransport {
    fn local_node(&self) -> &NodeId {
        &self.shared.local
    }

    fn incarnation(&self) -> Incarnation {
        self.shared.incarnation()
    }

    fn add_peer(&self, peer: NodeId) {
        if let Some(token) = self.shared.add_peer(&peer) {
            self.shared
                .spawn(dial(Arc::clone(&self.shared), peer, token));
        }
    }

    fn remove_peer(&self, peer: &NodeId, life: Incarnation) {
        self.shared.remove_peer(peer, life);
    }

    fn send(
        &self,
        peer: &NodeId,
        channel: ChannelId,
        payload: Bytes,
    ) -> Result<(), TransportError> {
        self.add_peer(peer.clone());
        self.shared.send(peer, channel, payload)
    }

    fn backlog(&self) -> usize {
        self.shared.backlog()
    }

    fn set_generation(&self, generation: Generation) {
        self.shared.raise_generation(generation);
    }

    async fn shutdown(&self) {
        self.shared.shutdown().await;
    }
}

fn wire(shared: &Shared, stream: TcpStream) -> Wire {
    // Frames are small and latency matters more than packet count.
    let _ = stream.set_nodelay(true);
    Framed::new(
        stream,
        FrameCodec::new(shared.config.max_frame, shared.counters.clone()),
    )
}

/// Accepts peers until shut down; a bad peer never stops the loop.
async fn listen(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                let task = inbound(Arc::clone(&shared), stream, remote.to_string());
                shared.spawn(task);
            }
            Err(error) => {
                // Out of file descriptors and the like: wait, keep serving.
                tracing::warn!(node = %shared.local, %error, "accepting a cluster connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn inbound(shared: Arc<Shared>, stream: TcpStream, remote: String) {
    let mut wire = wire(&shared, stream);
    let timeout = shared.config.handshake_timeout;
    match tokio::time::timeout(timeout, handshake::accept(&shared, &mut wire)).await {
        Ok(Ok(established)) => connection::run(shared, established, wire, remote).await,
        Ok(Err(error)) => handshake_failed(&shared, &remote, error),
        Err(_) => shared.refused(&remote, Refusal::Timeout, "no handshake in time"),
    }
}

/// Keeps a connection to `peer` up until cancelled, redialing with
/// doubling pauses after failures.
async fn dial(shared: Arc<Shared>, peer: NodeId, cancel: CancellationToken) {
    let mut pause = shared.config.redial_delay;
    while !cancel.is_cancelled() {
        let attempt = async {
            let stream = TcpStream::connect(peer.as_str()).await?;
            let mut wire = wire(&shared, stream);
            let timeout = shared.config.handshake_timeout;
            match tokio::time::timeout(timeout, handshake::dial(&shared, &peer, &mut wire)).await {
                Ok(Ok(established)) => Ok(Some((established, wire))),
                Ok(Err(error)) => {
                    handshake_failed(&shared, peer.as_str(), error);
                    Ok(None)
                }
                Err(_) => {
                    shared.refused(peer.as_str(), Refusal::Timeout, "no handshake in time");
                    Ok(None)
                }
            }
        };
        let result: std::io::Result<_> = tokio::select! {
            () = cancel.cancelled() => return,
            result = attempt => result,
        };
        match result {
            Ok(Some((established, wire))) => {
                pause = shared.config.redial_delay;
                // Ends when the connection fails or is closed, by
                // `remove_peer` and shutdown too.
                connection::run(Arc::clone(&shared), established, wire, peer.to_string()).await;
            }
            Ok(None) => {}
            Err(error) => tracing::debug!(node = %shared.local, %peer, %error, "dialing failed"),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(shared.config.max_redial_delay);
    }
}

fn handshake_failed(shared: &Shared, remote: &str, error: HandshakeError) {
    match error {
        HandshakeError::Io(error) => {
            tracing::debug!(node = %shared.local, %remote, %error, "cluster handshake aborted");
        }
        HandshakeError::Refused(reason, detail) => shared.refused(remote, reason, &detail),
    }
}
