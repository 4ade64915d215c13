//! A member that stops gossiping without leaving (its agent dropped, as
//! in a crash) is declared dead by the others within the configured
//! detection bound. Paused time: the bound is checked in virtual time, so
//! it is exact and does not depend on the machine's load.

mod membership_support;

use cairn::membership::{GossipNetwork, MemberState};
use membership_support::{node, three_live_members, wait_for_view};
use tokio::time::Instant;

/// Node 2 is dropped; nodes 0 and 1 mark it dead, keep it in the view as
/// dead, and still see each other alive.
#[tokio::test(start_paused = true)]
async fn a_silent_member_is_declared_dead_within_the_detection_bound() {
    let network = GossipNetwork::new();
    let mut members = three_live_members(&network).await;
    let bound = members[0].detection_bound();
    assert!(bound <= std::time::Duration::from_secs(5), "{bound:?}");

    drop(members.pop());
    let dropped_at = Instant::now();
    for membership in &members {
        wait_for_view(&mut membership.watch(), "node 2 dead", |view| {
            view.member(&node(2))
                .is_some_and(|member| member.state == MemberState::Dead)
        })
        .await;
        let took = dropped_at.elapsed();
        assert!(
            took <= bound,
            "declared dead after {took:?}, beyond the bound of {bound:?}"
        );
        assert_eq!(membership.view().live_nodes(), vec![node(0), node(1)]);
    }
}
