//! The member side of the control plane: running the generation the
//! coordinator configured, taking its epochs, and uploading this node's
//! shards' parts.
//!
//! A new generation replaces the running one whole: the runtime stops,
//! and a new one starts with the shards the map gives this node, restored
//! from the committed epoch the coordinator chose (SNAPSHOTS §3.7). Frames
//! sent under an older generation are dropped; frames of a newer one wait
//! until it runs here. Within a generation, shards move at epoch cuts
//! (`handoff`) without stopping the runtime.

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_core::{Epoch, Placement, Runtime, ShardId, ShardSnapshot};
use cairn_persistence::TypeSchema;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::messages::{Configuration, Control};
use super::Shared;
use crate::dataplane::{deliver, Delivered, TransportSink};
use crate::snapshots::{recovery::restore_owned, schemas, upload, PartUpload};
use crate::transport::{Delivery, Generation, NodeId, Transport};

/// The generation running on this node.
pub(crate) struct Local {
    pub(crate) configuration: Configuration,
    pub(crate) runtime: Runtime,
    tasks: Vec<JoinHandle<()>>,
}

impl Local {
    /// Stops the generation's tasks and its runtime.
    pub(crate) async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        self.runtime.shutdown().await;
    }
}

/// What the member knows: the highest generation it was told of, the
/// runtime of the one it runs, and frames that came early.
#[derive(Default)]
pub(crate) struct LocalState {
    /// The highest generation configured here; lower ones are refused.
    pub(crate) generation: Generation,
    /// The generation running, once its runtime has started.
    pub(crate) running: Option<Local>,
    /// Frames of generations above `generation`, in arrival order.
    early: Vec<Delivery>,
}

/// Delivers a data frame to the running generation, keeps it if it is of
/// a newer one, and drops it if it is of an older one.
pub(crate) fn deliver_data(shared: &Shared, delivery: Delivery) {
    let mut state = shared.member.lock();
    let generation = state.generation;
    let running = state
        .running
        .as_ref()
        .is_some_and(|local| local.configuration.generation == generation);
    if running {
        admit(&mut state, generation, delivery);
        return;
    }
    // Configuring: everything but older generations waits.
    match crate::dataplane::generation::untag(&delivery.payload) {
        Some((sent_under, _)) if sent_under >= generation => state.early.push(delivery),
        _ => metrics::counter!(STALE_FRAMES).increment(1),
    }
}

/// Delivers a frame to the running `generation`, keeps it if it is of a
/// newer one, and drops it if it is of an older one.
fn admit(state: &mut LocalState, generation: Generation, delivery: Delivery) {
    let Some(local) = &state.running else {
        return;
    };
    match deliver(&local.runtime, generation, &delivery) {
        Delivered::NotAdmitted(Some(crate::dataplane::generation::Admission::Early)) => {
            state.early.push(delivery)
        }
        Delivered::NotAdmitted(_) => metrics::counter!(STALE_FRAMES).increment(1),
        Delivered::Done | Delivered::ShuttingDown => {}
    }
}

/// Frames dropped because they were sent under an older generation.
pub const STALE_FRAMES: &str = "cairn_cluster_stale_frames_total";

/// Takes the member's control messages, one at a time, in order.
pub(crate) async fn run(shared: Arc<Shared>, mut inbox: mpsc::UnboundedReceiver<Control>) {
    while let Some(control) = inbox.recv().await {
        match control {
            Control::Configure(configuration) => configure(&shared, configuration).await,
            Control::StartEpoch { generation, epoch } => {
                if let Some(runtime) = shared.runtime_of(generation) {
                    if let Err(error) = runtime.start_epoch(epoch) {
                        tracing::warn!(epoch, %error, "cannot start the epoch");
                    }
                }
            }
            Control::PrepareHandoff {
                generation,
                epoch,
                owners,
            } => {
                let coordinator = shared
                    .member
                    .lock()
                    .running
                    .as_ref()
                    .map(|local| local.configuration.coordinator.clone());
                if let Some(coordinator) = coordinator {
                    super::handoff::prepare(&shared, generation, epoch, owners, &coordinator);
                }
            }
            Control::Committed { generation, epoch } => {
                if let Some(runtime) = shared.runtime_of(generation) {
                    if let Err(error) = runtime.epoch_committed(epoch) {
                        tracing::warn!(epoch, %error, "cannot record the commit");
                    }
                    super::handoff::finish(&shared, generation, epoch).await;
                }
            }
            Control::Aborted { generation, epoch } => {
                if let Some(runtime) = shared.runtime_of(generation) {
                    if let Err(error) = runtime.epoch_aborted(epoch) {
                        tracing::warn!(epoch, %error, "cannot record the abort");
                    }
                }
            }
            other => tracing::error!(?other, "not a member's message; this is a bug"),
        }
    }
}

