//! The member side of moving shards at an epoch cut (SNAPSHOTS §3.8).
//!
//! On `PrepareHandoff` the member gives its runtime the next shard map:
//! its shards switch routes at their own cuts of the epoch, those leaving
//! freeze there, and those arriving get an inbox where post-cut messages
//! wait. Asks follow the new map at once (an ask for an arriving shard
//! waits in its inbox). Once the epoch commits, every part of it is
//! durable: the member reads its arriving shards' parts from the store and
//! starts them at exactly that cut. Nothing else pauses.

use std::sync::Arc;
use std::time::Duration;

use cairn_core::{Epoch, Placement, ShardId};

use super::messages::Control;
use super::Shared;
use crate::dataplane::TransportSink;
use crate::snapshots::recovery::restore_owned;
use crate::transport::{Generation, NodeId, Transport};

/// How long a member reads the parts of the shards arriving at it before it
/// gives up. The member loop waits on this read (nothing else may reach
/// the runtime between the commit and the shards' start), so it must be
/// bounded: a store that stalls would otherwise wedge the member for good
/// while gossip shows it alive. The parts were written within the
/// coordinator's part timeout (10 s) and the read is of the same objects
/// plus their delta chains (a few parts per shard), so 30 s — as long as a
/// member has to start a whole generation, which reads every owned shard's
/// chain — is ample for a healthy store and short next to a stall.
pub(crate) const ARRIVING_PARTS_TIMEOUT: Duration = Duration::from_secs(30);

/// Prepares this member's runtime for the map `owners` at the cut of
/// `epoch`, and tells the coordinator it is ready.
pub(crate) fn prepare(
    shared: &Shared,
    generation: Generation,
    epoch: Epoch,
    owners: Vec<NodeId>,
    coordinator: &NodeId,
) {
    let Some(runtime) = shared.runtime_of(generation) else {
        tracing::warn!(%generation, epoch, "handoff for a generation not running here; ignored");
        return;
    };
    let me = shared.me();
    for owner in &owners {
        if owner != me {
            shared.transport.add_peer(owner.clone());
        }
    }
    let owned: Vec<ShardId> = runtime
        .config()
        .shard_count
        .ids()
        .filter(|shard| owners.get(shard.index()) == Some(me))
        .collect();
    let sink = TransportSink::new(
        shared.transport.clone(),
        generation,
        owners.clone(),
        shared.max_payload,
    )
    .with_asks(Arc::new(super::relay::Relay::of(shared)));
    match runtime.prepare_handoff(epoch, Placement::partial(owned, Arc::new(sink))) {
        Ok(plan) => {
            {
                let mut state = shared.member.lock();
                if let Some(local) = state.running.as_mut() {
                    local.configuration.owners = owners;
                    shared.last_members.store(
                        local.configuration.members().len(),
                        std::sync::atomic::Ordering::Relaxed,
                    );
                }
            }
            tracing::info!(
                epoch,
                arriving = ?plan.arriving,
                departing = ?plan.departing,
                "handoff prepared"
            );
            shared.send(coordinator, Control::Prepared { generation, epoch });
        }
        Err(error) => tracing::warn!(epoch, %error, "cannot prepare the handoff"),
    }
}

/// After `epoch` committed: starts the shards that arrive here from their
/// parts of it. A member that cannot read them, or not within
/// [`ARRIVING_PARTS_TIMEOUT`], rejoins (the coordinator then rolls the
/// cluster back to the last commit and places the shards again), since
/// the cluster cannot go on without them.
pub(crate) async fn finish(shared: &Shared, generation: Generation, epoch: Epoch) {
    let Some(runtime) = shared.runtime_of(generation) else {
        return;
    };
    let Some((prepared, plan)) = runtime.pending_handoff() else {
        return;
    };
    if prepared != epoch {
        return;
    }
    let shards = runtime.config().shard_count;
    let mut arriving = vec![false; shards.get() as usize];
    for shard in &plan.arriving {
        arriving[shard.index()] = true;
    }
    let started = async {
        let restore = restore_owned(
            &shared.store,
            Some(epoch),
            shards,
            &shared.blueprint.schemas,
            &arriving,
        )
        .await?;
        runtime
            .finish_handoff(epoch, restore)
            .map_err(crate::NodeError::from)
    };
    let Ok(started) = tokio::time::timeout(ARRIVING_PARTS_TIMEOUT, started).await else {
        tracing::error!(
            epoch,
            timeout = ?ARRIVING_PARTS_TIMEOUT,
            "the parts of the shards handed to this node did not read in time; rejoining"
        );
        shared.cut_off.send_replace(true);
        return;
    };
    match started {
        Ok(plan) => {
            tracing::info!(epoch, arrived = ?plan.arriving, departed = ?plan.departing, "handoff done");
            // Wakes whoever waits for this node's shards to change (a leave).
            shared.runtime.send_modify(|_| {});
        }
        Err(error) => {
            tracing::error!(epoch, %error, "cannot start the shards handed to this node; rejoining");
            shared.cut_off.send_replace(true);
        }
    }
}
