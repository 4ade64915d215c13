//! The cluster's snapshot coordinator (SNAPSHOTS §3.4, §3.7, §3.9). Every
//! member runs this loop; it acts only on the member the membership names
//! coordinator (the live member with the oldest incarnation).
//!
//! The coordinator decides generations: when the live members differ from
//! the running generation's, it claims the next generation in the store
//! (create-only), fences any older coordinator by writing an `ABORTED`
//! tombstone at the next epoch number, places the shards on the new
//! members' ring and has every member restore its shards from the last
//! committed epoch (version 1 of §3.9: every change rolls back to the last
//! commit). When nobody died, it commits an epoch first, so little work is
//! done again.
//!
//! Within a generation it drives epochs: `StartEpoch` to every member,
//! `Parts` back once each member's shards' parts are uploaded, then the
//! manifest, create-only, then `Committed`. An epoch that cannot finish is
//! aborted with a tombstone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_core::Epoch;
use cairn_persistence::{CommitOutcome, GcPolicy, Manifest};
use tokio::sync::{mpsc, oneshot, watch};

use super::messages::{Configuration, Control};
use super::Shared;
use crate::error::NodeError;
use crate::membership::{MemberState, MembershipView, ShardRing};
use crate::snapshots::{
    extend_chains, recovery::chains_of, unix_ms_now, Chains, EpochRecord, GcCadence, ManifestOf,
    PartUpload,
};
use crate::transport::{Generation, NodeId, Transport};

/// How long the coordinator waits for every member to run a new generation.
pub(super) const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the coordinator waits for every shard's part of an epoch.
pub(super) const PART_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a coordinator that runs no generation yet lets gossip settle
/// before its first configuration, so members starting together land in
/// one generation.
const SETTLE: Duration = Duration::from_secs(2);

/// What reaches the coordinator loop.
pub(crate) enum Input {
    /// A control message from a member.
    Member(NodeId, Control),
    /// [`crate::Node::snapshot_now`]: take an epoch now and say how it ended.
    SnapshotNow(oneshot::Sender<Result<Epoch, NodeError>>),
}

/// What the coordinator loop is configured with.
pub(crate) struct Settings {
    pub(crate) interval: Option<Duration>,
    pub(crate) retention: GcPolicy,
}

/// The generation this node coordinates.
pub(super) struct Active {
    /// The generation and its current shard map.
    pub(super) configuration: Configuration,
    /// The members epochs go to: the map's, and during a handoff also
    /// those joining or leaving.
    pub(super) members: BTreeSet<NodeId>,
    chains: Chains,
    last_committed: Option<Epoch>,
    last_started: Option<Epoch>,
    /// Whether the store must be asked for the next number (after an
    /// abort: another writer may have taken numbers).
    resync: bool,
    gc: GcCadence,
    /// Callers of `snapshot_now` who asked while an epoch was being taken:
    /// the next epoch is theirs.
    pub(super) queued: Vec<oneshot::Sender<Result<Epoch, NodeError>>>,
}

