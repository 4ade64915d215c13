//! A Cairn node: the user's handle to the actor system.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cairn_core::{
    Address, AskError, EgressSink, Error, Ingress, Message, Payload, Registry, Result, Runtime,
    RuntimeConfig, ShardCount, ShardStats, StatefulFunction,
};

use cairn_persistence::GcPolicy;

use crate::control::{
    Blueprint, ClusterNode, ClusterPort, ClusterSettings, MemberSetup, SharedSink,
};
use crate::error::NodeError;
use crate::http::{HttpServer, HttpSettings};
use crate::snapshots::{SnapshotSettings, Snapshots, STOP_PATIENCE};

/// A running Cairn node. Cheap to clone; every clone reaches the same node.
///
/// A single node is a cluster of one: started with no configuration it runs
/// every shard itself.
#[derive(Clone, Debug)]
pub struct Node {
    core: Core,
    /// The HTTP endpoint, if one was asked for.
    http: Option<Arc<HttpServer>>,
}

/// What runs the shards: this node alone, or this node as a cluster member.
#[derive(Clone, Debug)]
enum Core {
    /// Every shard runs here.
    Single {
        runtime: Runtime,
        /// Snapshots to blob storage, if a store was given.
        snapshots: Option<Arc<Snapshots>>,
    },
    /// The shards the cluster's current generation gives this node run
    /// here; the runtime changes with each generation.
    Member(Arc<ClusterNode>),
}

impl Node {
    /// A builder for a node with the default configuration.
    pub fn builder() -> NodeBuilder {
        NodeBuilder::default()
    }

    /// Sends `message` to the actor at `to`, fire and forget.
    ///
    /// Messages from one caller to one actor — sends and asks alike — are
    /// handled in the order they were made.
    ///
    /// Fails at once, without sending, if `to`'s function type is not
    /// registered or has no handler for `M`.
    pub fn send<M: Message>(&self, to: Address, message: M) -> Result<()> {
        self.runtime().send(to, message)
    }

    /// Sends an already type-erased message, as decoded from JSON.
    pub fn send_payload(&self, to: Address, payload: Payload) -> Result<()> {
        self.runtime().send_payload(to, payload)
    }

    /// Sends `message` to `to` and waits for the handler's `ctx.reply`, up to
    /// the node's ask timeout. `R` is the reply's type.
    ///
    /// The answer is a read of *uncommitted* state: it comes as soon as the
    /// handler has run, so after a crash and a recovery to an earlier
    /// snapshot the effect it reported may be undone.
    pub async fn ask<R: Message, M: Message>(
        &self,
        to: Address,
        message: M,
    ) -> Result<R, AskError> {
        let timeout = self.runtime().config().ask_timeout;
        self.ask_with_timeout(to, message, timeout).await
    }

    /// Like [`Node::ask`], but answered only once the snapshot epoch
    /// holding the handler's effects has committed: the reply reports only
    /// what survives a crash. Its latency is at least the time to the next
    /// commit. Needs a store ([`NodeBuilder::store`]); without one it fails
    /// with `NoSnapshots`.
    pub async fn ask_durable<R: Message, M: Message>(
        &self,
        to: Address,
        message: M,
    ) -> Result<R, AskError> {
        let timeout = self.runtime().config().ask_timeout;
        match &self.core {
            Core::Member(cluster) => {
                cluster
                    .current()
                    .ask(to, Payload::new(message), true, timeout)
                    .await
            }
            Core::Single { runtime, .. } => runtime.ask_durable(to, message).await,
        }
    }

    /// [`Node::ask`] with an explicit timeout.
    pub async fn ask_with_timeout<R: Message, M: Message>(
        &self,
        to: Address,
        message: M,
        timeout: Duration,
    ) -> Result<R, AskError> {
        match &self.core {
            Core::Member(cluster) => {
                cluster
                    .current()
                    .ask(to, Payload::new(message), false, timeout)
                    .await
            }
            Core::Single { runtime, .. } => runtime.ask_with_timeout(to, message, timeout).await,
        }
    }

