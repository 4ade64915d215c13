//! The node-to-node transport alone between the same two processes: a
//! member child echoes every message on it, so an ask's round trip can
//! be split into what the transport costs and what the node adds.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Result};
use bytes::Bytes;
use cairn::transport::{
    ChannelId, Events, NodeId, Secret, TcpTransport, Transport, TransportConfig, TransportEvent,
};
use tokio::task::JoinHandle;

/// The channel requests travel on; answers come back on its reverse.
const FORTH: ChannelId = ChannelId { src: 1, dst: 2 };
const BACK: ChannelId = ChannelId { src: 2, dst: 1 };

fn config() -> TransportConfig {
    TransportConfig::new("bench-transport").with_secret(Some(Secret::new("bench-transport-secret")))
}

/// Binds a transport on `ip` that echoes every message back to its
/// sender: its address, and the task that echoes (the caller owns it).
pub(crate) async fn serve(ip: IpAddr) -> Result<(SocketAddr, JoinHandle<()>)> {
    let (transport, mut events) = TcpTransport::bind(SocketAddr::new(ip, 0), config()).await?;
    let addr = transport.local_addr();
    let task = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let TransportEvent::Message(delivery) = event {
                if let Err(error) = transport.send(&delivery.from, BACK, delivery.payload) {
                    tracing::warn!(%error, "transport echo not sent");
                }
            }
        }
    });
    Ok((addr, task))
}

/// A transport connected to a member's transport echo.
pub(crate) struct TransportEcho {
    transport: TcpTransport,
    events: Events,
    peer: NodeId,
    payload: Bytes,
}

impl TransportEcho {
    /// Binds a transport on 127.0.0.1 and connects it to the echo at
    /// `echo`, for messages of `payload` bytes.
    pub(crate) async fn connect(echo: SocketAddr, payload: usize) -> Result<Self> {
        let (transport, events) = TcpTransport::bind("127.0.0.1:0", config()).await?;
        let peer = NodeId::new(echo.to_string());
        transport.add_peer(peer.clone());
        let deadline = Instant::now() + Duration::from_secs(10);
        while !transport.is_connected(&peer) {
            ensure!(
                Instant::now() < deadline,
                "the transport echo at {echo} never connected"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(Self {
            transport,
            events,
            peer,
            payload: Bytes::from(vec![7u8; payload]),
        })
    }

    /// One message there and its echo back: how long it took.
    pub(crate) async fn round_trip(&mut self) -> Result<Duration> {
        let started = Instant::now();
        self.transport
            .send(&self.peer, FORTH, self.payload.clone())?;
        loop {
            match self.events.recv().await {
                Some(TransportEvent::Message(delivery)) => {
                    ensure!(delivery.payload.len() == self.payload.len(), "a short echo");
                    return Ok(started.elapsed());
                }
                Some(_) => {}
                None => bail!("the transport stopped"),
            }
        }
    }

    /// Stops the transport.
    pub(crate) async fn shutdown(self) {
        self.transport.shutdown().await;
    }
}
