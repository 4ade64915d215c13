//! Starting and stopping the endpoint on a thread of its own.

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{web, App};
use metrics_exporter_prometheus::PrometheusHandle;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::app::configure;
use super::idempotency::{IdempotencyTable, DEFAULT_CAPACITY, DEFAULT_TTL};
use super::metrics::{record_recovery, record_request, recorder, register_at_zero, EpochTally};
use super::state::{AppState, Phase, PhaseCell};
use super::DEFAULT_BODY_LIMIT;
use crate::Node;
use cairn_core::{Registry, ShardCount};

/// How long a graceful stop waits for requests in flight.
const SHUTDOWN_TIMEOUT_SECS: u64 = 5;
/// How often histogram samples are folded into their buckets between
/// scrapes, so an unscraped endpoint does not buffer them without bound.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// How the endpoint is configured, from the `NodeBuilder`.
#[derive(Clone)]
pub(crate) struct HttpSettings {
    /// Where to listen; `None` runs no endpoint.
    pub(crate) addr: Option<SocketAddr>,
    /// The bearer token invoke (and protected reads) require.
    pub(crate) token: Option<String>,
    /// Whether `/metrics` and the `/v1` views require the token too.
    pub(crate) protect_reads: bool,
    /// The largest invoke body, in bytes.
    pub(crate) body_limit: usize,
    /// The node's name in the `node` label of every series: a cluster
    /// member's cluster address, as its transport series carry it; by
    /// default the HTTP address.
    pub(crate) node_id: Option<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            addr: None,
            token: None,
            protect_reads: false,
            body_limit: DEFAULT_BODY_LIMIT,
            node_id: None,
        }
    }
}

impl HttpSettings {
    /// Checks that the settings make sense together.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.token.as_deref().is_some_and(str::is_empty) {
            return Err("the HTTP token must not be empty".into());
        }
        if self.protect_reads && self.token.is_none() {
            return Err("protecting HTTP reads needs an HTTP token".into());
        }
        if self.body_limit == 0 {
            return Err("the HTTP body limit must be at least 1 byte".into());
        }
        Ok(())
    }
}

impl fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSettings")
            .field("addr", &self.addr)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("protect_reads", &self.protect_reads)
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

/// The running endpoint, owned by the node handle.
pub(crate) struct HttpServer {
    addr: SocketAddr,
    phase: PhaseCell,
    /// The node the handlers serve, set by [`HttpServer::attach`].
    node: Arc<OnceLock<Node>>,
    node_id: String,
    running: Mutex<Option<Running>>,
}

/// What stopping waits for.
struct Running {
    server: ServerHandle,
    thread: JoinHandle<()>,
}

impl HttpServer {
    /// Binds `addr` and serves on a new thread, before the node exists:
    /// while it recovers and starts, `/healthz` answers 200, `/readyz` and
    /// every view 503 `not_ready`. [`HttpServer::attach`] hands it the node.
    /// Every metric series is registered at zero here, from the node's
    /// shard count and functions.
    pub(crate) async fn start(
        addr: SocketAddr,
        settings: HttpSettings,
        ask_timeout: Duration,
        shard_count: ShardCount,
        registry: &Registry,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let metrics = recorder();
        if let Err(reason) = &metrics {
            tracing::warn!(%reason, "no Prometheus recorder: /metrics will answer 500");
        }
        let node_id = settings.node_id.clone().unwrap_or_else(|| addr.to_string());
        register_at_zero(&node_id, shard_count, registry);
        let phase = PhaseCell::default();
        let node = Arc::new(OnceLock::new());
        let state = web::Data::new(AppState {
            node: node.clone(),
            node_id: node_id.clone(),
            addr,
            started_at_unix_secs: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs()),
            phase: phase.clone(),
            token: settings.token,
            body_limit: settings.body_limit,
            ask_timeout,
            idempotency: IdempotencyTable::new(DEFAULT_CAPACITY, DEFAULT_TTL),
            metrics: metrics.clone(),
            epochs: Mutex::new(EpochTally::default()),
        });
        let protect_reads = settings.protect_reads;
        let (started, handle) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("cairn-http".into())
            .spawn(move || serve(listener, state, protect_reads, metrics.ok(), started))?;
        match handle.await {
            Ok(Ok(server)) => Ok(Self {
                addr,
                phase,
                node,
                node_id,
                running: Mutex::new(Some(Running { server, thread })),
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => {
                let _ = thread.join();
                Err(std::io::Error::other(
                    "the HTTP thread ended before it started serving",
                ))
            }
        }
    }

    /// The address the endpoint is bound to.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Hands the endpoint its node, which has recovered and started: the
    /// views serve it and `/readyz` answers 200 from now on. The node given
    /// must not hold this server (it would own itself).
    pub(crate) fn attach(&self, node: Node) {
        record_recovery(&self.node_id, node.recovered_from().is_some());
        if self.node.set(node).is_err() {
            tracing::error!("the HTTP endpoint was given a node twice; this is a bug");
        }
        self.phase.set(Phase::Ready);
    }

    /// Stops accepting connections, lets requests in flight finish (up to
    /// a few seconds) and joins the thread. Idempotent.
    pub(crate) async fn shutdown(&self) {
        self.phase.set(Phase::Stopping);
        let Some(running) = self.running.lock().take() else {
            return;
        };
        running.server.stop(true).await;
        let thread = running.thread;
        if tokio::task::spawn_blocking(move || thread.join())
            .await
            .is_err()
        {
            tracing::error!("the HTTP thread could not be joined");
        }
    }
}

impl Drop for HttpServer {
    /// A node dropped without `shutdown` still stops its endpoint.
    fn drop(&mut self) {
        if let Some(running) = self.running.get_mut().take() {
            // `stop` sends the command at once; the future only waits for
            // the answer, which joining the thread waits for too.
            drop(running.server.stop(false));
            let _ = running.thread.join();
        }
    }
}

impl fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .field("phase", &self.phase.get())
            .finish_non_exhaustive()
    }
}

/// The HTTP thread: an actix system running the server with one worker,
/// and the recorder's upkeep, until the server is stopped.
fn serve(
    listener: TcpListener,
    state: web::Data<AppState>,
    protect_reads: bool,
    metrics: Option<PrometheusHandle>,
    started: oneshot::Sender<std::io::Result<ServerHandle>>,
) {
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let server = actix_web::HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(from_fn(record_request))
                .configure(|config| configure(config, protect_reads))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .listen(listener);
        let server = match server {
            Ok(server) => server.run(),
            Err(error) => {
                let _ = started.send(Err(error));
                return;
            }
        };
        if started.send(Ok(server.handle())).is_err() {
            // The node gave up waiting; nobody will ever stop the server.
            server.handle().stop(false).await;
        }
        let upkeep = async {
            let mut interval = tokio::time::interval(UPKEEP_INTERVAL);
            loop {
                interval.tick().await;
                if let Some(metrics) = &metrics {
                    metrics.run_upkeep();
                }
            }
        };
        tokio::select! {
            served = server => if let Err(error) = served {
                tracing::error!(%error, "the HTTP server failed");
            },
            () = upkeep => {}
        }
    });
}