    /// Asks with an already type-erased message and returns the reply as is.
    pub async fn ask_payload(
        &self,
        to: Address,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Payload, AskError> {
        match &self.core {
            Core::Member(cluster) => {
                cluster
                    .current()
                    .ask_payload(to, payload, false, timeout)
                    .await
            }
            Core::Single { runtime, .. } => runtime.ask_payload(to, payload, timeout).await,
        }
    }

    /// [`Node::ask_durable`] with an already type-erased message and an
    /// explicit timeout; returns the reply as is once its epoch committed.
    pub async fn ask_durable_payload(
        &self,
        to: Address,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Payload, AskError> {
        match &self.core {
            Core::Member(cluster) => {
                cluster
                    .current()
                    .ask_payload(to, payload, true, timeout)
                    .await
            }
            Core::Single { runtime, .. } => runtime.ask_durable_payload(to, payload, timeout).await,
        }
    }

    /// Waits until every message sent before the call, and everything those
    /// messages caused, has been handled and its egress published. Pending
    /// timers are not waited for.
    pub async fn flush(&self) -> Result<()> {
        self.runtime().flush().await
    }

    /// Whether every ingress split has been read to its end and each of its
    /// records sent on to its actor.
    pub async fn ingress_finished(&self) -> Result<bool> {
        self.runtime().ingress_finished().await
    }

    /// The records of ingress `name` read and not yet handled, or `None` if
    /// the node has no such ingress.
    pub fn ingress_in_flight(&self, name: &str) -> Option<usize> {
        self.runtime().ingress_in_flight(name)
    }

    /// For a batch job: waits until every ingress split has been read to its
    /// end and everything its records caused has been handled, then commits
    /// a snapshot holding all of it and returns its epoch. Needs a store.
    pub async fn finish_ingress(&self) -> Result<cairn_core::Epoch, NodeError> {
        let mut pause = Duration::from_millis(1);
        while !self.ingress_finished().await? {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        self.flush().await?;
        self.snapshot_now().await
    }

    /// The counters of every shard.
    pub async fn shard_stats(&self) -> Result<Vec<ShardStats>> {
        self.runtime().shard_stats().await
    }

    /// Up to `limit` actors, active or passivated, in (function type, id)
    /// order, after `after` (the last address of the previous page), of
    /// `function` only if given.
    pub async fn list_actors(
        &self,
        function: Option<cairn_core::FunctionType>,
        after: Option<Address>,
        limit: usize,
    ) -> Result<Vec<cairn_core::ActorSummary>> {
        self.runtime().list_actors(function, after, limit).await
    }

    /// One actor as its shard holds it now (status, state as JSON, queued
    /// messages), without activating it.
    pub async fn inspect_actor(&self, address: Address) -> Result<cairn_core::ActorView> {
        self.runtime().inspect_actor(address).await
    }

    /// Active and passivated actors per function type.
    pub async fn function_counts(&self) -> Result<Vec<cairn_core::FunctionCount>> {
        self.runtime().function_counts().await
    }

    /// The registered function types.
    pub fn registry(&self) -> &Registry {
        match &self.core {
            Core::Member(cluster) => cluster.registry(),
            Core::Single { runtime, .. } => runtime.registry(),
        }
    }

    /// The node's fixed shard count.
    pub fn shard_count(&self) -> ShardCount {
        self.runtime().config().shard_count
    }

    /// The address the HTTP endpoint is bound to, if the node has one
    /// (see [`NodeBuilder::http`]).
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|http| http.addr())
    }

    /// The address this node listens on for the cluster and is known by, if
    /// it is a cluster member ([`NodeBuilder::cluster`]): its bind address,
    /// with the port the system chose if it was bound to port 0.
    pub fn cluster_addr(&self) -> Option<SocketAddr> {
        match &self.core {
            Core::Member(cluster) => Some(cluster.current().bound()),
            Core::Single { .. } => None,
        }
    }

    /// Takes a Chandy–Lamport snapshot of every actor and every message in
    /// flight now, without pausing processing, and returns its epoch once
    /// its manifest is committed to the store.
    ///
    /// In a cluster only the coordinator takes snapshots on demand; other
    /// members get [`NodeError::NotCoordinator`].
    pub async fn snapshot_now(&self) -> Result<cairn_core::Epoch, NodeError> {
        match &self.core {
            Core::Member(cluster) => cluster.current().snapshot_now().await,
            Core::Single {
                snapshots: Some(snapshots),
                ..
            } => snapshots.snapshot_now().await,
            Core::Single { .. } => Err(NodeError::NoStore),
        }
    }

    /// The most recent snapshot epochs (up to 100), oldest first; empty
    /// without a store.
    ///
    /// In a cluster, the epochs this node coordinated.
    pub fn snapshot_history(&self) -> Vec<crate::EpochRecord> {
        match &self.core {
            Core::Member(cluster) => cluster.current().history(),
            Core::Single { snapshots, .. } => snapshots
                .as_ref()
                .map(|snapshots| snapshots.history())
                .unwrap_or_default(),
        }
    }

    /// Whether this node takes snapshots (it was built with a store).
    pub fn takes_snapshots(&self) -> bool {
        match &self.core {
            Core::Member(_) => true,
            Core::Single { snapshots, .. } => snapshots.is_some(),
        }
    }

    /// The URL of the store this node snapshots to ([`NodeBuilder::store`]),
    /// if it has one.
    pub fn store_url(&self) -> Option<&str> {
        self.store().map(cairn_persistence::Store::url)
    }

    /// The store this node snapshots to, if it has one.
    pub(crate) fn store(&self) -> Option<&cairn_persistence::Store> {
        match &self.core {
            Core::Member(cluster) => Some(cluster.store()),
            Core::Single { snapshots, .. } => snapshots.as_ref().map(|snapshots| snapshots.store()),
        }
    }

    /// The snapshot epoch being taken now — started, and neither committed
    /// nor aborted yet — if any.
    pub fn open_epoch(&self) -> Option<cairn_core::Epoch> {
        match &self.core {
            Core::Member(cluster) => cluster.current().open_epoch(),
            Core::Single { snapshots, .. } => snapshots
                .as_ref()
                .and_then(|snapshots| snapshots.open_epoch()),
        }
    }

    /// The committed epoch this node resumed from when it started, if any.
    /// After a fallback ([`NodeBuilder::allow_fallback`]) it is the earlier
    /// epoch actually restored, not the damaged newest one.
    ///
    /// In a cluster, the epoch the generation running here restored.
    pub fn recovered_from(&self) -> Option<cairn_core::Epoch> {
        match &self.core {
            Core::Member(cluster) => cluster.current().restored_from(),
            Core::Single { snapshots, .. } => snapshots
                .as_ref()
                .and_then(|snapshots| snapshots.recovered_from()),
        }
    }

    /// The cluster as this node sees it, if it is a cluster member
    /// ([`NodeBuilder::cluster`]).
    pub fn cluster_view(&self) -> Option<crate::http::views::ClusterView> {
        match &self.core {
            Core::Member(cluster) => Some(cluster.current().view()),
            Core::Single { .. } => None,
        }
    }

    /// The runtime running this node's shards now.
    fn runtime(&self) -> Runtime {
        match &self.core {
            Core::Member(cluster) => cluster.current().runtime(),
            Core::Single { runtime, .. } => runtime.clone(),
        }
    }

    /// Stops the node: periodic snapshots stop (an epoch in progress ends
    /// first, committed or aborted, which may take up to 10 s with a slow
    /// store or a stuck shard), shards finish their current turn, waiting
    /// asks get `ShuttingDown`, pending egress is written out, and the
    /// HTTP endpoint stops and its thread is joined. Idempotent.
    ///
    /// A cluster member leaves gracefully first: the coordinator commits
    /// an epoch holding this node's shards and moves them to the other
    /// members before this node stops (waiting at most
    /// [`LEAVE_PATIENCE`]; the others then recover without it).
    pub async fn shutdown(&self) {
        let stop = async {
            match &self.core {
                Core::Member(cluster) => cluster.leave(LEAVE_PATIENCE).await,
                Core::Single { runtime, snapshots } => {
                    stop_single(runtime, snapshots.as_deref(), STOP_PATIENCE).await;
                }
            }
        };
        match &self.http {
            // Both at once: the endpoint's graceful stop waits for requests
            // in flight, and asks among them end when the shards stop.
            Some(http) => {
                tokio::join!(http.shutdown(), stop);
            }
            None => stop.await,
        }
    }

    /// **For tests and simulation**: stops the node at once, as a crash
    /// would. A cluster member publishes no leaving mark and hands nothing
    /// over: the others find it dead and recover without it, and what it
    /// had not committed is lost. A single node stops as with
    /// [`Node::shutdown`] but cancels the epoch in progress instead of
    /// waiting for it.
    pub async fn crash(&self) {
        match &self.core {
            Core::Member(cluster) => cluster.crash().await,
            Core::Single { runtime, snapshots } => {
                stop_single(runtime, snapshots.as_deref(), Duration::ZERO).await;
            }
        }
        if let Some(http) = &self.http {
            http.shutdown().await;
        }
    }
}

/// Stops a single node's snapshots, giving the epoch in progress
/// `patience` to end, then its shards.
async fn stop_single(runtime: &Runtime, snapshots: Option<&Snapshots>, patience: Duration) {
    if let Some(snapshots) = snapshots {
        snapshots.stop(patience).await;
    }
    runtime.shutdown().await;
}

/// How long a cluster member leaving gracefully waits for its shards to be
/// handed over before it stops anyway.
pub const LEAVE_PATIENCE: Duration = Duration::from_secs(30);

/// How often snapshots start by default once a store is set.
const DEFAULT_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(1);

/// Configures and starts a [`Node`].
#[derive(Default)]
pub struct NodeBuilder {
    config: RuntimeConfig,
    registry: Registry,
    egress: Vec<(String, Box<dyn EgressSink>)>,
    ingress: Vec<Ingress>,
    http: HttpSettings,
    snapshots: Option<SnapshotSettings>,
    allow_fallback: bool,
    cluster: Option<ClusterSettings>,
    errors: Vec<Error>,
}

impl NodeBuilder {
    /// Registers the stateful function `F`.
    pub fn register<F: StatefulFunction>(mut self) -> Self {
        if let Err(error) = self.registry.register::<F>() {
            self.errors.push(error);
        }
        self
    }

