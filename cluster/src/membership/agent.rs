//! The running membership agent: chitchat's gossip server plus a task
//! that turns its state into [`MembershipView`]s.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chitchat::transport::{Transport, UdpTransport};
use chitchat::{spawn_chitchat, Chitchat, ChitchatHandle, ChitchatId, NodeState};
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use super::config::MembershipConfig;
use super::error::MembershipError;
use super::metadata::{NodeMetadata, LEAVING_KEY};
use super::network::GossipNetwork;
use super::view::{build_view, GossipEntry, Member, MembershipView};
use crate::transport::{Incarnation, NodeId};

/// This node's membership of the cluster: it gossips its metadata,
/// learns the other members from the seeds and from each other, declares
/// silent ones dead, and publishes a [`MembershipView`] on every change.
///
/// Cheap to clone; every clone is the same agent. Dropping the last clone
/// stops gossip at once, without a leave: peers then see this node die
/// when their failure detector gives up on it.
#[derive(Clone)]
pub struct Membership {
    inner: Arc<Inner>,
}

struct Inner {
    /// The thread gossip runs on, if it has one of its own: kept until the
    /// last clone is dropped.
    thread: Option<GossipThread>,
    node: NodeId,
    incarnation: Incarnation,
    leave_linger: Duration,
    detection_bound: Duration,
    chitchat: Arc<Mutex<Chitchat>>,
    /// `None` once stopped.
    server: parking_lot::Mutex<Option<ChitchatHandle>>,
    view_task: JoinHandle<()>,
    views: watch::Receiver<MembershipView>,
}

/// Gossip's own thread, stopped and joined when dropped.
struct GossipThread {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for GossipThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(server) = self.server.get_mut().take() {
            server.abort();
        }
        self.view_task.abort();
    }
}

impl Membership {
    /// Starts gossiping over UDP on `config.listen`, on the current tokio
    /// runtime.
    pub async fn start(config: MembershipConfig) -> Result<Self, MembershipError> {
        Self::start_on(config, &UdpTransport).await
    }

