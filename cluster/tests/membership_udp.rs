//! Two nodes gossiping over real UDP sockets on 127.0.0.1 find each other
//! from a seed list that names both (each its own address too), on the
//! same port numbers as their TCP cluster ports. Real time.

mod membership_support;

use std::net::SocketAddr;

use cairn::membership::{MemberState, Membership, MembershipConfig};
use cairn::transport::NodeId;
use membership_support::{metadata, wait_for_view, CLUSTER};
use tokio::net::TcpListener;

/// Both see both alive with each other's metadata; then one leaves and
/// the other sees it leave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_udp_nodes_discover_each_other_from_seeds() {
    // The TCP cluster ports, held for the test: gossip uses the same
    // address and port number over UDP.
    let tcp_a = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tcp_b = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a: SocketAddr = tcp_a.local_addr().unwrap();
    let b: SocketAddr = tcp_b.local_addr().unwrap();
    let seeds = [a.to_string(), b.to_string()];
    let start = |bind: SocketAddr| {
        Membership::start(
            MembershipConfig::new(CLUSTER, bind, metadata(bind)).with_seeds(seeds.clone()),
        )
    };
    let node_a = start(a).await.unwrap();
    let node_b = start(b).await.unwrap();
    let both = {
        let mut both = vec![NodeId::new(a.to_string()), NodeId::new(b.to_string())];
        both.sort();
        both
    };
    for membership in [&node_a, &node_b] {
        wait_for_view(&mut membership.watch(), "both nodes live", |view| {
            view.live_nodes() == both
        })
        .await;
        let view = membership.view();
        for bind in [a, b] {
            let member = view.member(&NodeId::new(bind.to_string())).unwrap();
            assert_eq!(member.metadata, metadata(bind));
        }
    }

    node_b.leave().await.unwrap();
    let b_id = NodeId::new(b.to_string());
    wait_for_view(&mut node_a.watch(), "node b leaving", |view| {
        view.member(&b_id)
            .is_some_and(|member| member.state == MemberState::Leaving)
    })
    .await;
    assert_eq!(node_a.live_members().len(), 1);
    node_a.shutdown().await.unwrap();
}
