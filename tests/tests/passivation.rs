//! Idle actors are passivated, and come back with their state.

use std::time::Duration;

use cairn::prelude::*;
use cairn_tests::functions::{recorder_state, start_node, Record, Recorder};

async fn counts(node: &Node) -> (usize, usize) {
    let stats = node.shard_stats().await.unwrap();
    (
        stats.iter().map(|s| s.active_actors).sum(),
        stats.iter().map(|s| s.passivated_actors).sum(),
    )
}

/// An actor idle past the timeout leaves memory, and its next message finds
/// the state it had.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passivation_keeps_state() {
    let node = start_node(|b| b.shards(4).idle_timeout(Duration::from_millis(40))).await;
    for n in 0..5 {
        node.send(Address::of::<Recorder>("p"), Record(n)).unwrap();
    }
    node.flush().await.unwrap();
    assert_eq!(counts(&node).await, (1, 0));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while counts(&node).await != (0, 1) {
        assert!(tokio::time::Instant::now() < deadline, "never passivated");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    node.send(Address::of::<Recorder>("p"), Record(5)).unwrap();
    let state = recorder_state(&node, "p").await;
    assert_eq!(
        state.seen,
        vec![0, 1, 2, 3, 4, 5],
        "state survived passivation"
    );
    assert_eq!(
        state.activations_from_default, 1,
        "reactivated from its state, not Default"
    );
    assert_eq!(counts(&node).await, (1, 0));
    let stats = node.shard_stats().await.unwrap();
    assert_eq!(stats.iter().map(|s| s.activations).sum::<u64>(), 2);
    assert_eq!(stats.iter().map(|s| s.passivations).sum::<u64>(), 1);
    node.shutdown().await;
}

/// An actor that keeps getting messages is never passivated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_actors_stay_active() {
    let node = start_node(|b| b.shards(2).idle_timeout(Duration::from_millis(60))).await;
    for n in 0..20 {
        node.send(Address::of::<Recorder>("busy"), Record(n))
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(counts(&node).await.1, 0, "passivated while busy");
    }
    node.shutdown().await;
}