    /// Starts gossiping over UDP on `config.listen` on a thread and a
    /// single-threaded tokio runtime of its own, so that heartbeats keep
    /// their rhythm however busy the node's own runtime is: a member whose
    /// shards keep every worker busy must not be declared dead for it.
    pub async fn start_on_own_thread(config: MembershipConfig) -> Result<Self, MembershipError> {
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listen = config.listen;
        let handle = std::thread::Builder::new()
            .name("cairn-gossip".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = started_tx.send(Err(MembershipError::Start {
                            listen,
                            source: Box::new(error),
                        }));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let _ = started_tx.send(Self::start(config).await);
                    let _ = stopped.await;
                });
            })
            .map_err(|error| MembershipError::Start {
                listen,
                source: Box::new(error),
            })?;
        let membership = started
            .await
            .map_err(|_| MembershipError::Stopped("the gossip thread ended at start".into()))??;
        let Ok(mut inner) = Arc::try_unwrap(membership.inner) else {
            unreachable!("a membership just started has one handle");
        };
        inner.thread = Some(GossipThread {
            stop: Some(stop),
            handle: Some(handle),
        });
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Starts gossiping on an in-memory `network` (tests, simulation);
    /// `config.listen` and `config.advertise` name this node on it.
    pub async fn start_in_memory(
        config: MembershipConfig,
        network: &GossipNetwork,
    ) -> Result<Self, MembershipError> {
        Self::start_on(config, &network.transport()).await
    }

    async fn start_on(
        config: MembershipConfig,
        transport: &dyn Transport,
    ) -> Result<Self, MembershipError> {
        let server = spawn_chitchat(
            config.to_chitchat(),
            config.metadata.to_key_values(),
            transport,
        )
        .await
        .map_err(|source| MembershipError::Start {
            listen: config.listen,
            source: source.into(),
        })?;
        let chitchat = server.chitchat();
        let (initial, live_changes) = {
            let guard = chitchat.lock().await;
            (view_of(&guard), guard.live_nodes_watcher())
        };
        let (views_tx, views) = watch::channel(initial);
        let view_task = tokio::spawn(publish_views(
            chitchat.clone(),
            live_changes,
            views_tx,
            config.gossip_interval,
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                thread: None,
                node: config.node.clone(),
                incarnation: config.incarnation,
                leave_linger: config.leave_linger,
                detection_bound: config.detection_bound(),
                chitchat,
                server: parking_lot::Mutex::new(Some(server)),
                view_task,
                views,
            }),
        })
    }

    /// This node.
    pub fn local_node(&self) -> &NodeId {
        &self.inner.node
    }

    /// This process's incarnation.
    pub fn incarnation(&self) -> Incarnation {
        self.inner.incarnation
    }

    /// The longest time between a peer falling silent and this node
    /// declaring it dead, under this agent's settings.
    pub fn detection_bound(&self) -> Duration {
        self.inner.detection_bound
    }

    /// The current view.
    pub fn view(&self) -> MembershipView {
        self.inner.views.borrow().clone()
    }

    /// A receiver of views: it holds the current one and wakes on each
    /// change (`changed`, `wait_for`).
    pub fn watch(&self) -> watch::Receiver<MembershipView> {
        self.inner.views.clone()
    }

    /// The live members, this node included until it leaves, sorted by
    /// node id.
    pub fn live_members(&self) -> Vec<Member> {
        self.inner.views.borrow().live_members().cloned().collect()
    }

    /// Leaves gracefully: publishes the leaving mark, keeps gossiping for
    /// `leave_linger` so that peers learn it (they drop this node from
    /// their live members on receipt, without waiting for the failure
    /// detector), then stops. Does nothing if already stopped.
    pub async fn leave(&self) -> Result<(), MembershipError> {
        if self.inner.server.lock().is_none() {
            return Ok(());
        }
        self.announce_leaving().await;
        tokio::time::sleep(self.inner.leave_linger).await;
        self.shutdown().await
    }

    /// Publishes the leaving mark and keeps gossiping: peers stop counting
    /// this node as live, while it goes on serving until it is told to stop
    /// (a member hands its shards over first, then calls [`Self::leave`]).
    pub async fn announce_leaving(&self) {
        self.inner
            .chitchat
            .lock()
            .await
            .self_node_state()
            .set(LEAVING_KEY, "1");
    }

    /// Stops gossiping without a leave (peers will see this node die) and
    /// waits until the socket is closed. The view stays as it last was.
    /// Does nothing if already stopped.
    pub async fn shutdown(&self) -> Result<(), MembershipError> {
        let server = self.inner.server.lock().take();
        match server {
            Some(server) => server
                .shutdown()
                .await
                .map_err(|error| MembershipError::Stopped(error.into())),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership")
            .field("node", &self.inner.node)
            .field("incarnation", &self.inner.incarnation)
            .finish_non_exhaustive()
    }
}

/// Republishes the view whenever chitchat's live set or a live node's
/// keys change, and once a gossip round anyway (a node that appears
/// without being live yet, such as a restarted incarnation, does not wake
/// chitchat's watcher). Receivers are woken only by a different view.
async fn publish_views(
    chitchat: Arc<Mutex<Chitchat>>,
    mut live_changes: watch::Receiver<BTreeMap<ChitchatId, NodeState>>,
    views: watch::Sender<MembershipView>,
    gossip_interval: Duration,
) {
    let mut tick = tokio::time::interval(gossip_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            changed = live_changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tick.tick() => {}
        }
        let view = view_of(&*chitchat.lock().await);
        views.send_if_modified(|current| {
            let modified = *current != view;
            if modified {
                *current = view;
            }
            modified
        });
    }
}

/// The view from chitchat's current state.
fn view_of(chitchat: &Chitchat) -> MembershipView {
    let live: HashSet<&ChitchatId> = chitchat.live_nodes().collect();
    build_view(
        chitchat
            .node_states()
            .iter()
            .map(|(id, state)| GossipEntry {
                node: NodeId::new(&*id.node_id),
                incarnation: Incarnation(id.generation_id),
                live: live.contains(id),
                leaving: state.get(LEAVING_KEY).is_some(),
                metadata: NodeMetadata::from_keys(|key| state.get(key)),
            }),
    )
}
