//! A node restarted at the same address with a higher incarnation
//! displaces the old one in every view: never two members for one
//! address, and the old incarnation never comes back. Paused time.

mod membership_support;

use cairn::membership::{GossipNetwork, MemberState, Membership};
use cairn::transport::Incarnation;
use membership_support::{config, node, three_live_members, wait_for_view};

/// Node 2 crashes (stops without leaving) and comes back at once with
/// incarnation 2; nodes 0 and 1 see incarnation 2 alive at that address.
#[tokio::test(start_paused = true)]
async fn a_restart_at_the_same_address_displaces_the_old_incarnation() {
    let network = GossipNetwork::new();
    let mut members = three_live_members(&network).await;
    let old = members.pop().unwrap();
    old.shutdown().await.unwrap();
    drop(old);
    let restarted = Membership::start_in_memory(config(2, 2), &network)
        .await
        .unwrap();
    assert_eq!(restarted.incarnation(), Incarnation(2));
    members.push(restarted);

    for membership in &members {
        let mut views = membership.watch();
        wait_for_view(&mut views, "incarnation 2 alive at node 2", |view| {
            view.member(&node(2)).is_some_and(|member| {
                member.incarnation == Incarnation(2) && member.state == MemberState::Alive
            })
        })
        .await;
        let view = views.borrow().clone();
        assert_eq!(view.live_nodes(), vec![node(0), node(1), node(2)]);
        assert_eq!(view.members.len(), 3, "one member per address: {view:?}");
    }
    // Once the old process is declared dead it stays displaced.
    tokio::time::sleep(members[0].detection_bound() * 2).await;
    for membership in &members {
        let member = membership.view().member(&node(2)).cloned().unwrap();
        assert_eq!(
            (member.incarnation, member.state),
            (Incarnation(2), MemberState::Alive)
        );
    }
}
