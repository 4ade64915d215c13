//! The cluster control plane: a member's transport and membership, the
//! generation of the shard map it runs, asks forwarded between nodes, and
//! the cluster-wide snapshot coordinator.
//!
//! # Layout
//! - `settings`: [`ClusterSettings`], how a node joins.
//! - `network`: the transport and gossip a member runs on, real or
//!   simulated ([`SimulatedNetwork`]).
//! - `messages`: the control messages and their channel.
//! - `blueprint`: how a member starts its runtime for each generation.
//! - `member`: running the configured generation and uploading its parts.
//! - `handoff`: a member's side of moving shards at an epoch cut.
//! - `coordinator`: generations, fencing and epochs across the cluster.
//! - `asks`: asks of actors on other nodes.
//! - `relay`: asks the runtime could not answer here (their shard moved),
//!   carried to the shard's node with their answers back.
//! - `rebalance`: the coordinator moving shards at an epoch cut.
//! - `quorum`: majorities, and a member finding it was cut off.
//! - `supervisor`: [`ClusterNode`], a member that rejoins when cut off.
//! - `status`: the coordinator's role and history, for the views.
//! - `view`: `/v1/cluster` as this node sees the cluster.

mod asks;
mod blueprint;
mod coordinator;
mod handoff;
mod member;
mod messages;
mod network;
mod quorum;
mod rebalance;
mod relay;
mod settings;
mod status;
mod supervisor;
mod view;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use cairn_core::{Address, AskError, Payload, Runtime, ShardCount};
use cairn_persistence::{GcPolicy, Store};
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::error::NodeError;
use crate::membership::{MemberState, Membership, MembershipConfig, MembershipView, NodeMetadata};
use crate::transport::{
    Events, Incarnation, MemberTransport, NodeId, Transport, TransportConfig, TransportEvent,
};
pub(crate) use blueprint::{Blueprint, SharedSink};
use member::LocalState;
pub use member::STALE_FRAMES;
use messages::{Control, CONTROL_CHANNEL};
pub use network::SimulatedNetwork;
pub(crate) use network::{bind_cluster_port, ClusterPort};
pub use settings::{ClusterSettings, DEFAULT_CLUSTER_ID, MAX_MAX_FRAME, MIN_MAX_FRAME};
pub(crate) use supervisor::ClusterNode;

/// What every task of a member shares.
pub(crate) struct Shared {
    myself: Weak<Shared>,
    pub(crate) transport: MemberTransport,
    pub(crate) membership: Membership,
    pub(crate) store: Store,
    pub(crate) blueprint: Blueprint,
    /// The largest frame the transport sends and takes: every member of a
    /// generation has the same.
    pub(crate) max_frame: usize,
    /// The largest payload the transport sends.
    pub(crate) max_payload: usize,
    pub(crate) member: Mutex<LocalState>,
    /// The runtime of the generation running here, once there is one.
    pub(crate) runtime: watch::Sender<Option<Runtime>>,
    member_inbox: mpsc::UnboundedSender<Control>,
    coordinator_inbox: mpsc::UnboundedSender<coordinator::Input>,
    pub(crate) asks: asks::PendingAsks,
    pub(crate) status: status::Status,
    /// How many members the last generation this process ran had.
    pub(crate) last_members: Arc<AtomicUsize>,
    /// Set when this node finds it was cut off from the cluster (paused or
    /// partitioned past the failure timeout): it must rejoin as a new
    /// incarnation.
    cut_off: watch::Sender<bool>,
    /// The members' lives this node has seen alive: only those are
    /// forgotten when gossip shows them dead. A new incarnation is shown
    /// dead until gossip has seen it live, while its transport may already
    /// be exchanging frames with this node; forgetting its link then would
    /// restart this side's numbering, and the peer would take every later
    /// frame for a duplicate.
    seen_alive: Mutex<std::collections::HashSet<(NodeId, Incarnation)>>,
}

impl Shared {
    /// This node.
    pub(crate) fn me(&self) -> &NodeId {
        self.transport.local_node()
    }

    /// Sends `control` to `to`; to this node itself it is handed over in
    /// memory.
    pub(crate) fn send(&self, to: &NodeId, control: Control) {
        if to == self.me() {
            self.dispatch(to.clone(), control);
        } else if let Err(error) = self.transport.send(to, CONTROL_CHANNEL, control.encode()) {
            tracing::warn!(peer = %to, %error, "control message not sent");
        }
    }

