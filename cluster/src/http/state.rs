//! What every request handler shares.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use parking_lot::Mutex;

use super::error::ApiError;
use super::idempotency::IdempotencyTable;
use super::metrics::EpochTally;
use crate::Node;

/// Where the node is in its life, as the health probes report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// The endpoint is up; the node is still recovering and starting
    /// (`NodeBuilder::start` has not returned yet).
    Starting = 0,
    /// The node has started and takes traffic.
    Ready = 1,
    /// `Node::shutdown` has begun.
    Stopping = 2,
}

/// The node's phase, shared by the handlers and the node handle.
#[derive(Clone, Debug, Default)]
pub(crate) struct PhaseCell(Arc<AtomicU8>);

impl PhaseCell {
    pub(crate) fn get(&self) -> Phase {
        match self.0.load(Ordering::Acquire) {
            0 => Phase::Starting,
            1 => Phase::Ready,
            _ => Phase::Stopping,
        }
    }

    pub(crate) fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::Release);
    }
}

/// The state behind `web::Data` in every handler.
pub(crate) struct AppState {
    /// The node, without its HTTP handle (the server must not own itself);
    /// set once it has recovered and started. The endpoint serves before
    /// that, so probes see the start.
    pub(crate) node: Arc<OnceLock<Node>>,
    /// This node's id in views and metric labels: the bound address.
    pub(crate) node_id: String,
    /// The address the endpoint is bound to.
    pub(crate) addr: SocketAddr,
    /// When the node started, in seconds since the Unix epoch.
    pub(crate) started_at_unix_secs: u64,
    /// Where the node is in its life.
    pub(crate) phase: PhaseCell,
    /// The bearer token, if one is required.
    pub(crate) token: Option<String>,
    /// The largest invoke body accepted, in bytes.
    pub(crate) body_limit: usize,
    /// The default timeout of `?ask=true`.
    pub(crate) ask_timeout: Duration,
    /// Responses remembered by `Idempotency-Key`.
    pub(crate) idempotency: IdempotencyTable,
    /// The Prometheus recorder's handle, or why there is none.
    pub(crate) metrics: Result<PrometheusHandle, String>,
    /// How much of the snapshot history the metrics have counted.
    pub(crate) epochs: Mutex<EpochTally>,
}

impl AppState {
    /// The node, or `NotReady` (503) while it is still starting.
    pub(crate) fn node(&self) -> Result<&Node, ApiError> {
        self.node.get().ok_or(ApiError::NotReady)
    }
}
