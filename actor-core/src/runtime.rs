//! The shards of one node and the handle that reaches them from outside the
//! actor system.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::address::{Address, ShardCount, ShardId};
use crate::egress::{EgressHub, EgressSink, EgressThreads};
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::ingress::{
    hosting_shard, spawn_reader, FlowControl, Ingress, ReaderHandle, ReaderStop, ReaderTarget,
    SplitCursor,
};
use crate::message::{Message, Payload};
use crate::registry::Registry;
use crate::remote::{LinkCuts, NodeMarkers, Outlet, Placement, RemoteOutlet, Role};
use crate::shard::{Inbound, InboxSender, Shard, ShardSettings};
use crate::snapshot::{Epoch, ShardSnapshot};

mod asks;
mod handoff;
mod inbound;
mod inspection;
pub use handoff::HandoffPlan;

/// How a node's shards run.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// The number of shards, fixed for the life of the cluster. Default 64.
    pub shard_count: ShardCount,
    /// How long an actor may go without a message before it is passivated.
    /// Default 5 minutes.
    pub idle_timeout: Duration,
    /// How long `ask` waits for a reply by default. Default 30 s.
    pub ask_timeout: Duration,
    /// How many messages a shard handles per turn before it flushes its
    /// outgoing batches and lets other shards run. Default 1024.
    pub turn_budget: usize,
    /// The most actors the node keeps active (in memory, deserialized),
    /// spread evenly over the shards; `None` for no bound (the default).
    /// Over it, the least recently active clean actors are passivated; with
    /// snapshots, dirty actors are never dropped: the node takes an epoch
    /// sooner so that they become clean.
    pub max_active_actors: Option<usize>,
    /// How many messages a shard may have sent on one channel (to one other
    /// shard, here or on another node) that the receiver has not yet
    /// handled; at that many it runs no turn until the receiver reports
    /// progress (SNAPSHOTS §3.1 rule 3). Bounds the queue a fast sender
    /// builds in front of a slow receiver. Default 65,536 (`docs/bench.md`,
    /// "Credit window": smaller windows cost throughput across nodes).
    pub channel_window: u64,
    /// How long a shard with a full window waits for credit before it runs
    /// on anyway: shards that message each other can fill each other's
    /// windows and wait for each other forever without it. Default 1 s.
    pub credit_patience: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            shard_count: ShardCount::new(64).expect("64 is not zero"),
            idle_timeout: Duration::from_secs(300),
            ask_timeout: Duration::from_secs(30),
            turn_budget: 1024,
            max_active_actors: None,
            channel_window: 64 * 1024,
            credit_patience: Duration::from_secs(1),
        }
    }
}

impl RuntimeConfig {
    fn validate(&self) -> Result<()> {
        if self.turn_budget == 0 {
            return Err(Error::Config("the turn budget must be at least 1".into()));
        }
        if self.max_active_actors == Some(0) {
            return Err(Error::Config(
                "the bound on active actors must be at least 1".into(),
            ));
        }
        if self.channel_window == 0 {
            return Err(Error::Config(
                "the channel window must be at least 1".into(),
            ));
        }
        if self.credit_patience.is_zero() {
            return Err(Error::Config("the credit patience must be positive".into()));
        }
        if self.idle_timeout.is_zero() {
            return Err(Error::Config("the idle timeout must be positive".into()));
        }
        Ok(())
    }
}

/// How a runtime takes part in snapshots: where its shards hand their
/// finished parts, and the committed state each shard resumes from.
#[derive(Debug)]
pub struct SnapshotLink {
    /// Where shards send their part of each epoch.
    pub parts: mpsc::UnboundedSender<ShardSnapshot>,
    /// For each shard, in order, the committed snapshot to resume from
    /// (its chain folded by [`ShardSnapshot::fold`]); empty, or `None`
    /// entries, for a fresh start.
    pub restore: Vec<Option<ShardSnapshot>>,
    /// Notified when a shard over its bound on active actors needs an
    /// epoch to commit before it can passivate (see
    /// [`RuntimeConfig::max_active_actors`]).
    pub pressure: Arc<tokio::sync::Notify>,
}