    /// Hands a control message from `from` to the loop it is for.
    fn dispatch(&self, from: NodeId, control: Control) {
        match control {
            Control::Configure(_)
            | Control::PrepareHandoff { .. }
            | Control::StartEpoch { .. }
            | Control::Committed { .. }
            | Control::Aborted { .. } => {
                let _ = self.member_inbox.send(control);
            }
            // Answered here, not by the member loop, which may be busy.
            Control::Probe { nonce } => self.send(&from, Control::ProbeAck { nonce }),
            Control::Ready { .. }
            | Control::Prepared { .. }
            | Control::Parts { .. }
            | Control::EpochWanted { .. }
            | Control::ProbeAck { .. } => {
                let _ = self
                    .coordinator_inbox
                    .send(coordinator::Input::Member(from, control));
            }
            Control::Ask(request) => {
                if let Some(shared) = self.myself.upgrade() {
                    asks::answer(shared, from, request);
                }
            }
            Control::Answer { id, asker, reply } => {
                // An answer to an earlier life of this node (carried over
                // by the transport) would match another ask's id.
                if asker == self.transport.incarnation() {
                    self.asks
                        .complete(id, reply.map(serde_bytes::ByteBuf::into_vec));
                }
            }
        }
    }

    /// The runtime of the generation running here, if it is `generation`.
    pub(crate) fn runtime_of(&self, generation: crate::transport::Generation) -> Option<Runtime> {
        let state = self.member.lock();
        state
            .running
            .as_ref()
            .filter(|local| local.configuration.generation == generation)
            .map(|local| local.runtime.clone())
    }

    /// The runtime running here now, if any.
    pub(crate) fn current_runtime(&self) -> Option<Runtime> {
        self.runtime.borrow().clone()
    }

    /// The members of the last generation this process ran, if it knows
    /// them, else how many there were (0: none yet).
    pub(crate) fn previous_members(&self) -> (Option<Vec<NodeId>>, usize) {
        let state = self.member.lock();
        let members = state
            .running
            .as_ref()
            .map(|local| local.configuration.members());
        (members, self.last_members.load(Ordering::Relaxed))
    }
}

/// This node as a member of a cluster. Stopped by [`Cluster::leave`].
pub(crate) struct Cluster {
    shared: Arc<Shared>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// The address this member listens on and is known by.
    bound: SocketAddr,
}

/// What a member starts with, beside its [`ClusterSettings`]; kept to
/// join again as a new incarnation.
#[derive(Clone)]
pub(crate) struct MemberSetup {
    pub(crate) blueprint: Blueprint,
    pub(crate) store: Store,
    /// The node's HTTP address, published to the others.
    pub(crate) http: Option<SocketAddr>,
    pub(crate) interval: Option<Duration>,
    pub(crate) retention: GcPolicy,
    /// How many members the last generation this process ran had (0 for
    /// none yet): the quorum a new generation needs survives a rejoin.
    pub(crate) last_members: Arc<AtomicUsize>,
}