    /// Sets the number of shards (default 64). Fixed for the life of the
    /// cluster: it decides where every actor lives.
    pub fn shards(mut self, count: u32) -> Self {
        match ShardCount::new(count) {
            Some(count) => self.config.shard_count = count,
            None => self
                .errors
                .push(Error::Config("the shard count must be at least 1".into())),
        }
        self
    }

    /// Sets how long an actor may go without a message before it is
    /// passivated (default 5 minutes).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// Sets the default timeout of [`Node::ask`] (default 30 s).
    pub fn ask_timeout(mut self, timeout: Duration) -> Self {
        self.config.ask_timeout = timeout;
        self
    }

    /// Sets how many messages a shard handles per turn (default 1024).
    pub fn turn_budget(mut self, budget: usize) -> Self {
        self.config.turn_budget = budget;
        self
    }

    /// Sets how many messages a shard may have sent another shard that it
    /// has not yet handled before the sender stops running turns (default
    /// 65,536; see [`RuntimeConfig::channel_window`]).
    pub fn channel_window(mut self, messages: u64) -> Self {
        self.config.channel_window = messages;
        self
    }

    /// Sets how long a shard with a full window waits for credit before it
    /// runs on anyway (default 1 s; see [`RuntimeConfig::credit_patience`]).
    pub fn credit_patience(mut self, patience: Duration) -> Self {
        self.config.credit_patience = patience;
        self
    }

