//! Delayed messages fire once, at their time, in order, and can be cancelled.

use std::time::Duration;

use cairn::prelude::*;
use cairn_tests::functions::{recorder_state, start_node, Recorder, Schedule, Sender};

/// The id of a recorder on another shard than the sender `s`, so timers
/// are seen crossing shards.
fn recorder_away_from_sender(node: &Node) -> String {
    let sender_shard = Address::of::<Sender>("s").shard(node.shard_count());
    (0..)
        .map(|n: u32| format!("r{n}"))
        .find(|id| Address::of::<Recorder>(id.as_str()).shard(node.shard_count()) != sender_shard)
        .unwrap()
}

/// Timers fire in deadline order, ties in setting order, each exactly once,
/// and not before their delay; the message goes to its target's shard.
#[tokio::test(start_paused = true)]
async fn delayed_messages_fire_once_and_in_order() {
    let node = start_node(|b| b.shards(4)).await;
    let recorder = recorder_away_from_sender(&node);
    let start = tokio::time::Instant::now();
    node.send(
        Address::of::<Sender>("s"),
        Schedule {
            to: recorder.clone(),
            timers: vec![(300, 3), (100, 1), (200, 2), (100, 11), (0, 0)],
            cancel: vec![],
        },
    )
    .unwrap();

    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(recorder_state(&node, &recorder).await.seen, vec![0, 1, 11]);

    tokio::time::sleep(Duration::from_millis(1000)).await;
    let state = recorder_state(&node, &recorder).await;
    assert_eq!(
        state.seen,
        vec![0, 1, 11, 2, 3],
        "each fired once, in order"
    );
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        state.senders[0].as_deref(),
        Some("test/sender/s"),
        "a timer's message comes from the actor that set it"
    );
    let stats = node.shard_stats().await.unwrap();
    assert_eq!(stats.iter().map(|s| s.pending_timers).sum::<usize>(), 0);
    node.shutdown().await;
}

/// A cancelled timer never fires; the others still do.
#[tokio::test(start_paused = true)]
async fn cancelled_timers_do_not_fire() {
    let node = start_node(|b| b.shards(2)).await;
    let recorder = recorder_away_from_sender(&node);
    node.send(
        Address::of::<Sender>("s"),
        Schedule {
            to: recorder.clone(),
            timers: vec![(50, 1), (60, 2), (70, 3)],
            cancel: vec![1],
        },
    )
    .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(recorder_state(&node, &recorder).await.seen, vec![1, 3]);
    node.shutdown().await;
}