/// The running shards of a node: cheap to clone, shared by every handle.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    config: RuntimeConfig,
    registry: Arc<Registry>,
    /// Where messages sent from outside go, for each shard: its inbox if it
    /// runs here, else the remote sink. Replaced when a handoff is
    /// prepared.
    routes: RwLock<Arc<[Outlet]>>,
    /// The inbox of every shard hosted here, by shard: running, handing
    /// off, or arriving.
    hosted: RwLock<Vec<Option<Hosted>>>,
    /// The handoff prepared and not yet finished (SNAPSHOTS §3.8).
    handoff: Mutex<Option<handoff::Pending>>,
    /// Batches the markers of this node's shards for other nodes.
    markers: Arc<NodeMarkers>,
    /// The last cut received per channel on each node link, to expand
    /// marker batches from other nodes.
    link_cuts: Mutex<LinkCuts>,
    /// What starting a shard takes, for shards that arrive later.
    launch: Launch,
    /// Whether some shards run on other nodes.
    partial: bool,
    egress: EgressHub,
    running: Mutex<Option<Running>>,
    shutting_down: AtomicBool,
    /// Whether the shards take part in snapshots.
    snapshots: bool,
    /// Each ingress's name and flow control.
    ingress: Vec<NamedFlow>,
}

/// A shard whose inbox is on this node.
#[derive(Clone)]
struct Hosted {
    inbox: InboxSender,
    /// Arriving in a handoff: its inbox takes messages, and the shard
    /// starts once the handoff's epoch commits.
    arriving: bool,
}

/// What a shard needs to start, kept for the shards a handoff brings.
struct Launch {
    settings: ShardSettings,
    parts: Option<crate::shard::SnapshotSender>,
    sources: Vec<Ingress>,
}

/// What shutdown waits for.
struct Running {
    tasks: Vec<JoinHandle<()>>,
    readers: Vec<ReaderHandle>,
    egress_threads: EgressThreads,
}

impl Runtime {
    /// Starts the shards as tasks on the current tokio runtime, and one thread
    /// per egress sink. Must be called from within a tokio runtime.
    ///
    /// With a [`SnapshotLink`], shards track which actors each snapshot must
    /// capture, answer [`Runtime::start_epoch`], and resume from the given
    /// committed state; a part that fails to decode is an error and nothing
    /// starts. Each ingress split is read from the offset its hosting
    /// shard's state recorded, or from its start.
    pub fn start(
        config: RuntimeConfig,
        registry: Registry,
        egress: Vec<(String, Box<dyn EgressSink>)>,
        snapshots: Option<SnapshotLink>,
        ingress: Vec<Ingress>,
    ) -> Result<Self> {
        Self::start_with(
            config,
            registry,
            egress,
            snapshots,
            ingress,
            Placement::all(),
        )
    }

