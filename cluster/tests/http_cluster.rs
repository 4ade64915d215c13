//! The endpoint of a cluster member: `/v1/cluster` shows the gossip view,
//! the coordinator, the generation and every shard's owner; `/v1/shards`
//! and every series name the member by its cluster address (the real port
//! when it was bound to port 0); members alive and the transport series
//! are there.

mod common;

use cairn::http::views::{ClusterMode, ClusterView, MemberStatus, ShardsView};
use cairn::ClusterSettings;
use common::{samples, scalar, store_url, sum, TestNode};

/// A loopback address on a port the node picks.
fn any_port() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().expect("an address")
}

/// The address `node` is known by in its cluster.
fn cluster_id(node: &TestNode) -> String {
    node.node
        .cluster_addr()
        .expect("a cluster member")
        .to_string()
}

#[test]
fn a_member_shows_the_real_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let builder = common::builder(8).store(store_url(dir.path())).cluster(
        ClusterSettings::new(any_port(), Vec::<String>::new()).with_cluster_id("http-cluster"),
    );
    let node = TestNode::start(builder);
    let id = cluster_id(&node);
    // Bound to port 0, the member took a real port, and gossip listens on
    // the same number over UDP.
    let bound = node.node.cluster_addr().expect("a cluster member");
    assert_ne!(bound.port(), 0);
    assert!(
        std::net::UdpSocket::bind(bound).is_err(),
        "gossip does not listen on {bound}"
    );

    let answer = node.get("/v1/cluster");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let view: ClusterView = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(view.mode, ClusterMode::Cluster);
    assert_eq!(
        (view.node.as_str(), view.coordinator.as_str()),
        (id.as_str(), id.as_str())
    );
    assert!(
        view.generation.is_some_and(|generation| generation >= 1),
        "{view:?}"
    );
    assert_eq!(view.shard_owners, vec![id.clone(); 8]);
    assert_eq!(view.members.len(), 1, "{view:?}");
    let member = &view.members[0];
    assert_eq!(member.id, id);
    assert_eq!(member.http, node.addr.to_string());
    assert_eq!(member.status, MemberStatus::Alive);
    assert_eq!(member.shards, 8);
    assert!(member
        .incarnation
        .is_some_and(|incarnation| incarnation > 0));

    let shards: ShardsView = serde_json::from_str(&node.get("/v1/shards").body).unwrap();
    assert_eq!(shards.shards.len(), 8);
    assert!(shards.shards.iter().all(|shard| shard.owner == id));

    let all = node.scrape_all();
    let alive = samples(&all, "cairn_members_alive", &[("node", id.as_str())]);
    assert_eq!(alive.len(), 1, "{alive:?}");
    assert_eq!(scalar(alive[0]), 1.0);
    for metric in [
        "cairn_transport_frames_sent_total",
        "cairn_messages_delivered_total",
        "cairn_epochs_started_total",
    ] {
        assert!(
            !samples(&all, metric, &[("node", id.as_str())]).is_empty(),
            "{metric} is not labelled with the cluster address"
        );
    }
}

/// A shard that moved to another member holds no actors, queue or timers
/// on the member it left: its gauges there read 0, not what they read
/// before it moved.
#[test]
fn a_shard_that_moved_away_reads_zero_in_its_gauges() {
    let dir = tempfile::tempdir().unwrap();
    let member = |seeds: Vec<String>| {
        common::builder(8)
            .store(store_url(dir.path()))
            .cluster(ClusterSettings::new(any_port(), seeds).with_cluster_id("http-cluster-move"))
    };
    let first = TestNode::start(member(Vec::new()));
    let first_id = cluster_id(&first);
    for i in 0..40 {
        let answer = first.post(
            &format!("/v1/invoke/http/counter/c{i}/Add"),
            r#"{"amount": 1}"#,
        );
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    first.flush();
    let active_on_first = |shard: &str| {
        sum(
            &first.scrape_all(),
            "cairn_active_actors",
            &[("node", first_id.as_str()), ("shard", shard)],
        )
    };
    let busy: Vec<String> = (0..8)
        .map(|shard| shard.to_string())
        .filter(|shard| active_on_first(shard) > 0.0)
        .collect();

    let second = TestNode::start(member(vec![first_id.clone()]));
    let second_id = cluster_id(&second);
    // Once the move is done the old member runs the shard no more; its
    // gauges would keep their old values for good. The deadline guards
    // against a hang, it is not a latency bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let view: ClusterView = serde_json::from_str(&first.get("/v1/cluster").body).unwrap();
        let moved: Vec<String> = (0..8)
            .filter(|&shard| view.shard_owners[shard] == second_id)
            .map(|shard| shard.to_string())
            .collect();
        let stale: Vec<(String, f64)> = moved
            .iter()
            .map(|shard| (shard.clone(), active_on_first(shard)))
            .filter(|(_, active)| *active != 0.0)
            .collect();
        if !moved.is_empty() && stale.is_empty() {
            assert!(
                moved.iter().any(|shard| busy.contains(shard)),
                "no shard with actors moved ({moved:?} moved, {busy:?} had actors): the test proves nothing"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "shards that moved away still read their old actors on the member they left: {stale:?} (moved: {moved:?})"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