    /// Keeps at most `actors` actors active (in memory, deserialized),
    /// spread evenly over the shards. Over the bound the least recently
    /// active clean actors are passivated; with a store, dirty actors are
    /// never dropped: the node takes a snapshot sooner so that they become
    /// clean. Unbounded by default.
    pub fn max_active_actors(mut self, actors: usize) -> Self {
        self.config.max_active_actors = Some(actors);
        self
    }

    /// Adds an egress named `name`, which handlers reach with
    /// `ctx.emit(name, &record)`.
    pub fn egress(mut self, name: impl Into<String>, sink: impl EgressSink) -> Self {
        self.egress.push((name.into(), Box::new(sink)));
        self
    }

    /// Adds a durable ingress: its records become messages, and with a
    /// store its read positions are part of every snapshot, so after a
    /// recovery each record takes effect exactly once (without a store they
    /// are kept in memory only).
    pub fn ingress(mut self, ingress: Ingress) -> Self {
        self.ingress.push(ingress);
        self
    }

    /// Serves the node's HTTP endpoint on `addr` (see [`crate::http`]):
    /// metrics, JSON views and HTTP ingress. Off unless called; port 0
    /// picks a free port, which [`Node::http_addr`] tells.
    pub fn http(mut self, addr: SocketAddr) -> Self {
        self.http.addr = Some(addr);
        self
    }