    /// [`Runtime::start`] running only the shards `placement` owns; the
    /// channels to the others, and messages sent from outside to their
    /// actors, go to its [`RemoteShards`](crate::RemoteShards), and frames
    /// from them come in through [`Runtime::deliver_remote`]. Only the
    /// owned shards' entries of the snapshot link's `restore` are used, and
    /// only the ingress splits they host are read here.
    pub fn start_with(
        config: RuntimeConfig,
        registry: Registry,
        egress: Vec<(String, Box<dyn EgressSink>)>,
        snapshots: Option<SnapshotLink>,
        ingress: Vec<Ingress>,
        placement: Placement,
    ) -> Result<Self> {
        config.validate()?;
        let owned = placement.owned_mask(config.shard_count)?;
        refuse_duplicates("egress", egress.iter().map(|(name, _)| name.as_str()))?;
        refuse_duplicates("ingress", ingress.iter().map(|source| source.name()))?;
        let registry = Arc::new(registry);
        let (hub, egress_threads) = EgressHub::start(egress);
        let partial = owned.contains(&false);
        let mut receivers = Vec::with_capacity(owned.len());
        let mut outlets = Vec::with_capacity(owned.len());
        for (id, owned) in config.shard_count.ids().zip(&owned) {
            if *owned {
                let (sender, receiver) = mpsc::unbounded_channel::<Inbound>();
                outlets.push(Outlet::Local(sender));
                receivers.push(Some(receiver));
            } else {
                let remote = placement.remote().ok_or_else(|| {
                    Error::Config("a placement that leaves out shards needs a remote sink".into())
                })?;
                outlets.push(Outlet::Remote(Box::new(RemoteOutlet::new(
                    id,
                    remote.clone(),
                    registry.clone(),
                ))));
                receivers.push(None);
            }
        }
        let shards: Arc<[Outlet]> = outlets.into();
        let takes_snapshots = snapshots.is_some();
        let markers = Arc::new(NodeMarkers::new(
            owned
                .iter()
                .map(|owned| if *owned { Role::Steady } else { Role::Absent })
                .collect(),
        ));
        let settings = ShardSettings {
            turn_budget: config.turn_budget,
            idle_timeout: config.idle_timeout,
            max_active: config
                .max_active_actors
                .map(|max| max.div_ceil(config.shard_count.get() as usize)),
            pressure: snapshots.as_ref().map(|link| link.pressure.clone()),
            markers: markers.clone(),
            channel_window: config.channel_window,
            credit_patience: config.credit_patience,
        };
        let (parts, mut restore) = match snapshots {
            Some(link) => (Some(link.parts), link.restore),
            None => (None, Vec::new()),
        };
        restore.resize(config.shard_count.get() as usize, None);
        let mut ready = Vec::with_capacity(restore.len());
        let mut recorded_offsets = std::collections::HashMap::new();
        for ((inbox, id), restore) in receivers
            .into_iter()
            .zip(config.shard_count.ids())
            .zip(restore)
        {
            let Some(inbox) = inbox else {
                continue;
            };
            let mut shard = Shard::new(
                id,
                settings.clone(),
                registry.clone(),
                inbox,
                shards.clone(),
                hub.clone(),
                parts.clone(),
            );
            if let Some(mut restore) = restore {
                for cursor in std::mem::take(&mut restore.ingress) {
                    recorded_offsets.insert((cursor.source, cursor.split), cursor.offset);
                }
                shard.restore(restore)?;
            }
            ready.push(shard);
        }
        let flows: Vec<NamedFlow> = ingress
            .iter()
            .map(|source| {
                let flow = FlowControl::new(
                    source.name(),
                    source.max_in_flight,
                    placement.remote().cloned(),
                );
                (source.name.clone(), flow)
            })
            .collect();
        let readers = host_ingress(
            &ingress,
            &flows,
            &mut ready,
            &registry,
            config.shard_count,
            recorded_offsets,
        );
        let tasks = ready
            .into_iter()
            .map(|shard| tokio::spawn(shard.run()))
            .collect();
        let hosted = shards
            .iter()
            .map(|outlet| {
                outlet.local().map(|inbox| Hosted {
                    inbox: inbox.clone(),
                    arriving: false,
                })
            })
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                registry,
                routes: RwLock::new(shards),
                hosted: RwLock::new(hosted),
                handoff: Mutex::new(None),
                markers,
                link_cuts: Mutex::new(LinkCuts::default()),
                launch: Launch {
                    settings,
                    parts,
                    sources: ingress,
                },
                partial,
                egress: hub,
                running: Mutex::new(Some(Running {
                    tasks,
                    readers,
                    egress_threads,
                })),
                shutting_down: AtomicBool::new(false),
                snapshots: takes_snapshots,
                ingress: flows,
            }),
        })
    }

    /// The configuration the runtime runs with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// The registered function types.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Sends `message` to the actor at `to`, fire and forget. Fails at once
    /// if the function type is not registered or takes no such message.
    pub fn send<M: Message>(&self, to: Address, message: M) -> Result<()> {
        self.send_payload(to, Payload::new(message))
    }

    /// Sends an already type-erased message (decoded from JSON or the wire).
    pub fn send_payload(&self, to: Address, payload: Payload) -> Result<()> {
        self.inner.registry.check_accepts(to.function(), &payload)?;
        let envelope = Envelope::new(to, None, payload);
        self.deliver(envelope)
    }

    fn deliver(&self, envelope: Envelope) -> Result<()> {
        if self.is_shutting_down() {
            return Err(Error::ShuttingDown);
        }
        let shard = envelope.to.shard(self.inner.config.shard_count);
        match &self.inner.routes.read()[shard.index()] {
            Outlet::Local(inbox) => inbox
                .send(Inbound::External(envelope))
                .map_err(|_| Error::ShuttingDown),
            Outlet::Remote(remote) => remote.forward_external(envelope),
        }
    }

    /// Whether `shard` runs on this node (a shard arriving in a handoff
    /// runs here once its epoch commits; one leaving runs here until then).
    pub fn owns(&self, shard: ShardId) -> bool {
        self.inner
            .hosted
            .read()
            .get(shard.index())
            .is_some_and(|hosted| hosted.as_ref().is_some_and(|hosted| !hosted.arriving))
    }

    /// The shards that run on this node, in order.
    pub fn owned_shards(&self) -> Vec<ShardId> {
        self.inner
            .config
            .shard_count
            .ids()
            .filter(|shard| self.owns(*shard))
            .collect()
    }

    /// The inboxes of the shards that run here, in shard order.
    fn local_inboxes(&self) -> Vec<InboxSender> {
        self.inner
            .hosted
            .read()
            .iter()
            .flatten()
            .filter(|hosted| !hosted.arriving)
            .map(|hosted| hosted.inbox.clone())
            .collect()
    }

    /// The inboxes of every shard hosted here, arriving ones included.
    fn hosted_inboxes(&self) -> Vec<InboxSender> {
        self.inner
            .hosted
            .read()
            .iter()
            .flatten()
            .map(|hosted| hosted.inbox.clone())
            .collect()
    }

    /// The inbox of `shard`, which must run here.
    fn local_inbox(&self, shard: ShardId) -> Result<InboxSender> {
        match self.inner.hosted.read().get(shard.index()) {
            Some(Some(hosted)) if !hosted.arriving => Ok(hosted.inbox.clone()),
            Some(_) => Err(Error::RemoteShard { shard: shard.0 }),
            None => Err(Error::Config(format!("no shard {shard}"))),
        }
    }

    /// The inbox of `shard`, which must be hosted here, arriving or not.
    fn hosted_inbox(&self, shard: ShardId) -> Result<InboxSender> {
        match self.inner.hosted.read().get(shard.index()) {
            Some(Some(hosted)) => Ok(hosted.inbox.clone()),
            Some(None) => Err(Error::RemoteShard { shard: shard.0 }),
            None => Err(Error::Config(format!("no shard {shard}"))),
        }
    }

    /// Waits until every message sent before the call, and every message
    /// those caused, has been handled and its egress published. Timers still
    /// pending are not waited for.
    ///
    /// Termination is detected with Mattern's four-counter method: two
    /// consecutive probe waves that find every shard idle and the same number
    /// of messages sent between shards as received.
    ///
    /// Only a runtime that runs every shard can tell: on a node that runs
    /// some, messages to and from other nodes make its own counts differ,
    /// and the wave must span the cluster, so this fails with
    /// [`Error::Config`].
    pub async fn flush(&self) -> Result<()> {
        if self.inner.partial {
            return Err(Error::Config(
                "flush needs every shard; on a node that runs some, probe the whole cluster".into(),
            ));
        }
        let mut previous: Option<(u64, u64)> = None;
        // Probing wakes every shard, so back off while the system is busy.
        let mut pause = Duration::from_micros(100);
        loop {
            let stats = self.shard_stats().await?;
            let idle = stats.iter().all(|shard| shard.queued_messages == 0);
            let sent: u64 = stats.iter().map(|s| s.messages_sent_to_shards).sum();
            let received: u64 = stats.iter().map(|s| s.messages_received_from_shards).sum();
            let wave = (sent, received);
            if idle && sent == received && previous == Some(wave) {
                break;
            }
            previous = (idle && sent == received).then_some(wave);
            if previous.is_none() {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(20));
            }
        }
        self.inner.egress.barrier().await;
        Ok(())
    }

    /// Starts snapshot `epoch` on every shard (SNAPSHOTS §3.2 rule 4). Each
    /// shard sends its part to the [`SnapshotLink`] once its incoming
    /// channels have closed.
    pub fn start_epoch(&self, epoch: Epoch) -> Result<()> {
        self.broadcast(|| Inbound::StartEpoch(epoch))
    }

    /// Tells every shard that `epoch` committed: what it captured is clean.
    pub fn epoch_committed(&self, epoch: Epoch) -> Result<()> {
        self.broadcast(|| Inbound::Committed(epoch))
    }

    /// Tells every shard that `epoch` will never commit: what it captured
    /// must be captured again.
    pub fn epoch_aborted(&self, epoch: Epoch) -> Result<()> {
        self.broadcast(|| Inbound::Aborted(epoch))
    }

    fn broadcast(&self, item: impl Fn() -> Inbound) -> Result<()> {
        for shard in self.hosted_inboxes() {
            shard.send(item()).map_err(|_| Error::ShuttingDown)?;
        }
        Ok(())
    }

    /// Whether every ingress split has been read to its end and each of its
    /// records sent on (those messages may still be queued: see
    /// [`Runtime::flush`]).
    pub async fn ingress_finished(&self) -> Result<bool> {
        let stats = self.shard_stats().await?;
        Ok(stats.iter().all(|shard| shard.ingress_splits_open == 0))
    }

    /// The records of ingress `name` read and not yet handled by their
    /// actors, or `None` if the node has no such ingress.
    pub fn ingress_in_flight(&self, name: &str) -> Option<usize> {
        self.inner
            .ingress
            .iter()
            .find(|(source, _)| &**source == name)
            .map(|(_, flow)| flow.in_flight())
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Acquire)
    }

    /// Stops the node. Each shard handles the messages it had accepted when
    /// the stop reached it and flushes what they sent (a message for a shard
    /// that has already stopped is dropped); asks still waiting get
    /// `ShuttingDown`; pending egress is written out and the sink threads
    /// joined. Idempotent.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        let Some(running) = self.inner.running.lock().take() else {
            return;
        };
        // Readers stop first: a record they had not handed over is read
        // again from the recorded offset after a restart.
        for reader in &running.readers {
            reader.flow.close();
        }
        for shard in self.hosted_inboxes() {
            let _ = shard.send(Inbound::Shutdown);
        }
        for task in running.tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "a shard task failed");
            }
        }
        for reader in running.readers {
            if let Err(error) = reader.task.await {
                tracing::error!(%error, "an ingress reader failed");
            }
        }
        self.inner.egress.close();
        let threads = running.egress_threads;
        let _ = tokio::task::spawn_blocking(move || threads.join()).await;
    }
}

