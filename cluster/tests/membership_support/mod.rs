//! Helpers shared by the membership tests: node configurations on the
//! in-memory network and waiting for a view.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use cairn::membership::{
    GossipNetwork, Membership, MembershipConfig, MembershipView, NodeMetadata,
};
use cairn::transport::{Incarnation, NodeId};
use cairn::ShardCount;
use tokio::sync::watch;
use tokio::time::Instant;

/// The cluster every test node is in.
pub const CLUSTER: &str = "test-cluster";
/// The shard count every test node is configured with.
pub const SHARDS: u32 = 64;
/// How long any wait may take before the test is declared hung. Generous:
/// it guards against a hang, it is not a latency assertion.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// The address of test node `i` (on the in-memory network, a name only).
pub fn addr(i: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7000 + i))
}

/// The node id of test node `i`.
pub fn node(i: u16) -> NodeId {
    NodeId::new(addr(i).to_string())
}

/// The metadata test node `bind` publishes: its HTTP port is the cluster
/// port plus 1000, so each node's is distinct and checkable.
pub fn metadata(bind: SocketAddr) -> NodeMetadata {
    let http = SocketAddr::new(bind.ip(), bind.port() + 1000);
    NodeMetadata::new(
        bind.to_string(),
        http.to_string(),
        ShardCount::new(SHARDS).unwrap(),
    )
}

/// The configuration of test node `i` with `incarnation`, seeded with
/// node 0 (which may be itself).
pub fn config(i: u16, incarnation: u64) -> MembershipConfig {
    MembershipConfig::new(CLUSTER, addr(i), metadata(addr(i)))
        .with_incarnation(Incarnation(incarnation))
        .with_seeds([addr(0).to_string()])
}

/// Waits until the view satisfies `done`, and returns how long it took
/// (on paused time, virtual time). Panics after [`HANG_GUARD`].
pub async fn wait_for_view(
    views: &mut watch::Receiver<MembershipView>,
    what: &str,
    done: impl FnMut(&MembershipView) -> bool,
) -> Duration {
    let start = Instant::now();
    let outcome = tokio::time::timeout(HANG_GUARD, views.wait_for(done))
        .await
        .map(|result| result.is_ok());
    match outcome {
        Ok(true) => start.elapsed(),
        Ok(false) => panic!("the membership stopped before {what}"),
        Err(_) => panic!(
            "no {what} within {HANG_GUARD:?}; last view: {:?}",
            *views.borrow()
        ),
    }
}

/// Test nodes 0, 1 and 2 on `network`, incarnation 1, once each sees all
/// three alive.
pub async fn three_live_members(network: &GossipNetwork) -> Vec<Membership> {
    let mut members = Vec::new();
    for i in 0..3u16 {
        members.push(
            Membership::start_in_memory(config(i, 1), network)
                .await
                .unwrap(),
        );
    }
    let everyone = vec![node(0), node(1), node(2)];
    for membership in &members {
        wait_for_view(&mut membership.watch(), "three live members", |view| {
            view.live_nodes() == everyone
        })
        .await;
    }
    members
}

/// The live nodes of `view`, sorted.
pub fn live(view: &MembershipView) -> Vec<NodeId> {
    view.live_nodes()
}
