//! A coordinator claims a new generation only once a majority hears it
//! over the transport, not on gossip alone. Three members on a simulated
//! network: the transport between the coordinator and a second member is
//! cut while gossip still shows both alive, and the third member crashes.
//! The coordinator, which sees two of three alive, must claim nothing
//! while it cannot reach the second member; once the link heals it claims
//! exactly one generation, which both run. Before the probe, it claimed a
//! generation the second member never heard of, then another after each
//! timeout — wasted claims whose tombstones fence the other side's epochs.

use std::net::SocketAddr;
use std::time::Duration;

use cairn::http::views::{ClusterView, MemberStatus};
use cairn::membership::GossipNetwork;
use cairn::transport::{Faults, MemoryNetwork, NodeId};
use cairn::{ClusterSettings, Node, SimulatedNetwork};
use cairn_persistence::{Store, StoreOptions};
use cairn_tests::functions::Account;

/// How long any wait may take before the test is declared hung: far above
/// what the cluster needs, not a performance bound.
const PATIENCE: Duration = Duration::from_secs(60);

/// How long the coordinator is watched for a claim after it saw the third
/// member dead: longer than its probe's patience and its pause between
/// tries together, so an unguarded coordinator would have claimed.
const WATCH: Duration = Duration::from_secs(5);

fn address(slot: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, slot], 7000))
}

async fn member(at: SocketAddr, store: &str, network: &SimulatedNetwork) -> Node {
    let seeds: Vec<String> = (1..=3).map(|slot| address(slot).to_string()).collect();
    Node::builder()
        .register::<Account>()
        .shards(8)
        .store(store)
        .snapshot_interval(Some(Duration::from_millis(300)))
        .cluster(
            ClusterSettings::new(at, seeds)
                .with_cluster_id("quorum-test")
                .with_simulated_network(network.clone()),
        )
        .start()
        .await
        .expect("the member joins")
}

/// Polls `condition` on `node`'s view until it holds; panics after
/// [`PATIENCE`].
async fn wait_for(
    node: &Node,
    what: &str,
    condition: impl Fn(&ClusterView) -> bool,
) -> ClusterView {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let view = node.cluster_view().expect("a member");
        if condition(&view) {
            return view;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "hung waiting for {what}: {view:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `view` runs a generation whose shards are all on `owners`,
/// each of which owns some.
fn runs_on(view: &ClusterView, owners: &[&str]) -> bool {
    let distinct: std::collections::BTreeSet<&str> =
        view.shard_owners.iter().map(String::as_str).collect();
    view.generation.is_some() && distinct == owners.iter().copied().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_that_cannot_reach_a_majority_claims_no_generation() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().expect("tempdir");
    let store_url = format!("fs://{}", dir.path().display());
    let network = SimulatedNetwork {
        transport: MemoryNetwork::new(5, Faults::none()),
        gossip: GossipNetwork::new(),
    };
    let mut nodes = Vec::new();
    for slot in 1..=3 {
        nodes.push(member(address(slot), &store_url, &network).await);
    }
    let names: Vec<String> = (1..=3).map(|slot| address(slot).to_string()).collect();
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let view = wait_for(&nodes[0], "three members running", |view| {
        runs_on(view, &all)
    })
    .await;
    let coordinator = names
        .iter()
        .position(|name| *name == view.coordinator)
        .expect("the coordinator is a member");
    let second = (coordinator + 1) % 3;
    let third = (coordinator + 2) % 3;
    let before = view.generation.expect("a generation");

    network.transport.cut(
        &NodeId::new(names[coordinator].clone()),
        &NodeId::new(names[second].clone()),
    );
    let crashed = nodes.remove(third);
    let (coordinator, second) = (
        coordinator - usize::from(coordinator > third),
        second - usize::from(second > third),
    );
    crashed.crash().await;
    let dead = names[third].clone();
    wait_for(
        &nodes[coordinator],
        "the third member declared dead",
        |view| {
            view.members
                .iter()
                .any(|member| member.id == dead && member.status == MemberStatus::Dead)
        },
    )
    .await;
    tokio::time::sleep(WATCH).await;
    let store = Store::open(&store_url, StoreOptions::default()).expect("open the store");
    assert_eq!(
        store.highest_generation().await.expect("read the claims"),
        Some(before),
        "the coordinator claimed a generation it could not reach a majority for"
    );

    let (left, right) = (
        nodes[coordinator]
            .cluster_view()
            .expect("a member")
            .coordinator,
        nodes[second].cluster_view().expect("a member").coordinator,
    );
    assert_eq!(left, right, "both still follow one coordinator");
    network.transport.heal(
        &NodeId::new(names[coordinator].clone()),
        &NodeId::new(names[second].clone()),
    );
    let live: Vec<&str> = all.iter().copied().filter(|name| *name != dead).collect();
    for node in &nodes {
        let view = wait_for(node, "a generation without the crashed member", |view| {
            runs_on(view, &live) && view.generation > Some(before)
        })
        .await;
        assert_eq!(
            view.generation,
            Some(before + 1),
            "one claim once the link healed, none wasted"
        );
    }
    // Stopped as a crash would: a graceful leave of the last member waits
    // for a successor that never comes.
    for node in nodes {
        node.crash().await;
    }
}