    /// Requires `Authorization: Bearer TOKEN` on HTTP ingress (and on the
    /// read-only views with [`NodeBuilder::http_protect_reads`]).
    pub fn http_token(mut self, token: impl Into<String>) -> Self {
        self.http.token = Some(token.into());
        self
    }

    /// Requires the HTTP token on `/metrics` and the `/v1` views too
    /// (default: they are open). The health probes stay open.
    pub fn http_protect_reads(mut self, protect: bool) -> Self {
        self.http.protect_reads = protect;
        self
    }

    /// Sets the largest body HTTP ingress accepts, in bytes (default
    /// [`crate::http::DEFAULT_BODY_LIMIT`], 1 MiB); larger ones get 413.
    pub fn http_body_limit(mut self, bytes: usize) -> Self {
        self.http.body_limit = bytes;
        self
    }

    /// Takes snapshots to the store at `url` (`fs://PATH`, `memory://`,
    /// `s3://BUCKET/PREFIX?endpoint=…&region=…`) and, on start, resumes from
    /// its latest committed snapshot. Without a store the node keeps state
    /// in memory only.
    pub fn store(mut self, url: impl Into<String>) -> Self {
        let previous = self.snapshots.take();
        self.snapshots = Some(SnapshotSettings {
            store: url.into(),
            interval: previous
                .as_ref()
                .map_or(Some(DEFAULT_SNAPSHOT_INTERVAL), |s| s.interval),
            retention: previous
                .as_ref()
                .map_or_else(GcPolicy::default, |s| s.retention),
            migrations: previous.map(|s| s.migrations).unwrap_or_default(),
            allow_fallback: false,
        });
        self
    }

    /// Reads `F`'s state stored under the older schema hash `from` (see
    /// `StatefulFunction::SCHEMA_HASH`) through `migrate`, which decodes the
    /// old MessagePack bytes (typically with the old struct and
    /// `rmp_serde::from_slice`) into the current `F`. Without a migration, a
    /// store holding `F` under another schema is refused at start. Needs a
    /// [`NodeBuilder::store`].
    pub fn migrate<F: StatefulFunction>(
        mut self,
        from: u64,
        migrate: impl Fn(&[u8]) -> std::result::Result<F, String> + Send + Sync + 'static,
    ) -> Self {
        match self.snapshots.as_mut() {
            Some(settings) => settings.migrations.add::<F>(from, migrate),
            None => self.errors.push(Error::Config(
                "a migration needs a store: call `store` first".into(),
            )),
        }
        self
    }