impl Cluster {
    /// Joins the cluster on `port` and waits until the coordinator has
    /// configured a generation that runs here.
    pub(crate) async fn join(
        settings: ClusterSettings,
        port: ClusterPort,
        setup: MemberSetup,
    ) -> Result<Self, NodeError> {
        settings.check().map_err(cairn_core::Error::Config)?;
        let incarnation = Incarnation::from_clock();
        // Frames queued for a peer's next life before this node learns of
        // it must reach it; what was meant for the last one is dropped by
        // generation there (data frames carry theirs, control messages
        // name theirs, answers their asker's incarnation).
        let transport_config = TransportConfig::new(settings.cluster_id.clone())
            .with_secret(settings.secret.clone())
            .with_max_frame(settings.max_frame)
            .with_incarnation(incarnation)
            .with_carry_over_on_restart(true);
        let max_payload = transport_config.max_payload();
        let network::Endpoint {
            transport,
            events,
            bound,
        } = network::open_transport(&settings, port, transport_config)?;
        let shards = setup.blueprint.config.shard_count;
        let metadata = NodeMetadata::new(
            bound.to_string(),
            setup.http.map(|addr| addr.to_string()).unwrap_or_default(),
            shards,
        )
        .with_max_frame(settings.max_frame);
        let membership = network::start_gossip(
            &settings,
            MembershipConfig::new(settings.cluster_id.clone(), bound, metadata)
                .with_seeds(settings.seeds.clone())
                .with_incarnation(incarnation),
        )
        .await?;
        let (member_inbox, member_rx) = mpsc::unbounded_channel();
        let (coordinator_inbox, coordinator_rx) = mpsc::unbounded_channel();
        let (runtime, mut runtimes) = watch::channel(None);
        let shared = Arc::new_cyclic(|myself| Shared {
            myself: myself.clone(),
            transport,
            membership,
            store: setup.store,
            blueprint: setup.blueprint,
            max_frame: settings.max_frame,
            max_payload,
            member: Mutex::new(LocalState::default()),
            runtime,
            member_inbox,
            coordinator_inbox,
            asks: asks::PendingAsks::default(),
            status: status::Status::default(),
            last_members: setup.last_members,
            cut_off: watch::channel(false).0,
            seen_alive: Mutex::default(),
        });
        let tasks = vec![
            tokio::spawn(route(shared.clone(), events)),
            tokio::spawn(track_peers(shared.clone())),
            tokio::spawn(quorum::watch_contact(shared.clone())),
            tokio::spawn(member::run(shared.clone(), member_rx)),
            tokio::spawn(coordinator::run(
                shared.clone(),
                coordinator_rx,
                coordinator::Settings {
                    interval: setup.interval,
                    retention: setup.retention,
                },
            )),
        ];
        let cluster = Self {
            shared,
            tasks: Mutex::new(tasks),
            bound,
        };
        tracing::info!(node = %bound, %incarnation, seeds = ?settings.seeds, "joining the cluster");
        loop {
            let mismatched: Vec<String> = cluster
                .shared
                .membership
                .view()
                .misconfigured(shards, settings.max_frame)
                .iter()
                .map(|member| {
                    format!(
                        "{} ({} shards, frames of at most {} bytes)",
                        member.node,
                        member.metadata.shards.get(),
                        member.metadata.max_frame
                    )
                })
                .collect();
            if !mismatched.is_empty() {
                cluster.stop(false).await;
                return Err(NodeError::Cluster(format!(
                    "this node has {} shards and frames of at most {} bytes, but members {mismatched:?} differ; both are fixed for the whole cluster",
                    shards.get(),
                    settings.max_frame
                )));
            }
            match tokio::time::timeout(Duration::from_secs(5), runtimes.changed()).await {
                Ok(Ok(())) if runtimes.borrow().is_some() => break,
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(NodeError::ShuttingDown),
                Err(_) => {
                    tracing::info!("waiting for the coordinator to give this node a generation")
                }
            }
        }
        Ok(cluster)
    }

    /// The address this member listens on and is known by.
    pub(crate) fn bound(&self) -> SocketAddr {
        self.bound
    }

    /// The runtime of the generation running here.
    pub(crate) fn runtime(&self) -> Runtime {
        self.shared
            .current_runtime()
            .expect("a member has a runtime from the end of `join`")
    }

    /// A receiver of the runtime of each generation as it starts here.
    pub(crate) fn runtimes(&self) -> watch::Receiver<Option<Runtime>> {
        self.shared.runtime.subscribe()
    }

    /// The node running `address`'s shard under the running generation.
    fn owner_of(&self, address: &Address, shards: ShardCount) -> Option<NodeId> {
        let state = self.shared.member.lock();
        let local = state.running.as_ref()?;
        local
            .configuration
            .owners
            .get(address.shard(shards).index())
            .cloned()
    }

    /// Asks `to` with `payload`, on this node if its shard runs here, else
    /// on the node that runs it. A reply from another node is JSON-like
    /// data ([`serde_json::Value`]), not the handler's Rust type.
    pub(crate) async fn ask_payload(
        &self,
        to: Address,
        payload: Payload,
        durable: bool,
        timeout: Duration,
    ) -> Result<Payload, AskError> {
        self.ask_with(to, payload, durable, timeout, asks::decode_reply, Ok)
            .await
    }

