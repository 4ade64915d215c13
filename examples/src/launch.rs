//! What every example binary does around its application: logging,
//! starting the node with its HTTP endpoint, and keeping it serving after
//! the run when asked to.
//!
//! Every binary takes `--http HOST:PORT`, defaulting to [`DEFAULT_HTTP`]: a
//! free port on loopback, so an example always has an endpoint and never
//! exposes it beyond the machine unless told to. The bound address is
//! logged at start as `serving HTTP addr=…`; a cluster member's as
//! `serving cluster addr=…`.

use std::net::SocketAddr;

use cairn::{Node, NodeArgs, NodeBuilder, NodeError};
use tracing_subscriber::EnvFilter;

/// What `--http` defaults to: loopback, a free port picked by the system.
pub const DEFAULT_HTTP: &str = NodeArgs::DEFAULT_HTTP;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Starts `builder`'s node, serving HTTP on `http` if given, and logs the
/// bound address and the epoch it resumed from, if any.
pub async fn start(builder: NodeBuilder, http: Option<SocketAddr>) -> Result<Node, NodeError> {
    let builder = match http {
        Some(addr) => builder.http(addr),
        None => builder,
    };
    let node = builder.start().await?;
    if let Some(addr) = node.http_addr() {
        tracing::info!(%addr, "serving HTTP");
    }
    if let Some(epoch) = node.recovered_from() {
        tracing::info!(epoch, "resumed from the last committed epoch");
    }
    Ok(node)
}

/// Starts `builder`'s node configured by the standard node flags (see
/// [`NodeArgs::configure`]), logging as [`start`] does, and the cluster
/// address when it is a member.
pub async fn start_with_flags(args: &NodeArgs, builder: NodeBuilder) -> Result<Node, NodeError> {
    let node = start(args.configure(builder), None).await?;
    match args.bind {
        Some(addr) => tracing::info!(%addr, seeds = ?args.seeds, "serving cluster"),
        None => tracing::info!("running alone (no --bind)"),
    }
    Ok(node)
}

/// For binaries whose run ends by itself: with `keep`, logs that the run
/// is over and waits for SIGINT or SIGTERM, so the node and its HTTP
/// endpoint stay up to be scraped and inspected; without it, returns at
/// once.
pub async fn keep_serving(node: &Node, keep: bool) {
    if !keep {
        return;
    }
    match node.http_addr() {
        Some(addr) => tracing::info!(%addr, "run finished; serving HTTP until SIGINT or SIGTERM"),
        None => tracing::info!("run finished; waiting for SIGINT or SIGTERM"),
    }
    wait_for_stop_signal().await;
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
