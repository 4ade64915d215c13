//! The coordinator moving shards when a member joins or leaves gracefully,
//! at an epoch cut and without a global pause (SNAPSHOTS §3.8).
//!
//! 1. Each joining member runs the generation, owning no shard
//!    (`Configure` → `Ready`).
//! 2. The shards are placed on the ring of the live members. Every member
//!    of the generation, joining and leaving ones included, gets the map
//!    and the epoch at whose cut it takes over (`PrepareHandoff` →
//!    `Prepared`, rule 24) before any shard takes that epoch.
//! 3. The epoch runs as any other. A moving shard freezes at its cut, its
//!    old node uploads its part, channel logs included, and once the
//!    manifest is written the new node restores it from there (rules
//!    26–28). Other shards never stop.
//!
//! If anything fails on the way (a member dies, a timeout, the epoch is
//! aborted), the caller falls back to a new generation from the last
//! commit: the move was never durable (rule 28).

use std::collections::BTreeSet;

use tokio::sync::{mpsc, watch};

use super::coordinator::{
    nobody_died, number_epoch, take_epoch, Active, Input, Settings, PART_TIMEOUT, READY_TIMEOUT,
};
use super::messages::{Configuration, Control};
use super::Shared;
use crate::error::NodeError;
use crate::membership::{MembershipView, ShardRing};
use crate::transport::NodeId;

/// Moves the running generation's shards onto `live` at the cut of a new
/// epoch, and makes `live` the members epochs go to.
pub(super) async fn hand_off(
    shared: &Shared,
    active: &mut Active,
    live: &BTreeSet<NodeId>,
    inbox: &mut mpsc::UnboundedReceiver<Input>,
    views: &mut watch::Receiver<MembershipView>,
    settings: &Settings,
) -> Result<(), NodeError> {
    let generation = active.configuration.generation;
    let joining: BTreeSet<NodeId> = live.difference(&active.members).cloned().collect();
    if !joining.is_empty() {
        let configuration = Configuration {
            coordinator: shared.me().clone(),
            ..active.configuration.clone()
        };
        for member in &joining {
            shared.send(member, Control::Configure(configuration.clone()));
        }
        wait_for_all(active, &joining, inbox, views, READY_TIMEOUT, |control| {
            matches!(control, Control::Ready { generation: ready } if *ready == generation)
        })
        .await?;
        active.members.extend(joining.iter().cloned());
    }
    let map = ShardRing::new(live.iter().cloned())
        .shard_map(generation, shared.blueprint.config.shard_count)
        .ok_or(NodeError::Reconfiguring)?;
    if map.owners != active.configuration.owners {
        let epoch = number_epoch(shared, active).await?;
        tracing::info!(
            %generation,
            epoch,
            members = ?live,
            joining = ?joining,
            moving = map
                .owners
                .iter()
                .zip(&active.configuration.owners)
                .filter(|(next, now)| next != now)
                .count(),
            "moving shards at an epoch cut"
        );
        for member in &active.members {
            let prepare = Control::PrepareHandoff {
                generation,
                epoch,
                owners: map.owners.clone(),
            };
            shared.send(member, prepare);
        }
        let members = active.members.clone();
        wait_for_all(active, &members, inbox, views, PART_TIMEOUT, |control| {
            matches!(control, Control::Prepared { generation: of, epoch: prepared }
                if *of == generation && *prepared == epoch)
        })
        .await?;
        take_epoch(shared, active, epoch, inbox, views, settings).await?;
        active.configuration.owners = map.owners;
        tracing::info!(%generation, epoch, "shards moved");
    }
    active.members = live.clone();
    Ok(())
}

/// Waits until every member of `from` has sent a message `expected`
/// accepts; fails when `timeout` runs out or a member of the generation
/// dies. `snapshot_now` callers meanwhile wait for the next epoch.
async fn wait_for_all(
    active: &mut Active,
    from: &BTreeSet<NodeId>,
    inbox: &mut mpsc::UnboundedReceiver<Input>,
    views: &mut watch::Receiver<MembershipView>,
    timeout: std::time::Duration,
    expected: impl Fn(&Control) -> bool,
) -> Result<(), NodeError> {
    let mut waiting = from.clone();
    let deadline = tokio::time::Instant::now() + timeout;
    while !waiting.is_empty() {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {
                return Err(NodeError::MembersNotReady {
                    generation: active.configuration.generation.0,
                    missing: waiting.iter().map(ToString::to_string).collect(),
                });
            }
            changed = views.changed() => {
                if changed.is_err() {
                    return Err(NodeError::ShuttingDown);
                }
                let view = views.borrow().clone();
                if !nobody_died(active, &view) {
                    return Err(NodeError::Reconfiguring);
                }
            }
            input = inbox.recv() => match input.ok_or(NodeError::ShuttingDown)? {
                Input::Member(member, control) if expected(&control) => {
                    waiting.remove(&member);
                }
                Input::SnapshotNow(reply) => active.queued.push(reply),
                Input::Member(..) => {}
            },
        }
    }
    Ok(())
}
