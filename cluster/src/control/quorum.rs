//! Majorities. A coordinator configures a new generation only when a
//! majority of the previous generation's members can still be reached
//! (alive, or leaving but still serving), so the side of a partition that
//! holds a minority never moves on by itself. And a member that loses
//! contact with a majority of its generation, or finds it was frozen past
//! the failure timeout, knows the others may have declared it dead and
//! replaced its shards: it drops what it runs and rejoins as a new
//! incarnation (SNAPSHOTS §3.9 rule 31).

use std::time::{Duration, Instant};

use super::Shared;
use crate::membership::{MemberState, MembershipView};
use crate::transport::NodeId;

/// How often a member checks that it is in contact.
const CHECK_EVERY: Duration = Duration::from_millis(200);

/// The smallest majority of `members`.
pub(crate) fn majority(members: usize) -> usize {
    members / 2 + 1
}

/// How many of `members` `view` shows reachable: alive, or leaving but
/// still serving.
pub(crate) fn reachable(members: &[NodeId], view: &MembershipView) -> usize {
    members
        .iter()
        .filter(|node| {
            view.member(node)
                .is_some_and(|member| member.state != MemberState::Dead)
        })
        .count()
}

/// Whether a new generation may be configured in `view`: a majority of
/// the previous generation's members is reachable. With the members
/// unknown but their number known (a member that rejoined), that many
/// live members are needed for a majority; with neither, any will do.
pub(crate) fn has_quorum(shared: &Shared, view: &MembershipView) -> bool {
    match shared.previous_members() {
        (Some(members), _) => reachable(&members, view) >= majority(members.len()),
        (None, 0) => true,
        (None, count) => view.live_members().count() >= majority(count),
    }
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
