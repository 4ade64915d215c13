//! Messages between a pair of actors arrive in the order they were sent.

use cairn::prelude::*;
use cairn::ShardCount;
use cairn_tests::functions::{recorder_state, start_node, Recorder, Sender, Stream};

/// Two actors on different shards: the receiver sees the sender's 20,000
/// messages in sending order, across many batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_on_different_shards_keeps_order() {
    let shards = ShardCount::new(16).unwrap();
    let node = start_node(|b| b.shards(16).turn_budget(64)).await;
    let sender = Address::of::<Sender>("s");
    let receiver = (0..)
        .map(|n: u64| format!("r{n}"))
        .find(|id| Address::of::<Recorder>(id.as_str()).shard(shards) != sender.shard(shards))
        .unwrap();
    node.send(
        sender.clone(),
        Stream {
            to: receiver.clone(),
            count: 10_000,
        },
    )
    .unwrap();
    node.send(
        sender,
        Stream {
            to: receiver.clone(),
            count: 10_000,
        },
    )
    .unwrap();
    node.flush().await.unwrap();
    let seen = recorder_state(&node, &receiver).await.seen;
    let expected: Vec<u64> = (0..10_000).chain(0..10_000).collect();
    assert_eq!(seen, expected);
    node.shutdown().await;
}

/// Two actors on the same shard keep order too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_on_one_shard_keeps_order() {
    let node = start_node(|b| b.shards(1).turn_budget(7)).await;
    node.send(
        Address::of::<Sender>("s"),
        Stream {
            to: "r".into(),
            count: 5_000,
        },
    )
    .unwrap();
    node.flush().await.unwrap();
    assert_eq!(
        recorder_state(&node, "r").await.seen,
        (0..5_000).collect::<Vec<u64>>()
    );
    node.shutdown().await;
}
