//! A cluster member that outlives its incarnations: when the member finds
//! it was cut off (frozen or partitioned past the failure timeout), it
//! stops what it ran, uncommitted state and all, and joins again as a new
//! incarnation on the same address, its frames and writes from before
//! refused by generation (SNAPSHOTS §3.9 rule 31).

use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use tokio::task::JoinHandle;

use super::{Cluster, ClusterPort, ClusterSettings, MemberSetup};
use crate::error::NodeError;

/// How long to wait before trying to join again after a failed attempt.
const RETRY: Duration = Duration::from_secs(1);

/// This node's membership across incarnations.
pub(crate) struct ClusterNode {
    current: Arc<RwLock<Arc<Cluster>>>,
    registry: cairn_core::Registry,
    store: cairn_persistence::Store,
    supervisor: parking_lot::Mutex<Option<JoinHandle<()>>>,
    /// The cluster port, held for the node's life so that every
    /// incarnation serves on it; released when the node stops.
    port: Arc<parking_lot::Mutex<Option<ClusterPort>>>,
}

impl ClusterNode {
    /// Joins the cluster on `port`, bound already
    /// ([`super::bind_cluster_port`]), and watches for being cut off from
    /// then on; later incarnations serve on the same port.
    pub(crate) async fn join(
        settings: ClusterSettings,
        port: ClusterPort,
        setup: MemberSetup,
    ) -> Result<Self, NodeError> {
        let (registry, store) = (setup.blueprint.registry.clone(), setup.store.clone());
        let first = Cluster::join(settings.clone(), port.try_clone()?, setup.clone()).await?;
        let current = Arc::new(RwLock::new(Arc::new(first)));
        let port = Arc::new(parking_lot::Mutex::new(Some(port)));
        let supervisor = tokio::spawn(supervise(current.clone(), port.clone(), settings, setup));
        Ok(Self {
            current,
            registry,
            store,
            supervisor: parking_lot::Mutex::new(Some(supervisor)),
            port,
        })
    }

    /// Stops rejoining and releases the cluster port (the running
    /// incarnation keeps serving on its own copy until it stops).
    fn stop_rejoining(&self) {
        if let Some(supervisor) = self.supervisor.lock().take() {
            supervisor.abort();
        }
        drop(self.port.lock().take());
    }

    /// The member's current incarnation.
    pub(crate) fn current(&self) -> Arc<Cluster> {
        self.current.read().clone()
    }

    /// The registered functions.
    pub(crate) fn registry(&self) -> &cairn_core::Registry {
        &self.registry
    }

    /// The store the cluster shares.
    pub(crate) fn store(&self) -> &cairn_persistence::Store {
        &self.store
    }

    /// Leaves gracefully ([`Cluster::leave`]) and stops rejoining.
    pub(crate) async fn leave(&self, patience: Duration) {
        self.stop_rejoining();
        self.current().leave(patience).await;
    }

    /// Stops at once without leaving and stops rejoining, as a crash would
    /// (for tests and simulation).
    pub(crate) async fn crash(&self) {
        self.stop_rejoining();
        self.current().stop(false).await;
    }
}

impl std::fmt::Debug for ClusterNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterNode")
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

/// Replaces the incarnation each time it finds it was cut off.
async fn supervise(
    current: Arc<RwLock<Arc<Cluster>>>,
    port: Arc<parking_lot::Mutex<Option<ClusterPort>>>,
    settings: ClusterSettings,
    setup: MemberSetup,
) {
    loop {
        let cluster = current.read().clone();
        cluster.cut_off().await;
        tracing::error!(
            "cut off from the cluster: dropping this node's uncommitted state and rejoining as a new incarnation"
        );
        cluster.stop(false).await;
        let next = loop {
            let Some(copy) = port.lock().as_ref().map(ClusterPort::try_clone) else {
                return;
            };
            let joined = match copy {
                Ok(copy) => Cluster::join(settings.clone(), copy, setup.clone()).await,
                Err(error) => Err(error),
            };
            match joined {
                Ok(next) => break next,
                Err(error) => {
                    tracing::warn!(%error, "rejoining failed; trying again");
                    tokio::time::sleep(RETRY).await;
                }
            }
        };
        tracing::info!("rejoined the cluster as a new incarnation");
        *current.write() = Arc::new(next);
    }
}