    /// Sets how many committed snapshots garbage collection keeps (default
    /// 3), with everything they reference and anything younger than
    /// `min_age` (default 60 s), so readers are never cut off. Needs a
    /// [`NodeBuilder::store`].
    pub fn keep_snapshots(mut self, keep: usize, min_age: Duration) -> Self {
        match self.snapshots.as_mut() {
            Some(settings) if keep > 0 => settings.retention = GcPolicy { keep, min_age },
            Some(_) => self
                .errors
                .push(Error::Config("keep at least one committed snapshot".into())),
            None => self.errors.push(Error::Config(
                "snapshot retention needs a store: call `store` first".into(),
            )),
        }
        self
    }

    /// Sets how often a snapshot starts on its own (default every second);
    /// `None` takes them only on demand ([`Node::snapshot_now`]). Needs a
    /// [`NodeBuilder::store`].
    pub fn snapshot_interval(mut self, interval: Option<Duration>) -> Self {
        match self.snapshots.as_mut() {
            Some(settings) => settings.interval = interval,
            None => self.errors.push(Error::Config(
                "a snapshot interval needs a store: call `store` first".into(),
            )),
        }
        self
    }

    /// Lets recovery fall back to an earlier snapshot when the latest
    /// committed one is damaged (default `false`).
    ///
    /// By default a node refuses to start when an object of the latest
    /// committed epoch is missing, fails its checksum or does not decode:
    /// the error ([`NodeError::CorruptSnapshot`]) names the object, and the
    /// store is left untouched for repair. With `true`, the node restores
    /// the newest earlier committed epoch whose objects all read cleanly,
    /// logs an error naming both epochs, and numbers new epochs above every
    /// epoch in the store. That costs exactly-once: egress released after
    /// the restored epoch may be published again, and durable replies given
    /// for the skipped epochs are undone. Has no effect without a
    /// [`NodeBuilder::store`].
    pub fn allow_fallback(mut self, allow: bool) -> Self {
        self.allow_fallback = allow;
        self
    }

    /// Makes the node a member of a cluster ([`ClusterSettings`]): it
    /// gossips with the seeds, runs the shards the hash ring gives it, and
    /// snapshots with the whole cluster to the store, which every member
    /// must share ([`NodeBuilder::store`] is required). All members must
    /// agree on the shard count and the registered functions.
    pub fn cluster(mut self, settings: ClusterSettings) -> Self {
        self.cluster = Some(settings);
        self
    }

    /// Starts the node on the current tokio runtime, and its HTTP endpoint
    /// if one was asked for. With a store, it first resumes from the store's
    /// latest committed snapshot. Reports the first configuration error.
    pub async fn start(mut self) -> Result<Node, NodeError> {
        if let Some(error) = std::mem::take(&mut self.errors).into_iter().next() {
            return Err(error.into());
        }
        self.http.validate().map_err(Error::Config)?;
        // The cluster port is bound first, once the member's settings are
        // known good: a member is named by the address bound (port 0
        // becomes a real port), and so are its series.
        let cluster = match self.cluster.take() {
            Some(mut settings) => {
                if let Some(error) =
                    cluster_member_error(self.snapshots.as_ref(), self.allow_fallback)
                {
                    return Err(error.into());
                }
                let port = crate::control::bind_cluster_port(&mut settings)?;
                Some((settings, port))
            }
            None => None,
        };
        self.http.node_id = cluster
            .as_ref()
            .map(|(settings, _)| settings.bind.to_string());
        // The endpoint comes up first, so probes see the node recover and
        // start (`/readyz` 503 until it is attached); the Prometheus
        // recorder is installed before the shards take their metric handles.
        let http = match self.http.addr {
            Some(addr) => {
                let settings = std::mem::take(&mut self.http);
                let started = HttpServer::start(
                    addr,
                    settings,
                    self.config.ask_timeout,
                    self.config.shard_count,
                    &self.registry,
                )
                .await
                .map_err(|error| Error::Config(format!("cannot serve HTTP on {addr}: {error}")))?;
                Some(Arc::new(started))
            }
            None => None,
        };
        let http_addr = http.as_ref().map(|http| http.addr());
        let node = match self.start_node(http_addr, cluster).await {
            Ok(node) => node,
            Err(error) => {
                if let Some(http) = http {
                    http.shutdown().await;
                }
                return Err(error);
            }
        };
        Ok(match http {
            Some(http) => {
                http.attach(node.clone());
                Node {
                    http: Some(http),
                    core: node.core,
                }
            }
            None => node,
        })
    }

