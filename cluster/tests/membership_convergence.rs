//! Three memberships on the in-memory network, seeded with one of them,
//! converge to the same live members with each other's metadata, agree on
//! the coordinator, and so compute the same shard placement. Paused time.

mod membership_support;

use cairn::membership::{GossipNetwork, MemberState, Membership, ShardRing};
use cairn::transport::{Generation, Incarnation};
use cairn::ShardCount;
use membership_support::{addr, config, metadata, node, wait_for_view, SHARDS};

/// Every node ends with all three alive, with the metadata each
/// published, the oldest incarnation as coordinator, and one placement.
#[tokio::test(start_paused = true)]
async fn three_nodes_converge_on_members_metadata_and_coordinator() {
    let network = GossipNetwork::new();
    let mut members = Vec::new();
    for i in 0..3u16 {
        // Node 1 is the oldest, so it coordinates although node 0 has the
        // lowest address.
        let incarnation = [20, 10, 30][usize::from(i)];
        members.push(
            Membership::start_in_memory(config(i, incarnation), &network)
                .await
                .unwrap(),
        );
    }
    let everyone = vec![node(0), node(1), node(2)];
    for membership in &members {
        let mut views = membership.watch();
        wait_for_view(&mut views, "three live members", |view| {
            view.live_nodes() == everyone
        })
        .await;
    }
    let views: Vec<_> = members.iter().map(Membership::view).collect();
    for view in &views {
        assert_eq!(view, &views[0], "every node sees the same view");
        assert_eq!(view.coordinator, Some(node(1)));
        for (i, member) in (0..3u16).zip(&view.members) {
            assert_eq!(member.node, node(i));
            assert_eq!(member.state, MemberState::Alive);
            assert_eq!(member.metadata, metadata(addr(i)));
            assert_eq!(
                member.incarnation,
                Incarnation([20, 10, 30][usize::from(i)])
            );
        }
    }
    let placements: Vec<_> = members
        .iter()
        .map(|membership| {
            ShardRing::new(membership.view().live_nodes())
                .shard_map(Generation(1), ShardCount::new(SHARDS).unwrap())
                .unwrap()
        })
        .collect();
    assert!(placements.iter().all(|map| *map == placements[0]));
    assert_eq!(placements[0].load().len(), 3, "every member owns shards");
    assert_eq!(members[2].live_members().len(), 3);
}