/// Runs the coordinator loop until the inbox closes.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut inbox: mpsc::UnboundedReceiver<Input>,
    settings: Settings,
) {
    let mut views = shared.membership.watch();
    let mut ticks = settings.interval.map(|period| {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });
    let mut active: Option<Active> = None;
    let mut settled = false;
    loop {
        let view = views.borrow_and_update().clone();
        if view.coordinator.as_ref() != Some(shared.me()) {
            if active.take().is_some() {
                tracing::info!(coordinator = ?view.coordinator, "no longer the coordinator");
            }
            shared.status.set_coordinating(None);
            settled = false;
            tokio::select! {
                changed = views.changed() => if changed.is_err() { return },
                input = inbox.recv() => match input {
                    None => return,
                    Some(Input::SnapshotNow(reply)) => {
                        let coordinator = view.coordinator.map(|node| node.to_string());
                        let _ = reply.send(Err(NodeError::NotCoordinator { coordinator }));
                    }
                    Some(Input::Member(..)) => {}
                },
            }
            continue;
        }
        if !settled {
            settled = true;
            // A member taking over from a dead coordinator runs a
            // generation already: it moves on at once.
            if shared.previous_members().0.is_none() {
                tokio::time::sleep(SETTLE).await;
                continue;
            }
        }
        let live = eligible(&shared, &view);
        if active.as_ref().is_none_or(|active| active.members != live) {
            if !super::quorum::has_quorum(&shared, &view) {
                tracing::warn!(
                    live = ?live,
                    "no majority of the last generation's members is reachable: waiting, not reconfiguring"
                );
                active = None;
                tokio::select! {
                    changed = views.changed() => if changed.is_err() { return },
                    () = tokio::time::sleep(SETTLE) => {}
                }
                continue;
            }
            if let Some(current) = active.as_mut() {
                if nobody_died(current, &view) {
                    // A join or a graceful leave: move the shards at an
                    // epoch's cut, pausing only those that move (§3.8).
                    let handed_off = super::rebalance::hand_off(
                        &shared, current, &live, &mut inbox, &mut views, &settings,
                    )
                    .await;
                    match handed_off {
                        Ok(()) => continue,
                        Err(error) => tracing::warn!(
                            %error,
                            "handoff failed; configuring a new generation from the last commit"
                        ),
                    }
                }
            }
            if !super::quorum::confirmed(&shared, &live, &mut inbox).await {
                tokio::select! {
                    changed = views.changed() => if changed.is_err() { return },
                    () = tokio::time::sleep(SETTLE) => {}
                }
                continue;
            }
            match reconfigure(&shared, &live, active.as_ref(), &mut inbox).await {
                Ok(next) => {
                    shared
                        .status
                        .set_coordinating(Some(next.configuration.generation));
                    active = Some(next);
                }
                Err(error) => {
                    tracing::warn!(%error, "reconfiguration failed; trying again");
                    active = None;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            continue;
        }
        let Some(current) = active.as_mut() else {
            continue;
        };
        let replies = if current.queued.is_empty() {
            tokio::select! {
                changed = views.changed() => {
                    if changed.is_err() { return }
                    continue;
                }
                () = tick(&mut ticks) => Vec::new(),
                input = inbox.recv() => match input {
                    None => return,
                    Some(Input::SnapshotNow(reply)) => vec![reply],
                    Some(Input::Member(_, Control::EpochWanted { .. })) => Vec::new(),
                    // Ready or Parts of a generation or epoch no longer waited for.
                    Some(Input::Member(..)) => continue,
                },
            }
        } else {
            std::mem::take(&mut current.queued)
        };
        let outcome = run_epoch(&shared, current, &mut inbox, &mut views, &settings).await;
        if let Some(ticks) = ticks.as_mut() {
            ticks.reset();
        }
        if let Err(NodeError::LostCommitRace { .. }) = &outcome {
            let highest = shared.store.highest_generation().await.ok().flatten();
            if highest > Some(current.configuration.generation.0) {
                tracing::warn!("a newer generation was claimed; stepping down");
                active = None;
            }
        }
        for reply in replies {
            let outcome = match &outcome {
                Ok(epoch) => Ok(*epoch),
                Err(error) => Err(NodeError::Cluster(error.to_string())),
            };
            let _ = reply.send(outcome);
        }
    }
}

async fn tick(ticks: &mut Option<tokio::time::Interval>) {
    match ticks.as_mut() {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The live members that can run this cluster's shards: those with its
/// shard count and its largest frame.
fn eligible(shared: &Shared, view: &MembershipView) -> BTreeSet<NodeId> {
    let shards = shared.blueprint.config.shard_count;
    let misconfigured: BTreeSet<&NodeId> = view
        .misconfigured(shards, shared.max_frame)
        .into_iter()
        .map(|member| {
            tracing::error!(
                member = %member.node,
                shards = member.metadata.shards.get(),
                max_frame = member.metadata.max_frame,
                our_shards = shards.get(),
                our_max_frame = shared.max_frame,
                "member left out: another shard count or largest frame"
            );
            &member.node
        })
        .collect();
    view.live_members()
        .map(|member| &member.node)
        .filter(|node| !misconfigured.contains(node))
        .cloned()
        .collect()
}

/// Whether every member of the running generation is still reachable:
/// alive, or leaving but still serving.
pub(super) fn nobody_died(active: &Active, view: &MembershipView) -> bool {
    active.members.iter().all(|node| {
        view.member(node)
            .is_some_and(|member| member.state != MemberState::Dead)
    })
}

/// Claims the next generation, fences older coordinators, and has `live`
/// run it from the last committed epoch.
async fn reconfigure(
    shared: &Shared,
    live: &BTreeSet<NodeId>,
    previous: Option<&Active>,
    inbox: &mut mpsc::UnboundedReceiver<Input>,
) -> Result<Active, NodeError> {
    let store = &shared.store;
    let incarnation = shared.transport.incarnation().0;
    let floor = previous.map_or(0, |active| active.configuration.generation.0);
    let mut generation = store.highest_generation().await?.unwrap_or(0).max(floor) + 1;
    while store.claim_generation(generation).await? == CommitOutcome::LostRace {
        generation += 1;
    }
    // Fence (§3.9 rule 29): an older coordinator's open epoch can no
    // longer commit, and epochs of older generations above this tombstone
    // are ignored by recovery.
    let fenced = loop {
        let next = store.next_epoch().await?;
        let tombstone = Manifest::tombstone(next, generation, incarnation);
        if store.commit_manifest(&tombstone).await? == CommitOutcome::Committed {
            break next;
        }
    };
    let latest = store.latest_committed().await?;
    let ring = ShardRing::new(live.iter().cloned());
    let map = ring
        .shard_map(Generation(generation), shared.blueprint.config.shard_count)
        .ok_or(NodeError::Reconfiguring)?;
    let configuration = Configuration {
        generation: Generation(generation),
        owners: map.owners,
        restore: latest.as_ref().map(|manifest| manifest.epoch),
        coordinator: shared.me().clone(),
    };
    tracing::info!(
        generation,
        members = ?live,
        restore = ?configuration.restore,
        fenced_epoch = fenced,
        "configuring a new generation"
    );
    // Members of the previous generation that are not in this one learn
    // that they run nothing now (a leaving member then stops).
    let mut told: BTreeSet<NodeId> = live.clone();
    if let Some(previous) = previous {
        told.extend(previous.members.iter().cloned());
    }
    for member in &told {
        shared.send(member, Control::Configure(configuration.clone()));
    }
    let mut waiting: BTreeSet<NodeId> = live.clone();
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    while !waiting.is_empty() {
        let input = tokio::time::timeout_at(deadline, inbox.recv())
            .await
            .map_err(|_| NodeError::MembersNotReady {
                generation,
                missing: waiting.iter().map(ToString::to_string).collect(),
            })?
            .ok_or(NodeError::ShuttingDown)?;
        match input {
            Input::Member(from, Control::Ready { generation: ready }) if ready.0 == generation => {
                waiting.remove(&from);
            }
            Input::SnapshotNow(reply) => {
                let _ = reply.send(Err(NodeError::Reconfiguring));
            }
            Input::Member(..) => {}
        }
    }
    Ok(Active {
        members: live.clone(),
        chains: chains_of(latest.as_ref()),
        last_committed: latest.as_ref().map(|manifest| manifest.epoch),
        last_started: Some(fenced),
        resync: false,
        gc: GcCadence::default(),
        queued: Vec::new(),
        configuration,
    })
}

/// Takes one epoch across the generation and commits it.
async fn run_epoch(
    shared: &Shared,
    active: &mut Active,
    inbox: &mut mpsc::UnboundedReceiver<Input>,
    views: &mut watch::Receiver<MembershipView>,
    settings: &Settings,
) -> Result<Epoch, NodeError> {
    let epoch = number_epoch(shared, active).await?;
    take_epoch(shared, active, epoch, inbox, views, settings).await
}

/// The number of the next epoch, taken: counted here, and the store is
/// listed only after an abort (another writer may have taken numbers).
pub(super) async fn number_epoch(shared: &Shared, active: &mut Active) -> Result<Epoch, NodeError> {
    let epoch = match active.last_started {
        Some(last) if !active.resync => last + 1,
        last => {
            let next = shared.store.next_epoch().await?;
            active.resync = false;
            last.map_or(next, |last| next.max(last + 1))
        }
    };
    active.last_started = Some(epoch);
    Ok(epoch)
}

/// Takes epoch `epoch`, numbered by [`number_epoch`], across
/// `active.members`, and commits it; aborts it with a tombstone if it
/// cannot.
pub(super) async fn take_epoch(
    shared: &Shared,
    active: &mut Active,
    epoch: Epoch,
    inbox: &mut mpsc::UnboundedReceiver<Input>,
    views: &mut watch::Receiver<MembershipView>,
    settings: &Settings,
) -> Result<Epoch, NodeError> {
    let store = &shared.store;
    let generation = active.configuration.generation;
    let incarnation = shared.transport.incarnation().0;
    let started = Instant::now();
    let started_unix_ms = unix_ms_now();
    shared.status.set_open_epoch(Some(epoch));
    for member in &active.members {
        shared.send(member, Control::StartEpoch { generation, epoch });
    }
    let gathered = gather(shared, active, epoch, inbox, views).await;
    let outcome = match gathered {
        Ok(parts) => {
            let bytes = parts.iter().map(|part| part.reference.len).sum();
            let objects = parts.len();
            let channel_log_bytes = parts.iter().map(|part| part.channel_log_bytes).sum();
            let chains = extend_chains(&active.chains, parts);
            let manifest = ManifestOf {
                epoch,
                generation: generation.0,
                incarnation,
                parent: active.last_committed,
                shard_count: shared.blueprint.config.shard_count.get(),
                chains: &chains,
            }
            .build();
            match store.commit_manifest(&manifest).await {
                Ok(CommitOutcome::Committed) => match confirm(store, epoch, generation).await {
                    Ok(()) => {
                        active.chains = chains;
                        Ok((bytes, objects, channel_log_bytes))
                    }
                    Err(error) => Err(error),
                },
                Ok(CommitOutcome::LostRace) => Err(NodeError::LostCommitRace { epoch }),
                Err(error) => Err(error.into()),
            }
        }
        Err(error) => Err(error),
    };
    shared.status.set_open_epoch(None);
    let (bytes, objects, channel_log_bytes) = outcome.as_ref().map_or((0, 0, 0), |sizes| *sizes);
    shared.status.remember(EpochRecord {
        epoch,
        committed: outcome.is_ok(),
        started_unix_ms,
        duration_ms: started.elapsed().as_millis() as u64,
        bytes,
        objects,
        channel_log_bytes,
        error: outcome.as_ref().err().map(ToString::to_string),
    });
    match outcome {
        Ok(_) => {
            active.last_committed = Some(epoch);
            for member in &active.members {
                shared.send(member, Control::Committed { generation, epoch });
            }
            active.gc.committed(store, settings.retention).await;
            tracing::debug!(epoch, %generation, "epoch committed");
            Ok(epoch)
        }
        Err(error) => {
            active.resync = true;
            let tombstone = Manifest::tombstone(epoch, generation.0, incarnation);
            if let Err(tombstone_error) = store.commit_manifest(&tombstone).await {
                tracing::error!(epoch, %tombstone_error, "cannot write the ABORTED tombstone");
            }
            for member in &active.members {
                shared.send(member, Control::Aborted { generation, epoch });
            }
            tracing::warn!(epoch, %error, "epoch aborted");
            Err(error)
        }
    }
}

/// Confirms that committed `epoch` stands: no newer generation has been
/// claimed. A newer coordinator fences below its claim-time `next_epoch`,
/// so if its claim came after this manifest its tombstone lies above
/// `epoch`; if it came before, its tombstone may lie below and void
/// `epoch` at recovery (§3.9), and then the epoch must not be announced,
/// or egress it holds would be released for state that will never be
/// restored. A claim found is taken as a fence either way (cheap, safe:
/// the epoch counts as aborted).
async fn confirm(
    store: &cairn_persistence::Store,
    epoch: Epoch,
    generation: Generation,
) -> Result<(), NodeError> {
    match store.highest_generation().await? {
        Some(highest) if highest > generation.0 => Err(NodeError::LostCommitRace { epoch }),
        _ => Ok(()),
    }
}

/// Waits for every shard's part of `epoch`; gives up when the time runs
/// out or a member of the generation dies.
async fn gather(
    shared: &Shared,
    active: &mut Active,
    epoch: Epoch,
    inbox: &mut mpsc::UnboundedReceiver<Input>,
    views: &mut watch::Receiver<MembershipView>,
) -> Result<Vec<PartUpload>, NodeError> {
    let shard_count = shared.blueprint.config.shard_count.get() as usize;
    let generation = active.configuration.generation;
    let mut parts: BTreeMap<u32, PartUpload> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + PART_TIMEOUT;
    while parts.len() < shard_count {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {
                return Err(NodeError::EpochTimeout {
                    epoch,
                    missing: shard_count - parts.len(),
                    timeout: PART_TIMEOUT,
                });
            }
            changed = views.changed() => {
                if changed.is_err() {
                    return Err(NodeError::ShuttingDown);
                }
                let view = views.borrow().clone();
                if !nobody_died(active, &view) {
                    return Err(NodeError::MemberLost { epoch });
                }
            }
            input = inbox.recv() => match input.ok_or(NodeError::ShuttingDown)? {
                Input::Member(_, Control::Parts { generation: of, epoch: part_epoch, parts: uploaded })
                    if of == generation && part_epoch == epoch =>
                {
                    for part in uploaded {
                        parts.insert(part.shard, part);
                    }
                }
                Input::SnapshotNow(reply) => active.queued.push(reply),
                Input::Member(..) => {}
            },
        }
    }
    Ok(parts.into_values().collect())
}
