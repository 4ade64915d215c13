//! Actors are activated on their first message, with `Default` state, one
//! per address.

use cairn::prelude::*;
use cairn_tests::functions::{recorder_state, start_node, Record, Recorder};

/// The first message to an address activates a fresh actor from `Default`;
/// later messages reach the same instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_message_activates_from_default() {
    let node = start_node(|b| b).await;
    let before: usize = node
        .shard_stats()
        .await
        .unwrap()
        .iter()
        .map(|s| s.active_actors)
        .sum();
    assert_eq!(before, 0, "nothing is active before the first message");

    for n in 0..3 {
        node.send(Address::of::<Recorder>("r1"), Record(n)).unwrap();
    }
    let state = recorder_state(&node, "r1").await;
    assert_eq!(state.seen, vec![0, 1, 2]);
    assert_eq!(state.activations_from_default, 1);

    let after: usize = node
        .shard_stats()
        .await
        .unwrap()
        .iter()
        .map(|s| s.active_actors)
        .sum();
    assert_eq!(after, 1, "one address, one actor");
    node.shutdown().await;
}

/// Distinct ids are distinct actors, each with its own state, spread over
/// the shards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_ids_are_distinct_actors() {
    let node = start_node(|b| b.shards(8)).await;
    for id in 0..200u64 {
        node.send(Address::of::<Recorder>(id), Record(id)).unwrap();
    }
    node.flush().await.unwrap();
    let stats = node.shard_stats().await.unwrap();
    assert_eq!(stats.len(), 8);
    assert_eq!(stats.iter().map(|s| s.active_actors).sum::<usize>(), 200);
    assert!(
        stats.iter().all(|s| s.active_actors > 0),
        "200 actors land on every one of 8 shards: {stats:?}"
    );
    for id in [0u64, 57, 199] {
        assert_eq!(recorder_state(&node, &id.to_string()).await.seen, vec![id]);
    }
    node.shutdown().await;
}
