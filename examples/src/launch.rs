//! What every example binary does before its application starts: logging,
//! and starting the node with its HTTP endpoint when one was asked for.

use std::net::SocketAddr;

use cairn::{Node, NodeBuilder, NodeError};
use tracing_subscriber::EnvFilter;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Starts `builder`'s node, serving HTTP on `http` if given, and logs the
/// bound address.
pub async fn start(builder: NodeBuilder, http: Option<SocketAddr>) -> Result<Node, NodeError> {
    let builder = match http {
        Some(addr) => builder.http(addr),
        None => builder,
    };
    let node = builder.start().await?;
    if let Some(addr) = node.http_addr() {
        tracing::info!(%addr, "serving HTTP");
    }
    Ok(node)
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM.
pub async fn wait_for_stop_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; stopping"),
        _ = terminate.recv() => tracing::info!("terminated; stopping"),
    }
}