    /// Asks `to` and decodes the reply as `R`, wherever its shard runs.
    pub(crate) async fn ask<R: cairn_core::Message>(
        &self,
        to: Address,
        payload: Payload,
        durable: bool,
        timeout: Duration,
    ) -> Result<R, AskError> {
        let address = to.clone();
        let remote = |bytes: &[u8]| {
            rmp_serde::from_slice(bytes).map_err(|error| {
                format!(
                    "the reply does not decode as `{}`: {error}",
                    std::any::type_name::<R>()
                )
            })
        };
        let local = |reply: Payload| {
            reply.downcast::<R>().map_err(|reply| AskError::ReplyType {
                address,
                expected: std::any::type_name::<R>(),
                actual: reply.type_name(),
            })
        };
        self.ask_with(to, payload, durable, timeout, remote, local)
            .await
    }

    /// Asks `to` where its shard runs: a reply from another node is read
    /// from MessagePack by `remote`, one from this node by `local`.
    async fn ask_with<T>(
        &self,
        to: Address,
        payload: Payload,
        durable: bool,
        timeout: Duration,
        remote: impl FnOnce(&[u8]) -> Result<T, String>,
        local: impl FnOnce(Payload) -> Result<T, AskError>,
    ) -> Result<T, AskError> {
        let runtime = self.runtime();
        let shards = runtime.config().shard_count;
        match self.owner_of(&to, shards) {
            Some(owner) if &owner != self.shared.me() => {
                let bytes =
                    asks::ask_remote(&self.shared, &owner, to.clone(), payload, durable, timeout)
                        .await?;
                remote(&bytes).map_err(|reason| AskError::Remote {
                    address: to,
                    node: owner.to_string(),
                    reason,
                })
            }
            _ if durable => local(runtime.ask_durable_payload(to, payload, timeout).await?),
            _ => local(runtime.ask_payload(to, payload, timeout).await?),
        }
    }

    /// Takes an epoch now, if this node is the coordinator.
    pub(crate) async fn snapshot_now(&self) -> Result<cairn_core::Epoch, NodeError> {
        let (reply, outcome) = oneshot::channel();
        self.shared
            .coordinator_inbox
            .send(coordinator::Input::SnapshotNow(reply))
            .map_err(|_| NodeError::ShuttingDown)?;
        outcome.await.map_err(|_| NodeError::ShuttingDown)?
    }

    /// The committed epoch the generation running here restored.
    pub(crate) fn restored_from(&self) -> Option<cairn_core::Epoch> {
        let state = self.shared.member.lock();
        state.running.as_ref()?.configuration.restore
    }

    /// The epochs this node coordinated, oldest first.
    pub(crate) fn history(&self) -> Vec<crate::EpochRecord> {
        self.shared.status.history()
    }

    /// The epoch being taken, if this node coordinates one.
    pub(crate) fn open_epoch(&self) -> Option<cairn_core::Epoch> {
        self.shared.status.open_epoch()
    }

    /// The cluster as this node sees it.
    pub(crate) fn view(&self) -> crate::http::views::ClusterView {
        view::of(&self.shared)
    }

    /// Leaves gracefully: the coordinator commits an epoch with this node's
    /// shards, and moves them to the other members, before this node stops
    /// (a coordinator first commits one itself). Gives up waiting after
    /// `patience`, then stops anyway: the others recover without it.
    pub(crate) async fn leave(&self, patience: Duration) {
        let shared = &self.shared;
        if shared.status.coordinating().is_some() {
            match self.snapshot_now().await {
                Ok(epoch) => tracing::info!(epoch, "leaving: committed a last epoch"),
                Err(error) => tracing::warn!(%error, "leaving: the last epoch failed"),
            }
        }
        if others_alive(shared) {
            shared.membership.announce_leaving().await;
            let mut runtimes = self.runtimes();
            let mut views = shared.membership.watch();
            let handed_over = async {
                loop {
                    let owns_nothing = shared
                        .member
                        .lock()
                        .running
                        .as_ref()
                        .is_some_and(|local| local.runtime.owned_shards().is_empty());
                    if owns_nothing {
                        tracing::info!("leaving: shards handed over");
                        return;
                    }
                    if !others_alive(shared) {
                        tracing::warn!("leaving: no other member is left to take the shards");
                        return;
                    }
                    tokio::select! {
                        changed = runtimes.changed() => if changed.is_err() { return },
                        changed = views.changed() => if changed.is_err() { return },
                    }
                }
            };
            if tokio::time::timeout(patience, handed_over).await.is_err() {
                tracing::warn!(
                    ?patience,
                    "leaving: the shards were not handed over in time; stopping anyway"
                );
            }
        }
        self.stop(true).await;
    }

