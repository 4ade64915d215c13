//! Majorities. A coordinator configures a new generation only when a
//! majority of the previous generation's members can still be reached
//! (alive, or leaving but still serving), so the side of a partition that
//! holds a minority never moves on by itself. And a member that loses
//! contact with a majority of its generation, or finds it was frozen past
//! the failure timeout, knows the others may have declared it dead and
//! replaced its shards: it drops what it runs and rejoins as a new
//! incarnation (SNAPSHOTS §3.9 rule 31).
//!
//! Gossip alone is not enough for the coordinator: a coordinator cut off
//! from the others still shows them alive until their heartbeats time
//! out one by one, and would claim a generation the others never run —
//! whose claim and tombstone then fence the majority side's epochs and
//! force another rollback. So before it claims one, it probes the members
//! over the transport and goes on only if a majority answers
//! ([`confirmed`]).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::coordinator::Input;
use super::messages::Control;
use super::Shared;
use crate::error::NodeError;
use crate::membership::{MemberState, MembershipView};
use crate::transport::NodeId;

/// How often a member checks that it is in contact.
const CHECK_EVERY: Duration = Duration::from_millis(200);

/// How long the coordinator waits for a majority to answer its probe: a
/// round trip takes milliseconds, and a lost frame is resent well within.
const PROBE_PATIENCE: Duration = Duration::from_secs(1);

/// The smallest majority of `members`.
pub(crate) fn majority(members: usize) -> usize {
    members / 2 + 1
}

/// How many of `members` `view` shows reachable: alive, or leaving but
/// still serving.
pub(crate) fn reachable(members: &[NodeId], view: &MembershipView) -> usize {
    members
        .iter()
        .filter(|node| shows_reachable(view, node))
        .count()
}

/// Whether `view` shows `node` alive, or leaving but still serving.
fn shows_reachable(view: &MembershipView, node: &NodeId) -> bool {
    view.member(node)
        .is_some_and(|member| member.state != MemberState::Dead)
}

/// Whether a new generation may be configured in `view`: a majority of
/// the previous generation's members is reachable. With the members
/// unknown but their number known (a member that rejoined), that many
/// live members are needed for a majority; with neither, any will do.
pub(crate) fn has_quorum(shared: &Shared, view: &MembershipView) -> bool {
    quorum_among(
        shared,
        |node| shows_reachable(view, node),
        view.live_members().count(),
    )
}

/// Whether the members for which `is_reachable` holds, `live` of them
/// in all, make a majority of the previous generation (see
/// [`has_quorum`]).
fn quorum_among(shared: &Shared, is_reachable: impl Fn(&NodeId) -> bool, live: usize) -> bool {
    match shared.previous_members() {
        (Some(members), _) => {
            members.iter().filter(|node| is_reachable(node)).count() >= majority(members.len())
        }
        (None, 0) => true,
        (None, count) => live >= majority(count),
    }
}

/// Probes `live` and the previous generation's members that gossip does
/// not show dead (one leaving still counts) over the transport, and waits until the members that answered,
/// this node included, make a majority of the previous generation;
/// `false` if they do not within [`PROBE_PATIENCE`]. Other messages
/// reaching the coordinator meanwhile are dropped, as while it configures
/// a generation.
pub(crate) async fn confirmed(
    shared: &Shared,
    live: &BTreeSet<NodeId>,
    inbox: &mut mpsc::UnboundedReceiver<Input>,
) -> bool {
    let nonce = rand::random::<u64>();
    let mut probed = live.clone();
    probed.extend(shared.previous_members().0.unwrap_or_default());
    probed.remove(shared.me());
    // Not those gossip shows dead: they count for nothing, and sending to
    // one would make the transport dial it again.
    let view = shared.membership.view();
    probed.retain(|node| shows_reachable(&view, node));
    for member in &probed {
        shared.send(member, Control::Probe { nonce });
    }
    let mut answered = BTreeSet::from([shared.me().clone()]);
    let deadline = tokio::time::Instant::now() + PROBE_PATIENCE;
    while !quorum_among(shared, |node| answered.contains(node), answered.len()) {
        let Ok(input) = tokio::time::timeout_at(deadline, inbox.recv()).await else {
            tracing::warn!(
                answered = ?answered,
                ?probed,
                "no majority of the last generation answered over the transport: not claiming a generation"
            );
            return false;
        };
        match input {
            None => return false,
            Some(Input::Member(from, Control::ProbeAck { nonce: answer })) if answer == nonce => {
                answered.insert(from);
            }
            Some(Input::SnapshotNow(reply)) => {
                let _ = reply.send(Err(NodeError::Reconfiguring));
            }
            Some(Input::Member(..)) => {}
        }
    }
    true
}

/// Watches for this node being cut off: frozen (a gap in its own clock
/// longer than the failure timeout) or out of contact with a majority of
/// its generation for that long. Then raises `cut_off` once.
pub(crate) async fn watch_contact(shared: std::sync::Arc<Shared>) {
    let bound = shared.membership.detection_bound();
    let mut last_check = Instant::now();
    let mut lost_since: Option<Instant> = None;
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        let now = Instant::now();
        let gap = now - last_check;
        last_check = now;
        if gap > bound {
            tracing::error!(
                ?gap,
                ?bound,
                "this node was frozen for longer than the failure timeout: the others may have replaced it"
            );
            shared.cut_off.send_replace(true);
            return;
        }
        let Some(members) = shared.previous_members().0 else {
            continue;
        };
        let view = shared.membership.view();
        if reachable(&members, &view) >= majority(members.len()) {
            lost_since = None;
            continue;
        }
        let since = *lost_since.get_or_insert(now);
        if now - since > bound {
            tracing::error!(
                members = members.len(),
                reachable = reachable(&members, &view),
                "this node lost contact with a majority of its generation for longer than the failure timeout"
            );
            shared.cut_off.send_replace(true);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_majority_is_more_than_half() {
        assert_eq!([1, 2, 3, 4, 5].map(majority), [1, 2, 2, 3, 3]);
    }
}
