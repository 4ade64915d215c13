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

/// A member cut off from the others for 1.5 s — a stall such as a loaded
/// machine or a long pause produces — is not declared dead: with steady
/// heartbeats the detector waits well past one gossip round's jitter
/// (about 2.5 s of silence), while the bound above still holds for a
/// member that never comes back.
#[tokio::test(start_paused = true)]
async fn a_member_silent_for_a_short_stall_stays_alive() {
    let network = GossipNetwork::new();
    let members = three_live_members(&network).await;
    // Steady state: many heartbeat intervals sampled.
    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    let mut views: Vec<_> = members[..2].iter().map(|member| member.watch()).collect();
    for other in [0, 1] {
        network
            .cut(membership_support::addr(other), membership_support::addr(2))
            .await;
    }
    let stalled_until = Instant::now() + std::time::Duration::from_millis(1_500);
    while Instant::now() < stalled_until {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        for view in &mut views {
            let state = view
                .borrow_and_update()
                .member(&node(2))
                .map(|member| member.state);
            assert_eq!(
                state,
                Some(MemberState::Alive),
                "declared {state:?} after {:?} of silence",
                std::time::Duration::from_millis(1_500) - (stalled_until - Instant::now())
            );
        }
    }
    for other in [0, 1] {
        network
            .heal(membership_support::addr(other), membership_support::addr(2))
            .await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for member in &members[..2] {
        assert_eq!(member.view().live_nodes(), vec![node(0), node(1), node(2)]);
    }
}

/// Node 2's gossip stops reaching the others while theirs still reaches
/// it (`cut_one_way`): they declare it dead, it still sees them alive;
/// healed, it is alive to them again in the same life.
#[tokio::test(start_paused = true)]
async fn an_unheard_member_is_dead_to_the_others_and_hears_them() {
    let network = GossipNetwork::new();
    let members = three_live_members(&network).await;
    for other in [0, 1] {
        network.cut_one_way(membership_support::addr(2), membership_support::addr(other));
    }
    for membership in &members[..2] {
        wait_for_view(&mut membership.watch(), "node 2 dead", |view| {
            view.member(&node(2))
                .is_some_and(|member| member.state == MemberState::Dead)
        })
        .await;
    }
    assert_eq!(
        members[2].view().live_nodes(),
        vec![node(0), node(1), node(2)],
        "node 2 still hears the others"
    );
    let life = members[2].view().member(&node(2)).map(|m| m.incarnation);
    for other in [0, 1] {
        network
            .heal(membership_support::addr(2), membership_support::addr(other))
            .await;
    }
    for membership in &members[..2] {
        wait_for_view(&mut membership.watch(), "node 2 alive again", |view| {
            view.member(&node(2))
                .is_some_and(|member| member.state == MemberState::Alive)
        })
        .await;
        let seen = membership.view().member(&node(2)).map(|m| m.incarnation);
        assert_eq!(seen, life, "the same life");
    }
}