    /// Resolves once this node finds it was cut off from the cluster.
    pub(crate) async fn cut_off(&self) {
        let mut cut_off = self.shared.cut_off.subscribe();
        let _ = cut_off.wait_for(|cut| *cut).await;
    }

    /// Stops every task, the runtime, gossip (with a leave if `graceful`)
    /// and the transport.
    pub(crate) async fn stop(&self, graceful: bool) {
        let tasks = std::mem::take(&mut *self.tasks.lock());
        for task in &tasks {
            task.abort();
        }
        let running = self.shared.member.lock().running.take();
        if let Some(local) = running {
            local.stop().await;
        }
        let stopped = if graceful {
            self.shared.membership.leave().await
        } else {
            self.shared.membership.shutdown().await
        };
        if let Err(error) = stopped {
            tracing::warn!(%error, "gossip did not stop cleanly");
        }
        self.shared.transport.shutdown().await;
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", self.shared.me())
            .finish_non_exhaustive()
    }
}

/// Takes the transport's events: control messages to their loops, data
/// frames to the running generation.
async fn route(shared: Arc<Shared>, mut events: Events) {
    while let Some(event) = events.recv().await {
        match event {
            TransportEvent::Message(delivery) if delivery.channel == CONTROL_CHANNEL => {
                match Control::decode(&delivery.payload) {
                    Ok(control) => shared.dispatch(delivery.from, control),
                    Err(error) => {
                        tracing::warn!(from = %delivery.from, %error, "malformed control message dropped")
                    }
                }
            }
            TransportEvent::Message(delivery) => member::deliver_data(&shared, delivery),
            TransportEvent::PeerRestarted { peer, .. } => {
                tracing::info!(%peer, "peer restarted as a new incarnation");
                forget_marker_cuts(&shared, &peer);
            }
            TransportEvent::LinkReset { peer } => {
                tracing::info!(%peer, "peer had forgotten this node; its link starts over");
                forget_marker_cuts(&shared, &peer);
            }
            other => tracing::debug!(?other, "transport event"),
        }
    }
}

/// Forgets the marker cuts exchanged with `peer`: its side of the link
/// starts over and knows none of them.
fn forget_marker_cuts(shared: &Shared, peer: &NodeId) {
    if let Some(runtime) = shared.current_runtime() {
        runtime.forget_node(peer.as_str());
    }
}

/// Keeps the transport's peers in step with gossip: every member not dead
/// is a peer (so that the side that dials, the lower node id, connects
/// before anything is sent), and a dead one is forgotten, with what was
/// unacknowledged to it (it belongs to a generation that is rolled back,
/// and it must not hold ingress back as a backlog that never drains).
async fn track_peers(shared: Arc<Shared>) {
    let mut views = shared.membership.watch();
    loop {
        let view = views.borrow_and_update().clone();
        forget_dead(&shared, &view);
        for member in &view.members {
            if &member.node != shared.me() && member.state != MemberState::Dead {
                shared.transport.add_peer(member.node.clone());
            }
        }
        if views.changed().await.is_err() {
            return;
        }
    }
}

/// Forgets the members `view` shows dead, if seen alive in that life.
pub(crate) fn forget_dead(shared: &Shared, view: &MembershipView) {
    let mut seen_alive = shared.seen_alive.lock();
    for member in &view.members {
        if &member.node == shared.me() {
            continue;
        }
        let life = (member.node.clone(), member.incarnation);
        if member.state == MemberState::Dead {
            // Every time, not once: frames its generation's runtime still
            // queued to it after the first time would otherwise stay as a
            // backlog that holds ingress back.
            if seen_alive.contains(&life) {
                shared
                    .transport
                    .remove_peer(&member.node, member.incarnation);
                forget_marker_cuts(shared, &member.node);
            }
        } else {
            seen_alive.insert(life);
        }
    }
}

/// Whether a member other than this node is alive and not leaving.
fn others_alive(shared: &Shared) -> bool {
    shared
        .membership
        .view()
        .live_members()
        .any(|member| &member.node != shared.me())
}