/// Runs `configuration` here, unless a generation as high already runs
/// (then only `Ready` is repeated, for a coordinator that asks again).
async fn configure(shared: &Arc<Shared>, configuration: Configuration) {
    let generation = configuration.generation;
    let coordinator = configuration.coordinator.clone();
    let previous = {
        let mut state = shared.member.lock();
        if generation < state.generation {
            tracing::info!(%generation, current = %state.generation, "configuration of an older generation refused");
            return;
        }
        if generation == state.generation {
            let running = state
                .running
                .as_ref()
                .is_some_and(|local| local.configuration.generation == generation);
            drop(state);
            if running {
                shared.send(&coordinator, Control::Ready { generation });
            }
            return;
        }
        state.generation = generation;
        state.running.take()
    };
    if let Some(previous) = previous {
        let stopping = std::time::Instant::now();
        previous.stop().await;
        tracing::debug!(%generation, took = ?stopping.elapsed(), "the previous generation stopped");
    }
    shared
        .asks
        .fail_all("the cluster moved to a new generation while the ask was on its way; ask again");
    // Frames the previous generation's runtime sent to dead members since
    // gossip reported them are dropped with it.
    super::forget_dead(shared, &shared.membership.view());
    match start_generation(shared, &configuration).await {
        Ok(local) => {
            let owned = local.runtime.owned_shards().len();
            let runtime = local.runtime.clone();
            {
                let mut state = shared.member.lock();
                if state.generation != generation {
                    // A newer configuration arrived while this one started.
                    drop(state);
                    tokio::spawn(async move { runtime.shutdown().await });
                    return;
                }
                state.running = Some(local);
                // Under the lock, so that no frame the router delivers
                // from now on overtakes one that came early.
                let early = std::mem::take(&mut state.early);
                for delivery in early {
                    admit(&mut state, generation, delivery);
                }
            }
            shared.runtime.send_replace(Some(runtime));
            shared.last_members.store(
                configuration.members().len(),
                std::sync::atomic::Ordering::Relaxed,
            );
            tracing::info!(
                %generation,
                shards = owned,
                restored = ?configuration.restore,
                %coordinator,
                "running a new generation"
            );
            shared.send(&coordinator, Control::Ready { generation });
        }
        Err(error) => {
            tracing::error!(%generation, %error, "cannot run the new generation; waiting for the coordinator to try again");
        }
    }
}

/// Restores this node's shards of `configuration` and starts them.
async fn start_generation(
    shared: &Arc<Shared>,
    configuration: &Configuration,
) -> Result<Local, crate::NodeError> {
    let blueprint = &shared.blueprint;
    let me = shared.transport.local_node();
    let owned_mask: Vec<bool> = configuration
        .owners
        .iter()
        .map(|owner| owner == me)
        .collect();
    let restoring = std::time::Instant::now();
    let restore = restore_owned(
        &shared.store,
        configuration.restore,
        blueprint.config.shard_count,
        &blueprint.schemas,
        &owned_mask,
    )
    .await?;
    tracing::debug!(generation = %configuration.generation, took = ?restoring.elapsed(), "this node's shards read from the store");
    for member in configuration.members() {
        if &member != me {
            shared.transport.add_peer(member);
        }
    }
    let owned: Vec<ShardId> = blueprint
        .config
        .shard_count
        .ids()
        .filter(|shard| owned_mask[shard.index()])
        .collect();
    let sink = TransportSink::new(
        shared.transport.clone(),
        configuration.generation,
        configuration.owners.clone(),
        shared.max_payload,
    )
    .with_asks(Arc::new(super::relay::Relay::of(shared)));
    let started = blueprint.start(
        Placement::partial(owned.iter().copied(), Arc::new(sink)),
        restore,
    )?;
    let generation = configuration.generation;
    let coordinator = configuration.coordinator.clone();
    let uploader = tokio::spawn(upload_parts(
        shared.clone(),
        generation,
        coordinator.clone(),
        started.parts,
    ));
    let pressure = {
        let (shared, pressure) = (shared.clone(), started.pressure);
        tokio::spawn(async move {
            loop {
                pressure.notified().await;
                shared.send(&coordinator, Control::EpochWanted { generation });
            }
        })
    };
    Ok(Local {
        configuration: configuration.clone(),
        runtime: started.runtime,
        tasks: vec![uploader, pressure],
    })
}

/// Uploads each part of this node's shards as it comes, and tells the
/// coordinator of the parts stored, several at a time when they finish
/// together. (How many shards of an epoch a member runs changes with a
/// handoff; the coordinator counts the parts by shard.) A failed upload is
/// logged; the coordinator then aborts the epoch when its time runs out,
/// and the shards capture again what it held.
async fn upload_parts(
    shared: Arc<Shared>,
    generation: Generation,
    coordinator: NodeId,
    mut parts: mpsc::UnboundedReceiver<ShardSnapshot>,
) {
    let types: Arc<[TypeSchema]> = schemas(&shared.blueprint.registry).into();
    let (done_tx, mut done) = mpsc::unbounded_channel::<(Epoch, Option<PartUpload>)>();
    loop {
        tokio::select! {
            part = parts.recv() => {
                let Some(part) = part else { return };
                let (store, types, done_tx) = (shared.store.clone(), types.clone(), done_tx.clone());
                let incarnation = shared.transport.incarnation().0;
                tokio::spawn(async move {
                    let epoch = part.epoch;
                    let uploaded = upload(&store, &types, part, generation.0, incarnation).await;
                    let uploaded = uploaded
                        .map_err(|error| tracing::warn!(epoch, %error, "part upload failed"))
                        .ok();
                    let _ = done_tx.send((epoch, uploaded));
                });
            }
            Some(first) = done.recv() => {
                let mut finished: BTreeMap<Epoch, Vec<PartUpload>> = BTreeMap::new();
                let mut next = Some(first);
                while let Some((epoch, uploaded)) = next {
                    if let Some(uploaded) = uploaded {
                        finished.entry(epoch).or_default().push(uploaded);
                    }
                    next = done.try_recv().ok();
                }
                for (epoch, parts) in finished {
                    shared.send(&coordinator, Control::Parts { generation, epoch, parts });
                }
            }
        }
    }
}