    /// Recovers (with a store) and starts the shards and the snapshot
    /// coordinator; a cluster member joins its cluster instead.
    async fn start_node(
        mut self,
        http: Option<SocketAddr>,
        cluster: Option<(ClusterSettings, ClusterPort)>,
    ) -> Result<Node, NodeError> {
        if let Some((settings, port)) = cluster {
            return self.join_cluster(settings, port, http).await;
        }
        let (link, pending) = match &mut self.snapshots {
            Some(settings) => {
                settings.allow_fallback = self.allow_fallback;
                let (link, pending) =
                    crate::snapshots::prepare(settings, &self.config, &self.registry).await?;
                (Some(link), Some(pending))
            }
            None => (None, None),
        };
        let runtime = Runtime::start(self.config, self.registry, self.egress, link, self.ingress)?;
        let snapshots = pending.map(|pending| Arc::new(Snapshots::start(pending, runtime.clone())));
        Ok(Node {
            core: Core::Single { runtime, snapshots },
            http: None,
        })
    }

    /// Joins the cluster of `settings` and waits for a generation to run.
    async fn join_cluster(
        self,
        settings: ClusterSettings,
        cluster_port: ClusterPort,
        http: Option<SocketAddr>,
    ) -> Result<Node, NodeError> {
        let snapshots = self.snapshots.ok_or_else(no_shared_store)?;
        let store = cairn_persistence::Store::open(
            &snapshots.store,
            cairn_persistence::StoreOptions::default(),
        )?;
        let schemas = Arc::new(crate::snapshots::SchemaCheck::new(
            &self.registry,
            snapshots.migrations.clone(),
        ));
        let blueprint = Blueprint {
            config: self.config,
            registry: self.registry,
            egress: self
                .egress
                .into_iter()
                .map(|(name, sink)| (name, SharedSink::new(sink)))
                .collect(),
            ingress: self.ingress,
            schemas,
        };
        let cluster = ClusterNode::join(
            settings,
            cluster_port,
            MemberSetup {
                blueprint,
                store,
                http,
                interval: snapshots.interval,
                retention: snapshots.retention,
                last_members: Arc::default(),
            },
        )
        .await?;
        Ok(Node {
            core: Core::Member(Arc::new(cluster)),
            http: None,
        })
    }
}

/// Why a node with these snapshot settings cannot be a cluster member, if
/// it cannot.
fn cluster_member_error(
    snapshots: Option<&SnapshotSettings>,
    allow_fallback: bool,
) -> Option<Error> {
    let Some(snapshots) = snapshots else {
        return Some(no_shared_store());
    };
    if snapshots.store.starts_with("memory:") {
        return Some(Error::Config(
            "a cluster member needs a store every member shares (`fs://` on one machine, or `s3://`); `memory://` is private to one process".into(),
        ));
    }
    if allow_fallback {
        return Some(Error::Config(
            "a cluster member cannot fall back to an earlier snapshot: every member must restore the epoch the coordinator chose".into(),
        ));
    }
    None
}

fn no_shared_store() -> Error {
    Error::Config("a cluster member needs the store the cluster shares: call `store`".into())
}

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("config", &self.config)
            .field("registry", &self.registry)
            .field(
                "egress",
                &self.egress.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("http", &self.http)
            .field("allow_fallback", &self.allow_fallback)
            .field("cluster", &self.cluster)
            .finish()
    }
}