/// An ingress's name and its flow control.
type NamedFlow = (Arc<str>, Arc<FlowControl>);

/// Fails if a name is given twice.
fn refuse_duplicates<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut names: Vec<&str> = names.collect();
    names.sort_unstable();
    match names.windows(2).find(|pair| pair[0] == pair[1]) {
        Some(pair) => Err(Error::Config(format!(
            "{what} `{}` is added twice",
            pair[0]
        ))),
        None => Ok(()),
    }
}

/// Gives each ingress split hosted by one of `shards` to its shard, at the
/// offset recorded for it (an offset for a source the node no longer has
/// is dropped with a warning), and starts its reader.
fn host_ingress(
    ingress: &[Ingress],
    flows: &[NamedFlow],
    shards: &mut [Shard],
    registry: &Arc<Registry>,
    shard_count: ShardCount,
    mut recorded: std::collections::HashMap<(String, u32), Option<u64>>,
) -> Vec<ReaderHandle> {
    let mut readers = Vec::new();
    for shard in shards.iter_mut() {
        let mut cursors = Vec::new();
        for (source, (_, flow)) in ingress.iter().zip(flows) {
            for split in 0..source.source.split_count() {
                if hosting_shard(source.name(), split, shard_count) != shard.id() {
                    continue;
                }
                let offset = recorded
                    .remove(&(source.name().to_owned(), split))
                    .flatten();
                let stop = Arc::new(ReaderStop::default());
                let target = ReaderTarget {
                    shard: shard.inbox(),
                    cursor: cursors.len(),
                    stop: stop.clone(),
                };
                cursors.push(SplitCursor {
                    source: source.name.clone(),
                    split,
                    offset,
                    finished: false,
                    reader_stop: stop,
                });
                readers.push(spawn_reader(
                    source,
                    flow.clone(),
                    registry.clone(),
                    split,
                    offset,
                    target,
                ));
            }
        }
        shard.host_splits(cursors);
    }
    for (source, split) in recorded.keys() {
        tracing::warn!(
            source,
            split,
            "recorded offset of an ingress this node lacks; dropped"
        );
    }
    readers
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("shards", &self.inner.config.shard_count)
            .field("shutting_down", &self.is_shutting_down())
            .finish_non_exhaustive()
    }
}
