//! `/v1/cluster`, `/v1/shards` and `/v1/functions` against known traffic.

mod common;

use cairn::http::views::{ClusterMode, ClusterView, FunctionsView, MemberStatus, ShardsView};
use cairn::{Address, StatefulFunction};
use common::{builder, Add, Counter, Greeter, TestNode};

/// A single node is the only member of its cluster, alive, and its own
/// coordinator.
#[test]
fn cluster_shows_this_node_as_the_only_member() {
    let node = TestNode::start(builder(8));
    let answer = node.get("/v1/cluster");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["mode"], "single-node");
    let view: ClusterView = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(view.mode, ClusterMode::SingleNode);
    assert_eq!(view.node, node.id());
    assert_eq!(view.coordinator, node.id());
    assert_eq!(view.shard_count, 8);
    assert_eq!(view.members.len(), 1);
    let member = &view.members[0];
    assert_eq!(member.id, node.id());
    assert_eq!(member.http, node.addr.to_string());
    assert_eq!(member.status, MemberStatus::Alive);
    assert_eq!(member.shards, 8);
    assert!(member.started_at_unix_secs > 0);
}

/// After adds to known counters, each shard shows this node as owner and
/// exactly the actors that live on it, with empty queues.
#[test]
fn shards_show_owner_actors_and_queues() {
    let node = TestNode::start(builder(4));
    let ids: Vec<String> = (0..12).map(|i| format!("v{i}")).collect();
    for id in &ids {
        node.node
            .send(Address::of::<Counter>(id), Add { amount: 2 })
            .unwrap();
    }
    node.flush();
    let mut expected = [0u64; 4];
    for id in &ids {
        let shard = Address::of::<Counter>(id).shard(node.node.shard_count());
        expected[shard.index()] += 1;
    }

    let view: ShardsView = serde_json::from_str(&node.get("/v1/shards").body).unwrap();
    assert_eq!(view.shards.len(), 4);
    for (index, shard) in view.shards.iter().enumerate() {
        assert_eq!(shard.shard as usize, index);
        assert_eq!(shard.owner, node.id());
        assert_eq!(shard.active_actors, expected[index], "shard {index}");
        assert_eq!(shard.queued_messages, 0);
        assert_eq!(shard.dead_letters, 0);
    }
    let handled: u64 = view.shards.iter().map(|shard| shard.messages_handled).sum();
    assert_eq!(handled, 12);
}

/// Every registered function is listed with its schema hash and message
/// names, sorted by name.
#[test]
fn functions_list_types_hashes_and_messages() {
    let node = TestNode::start(builder(2));
    let view: FunctionsView = serde_json::from_str(&node.get("/v1/functions").body).unwrap();
    let names: Vec<&str> = view.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["http/counter", "http/greeter"]);
    let counter = &view.functions[0];
    assert_eq!(
        counter.schema_hash,
        format!("{:#018x}", <Counter as StatefulFunction>::SCHEMA_HASH)
    );
    assert_eq!(
        counter.messages,
        ["Add", "Dawdle", "Explode", "Get", "Ignore"]
    );
    let greeter = &view.functions[1];
    assert_eq!(
        greeter.schema_hash,
        format!("{:#018x}", <Greeter as StatefulFunction>::SCHEMA_HASH)
    );
    assert_eq!(greeter.messages, ["greet"]);
}
