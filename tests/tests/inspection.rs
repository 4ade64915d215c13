//! Operators can see which actors a node holds, one actor's state and
//! queue, and counts per function type, without activating anything.

use std::time::Duration;

use cairn::prelude::*;
use cairn::{ActorStatus, FunctionType};
use cairn_tests::functions::{start_node, Record, Recorder, Responder, Stall};

/// Pages of actors come in (type, id) order, continue after a cursor, and
/// filter by type; counts per type add up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actors_are_listed_in_pages_and_counted_per_type() {
    let node = start_node(|b| b.shards(4)).await;
    for id in 0..25u64 {
        node.send(Address::of::<Recorder>(format!("r{id:02}")), Record(id))
            .unwrap();
    }
    node.send(Address::of::<Responder>("x"), Stall(0)).unwrap();
    node.flush().await.unwrap();

    let recorder = FunctionType::lookup("test/recorder");
    let first = node.list_actors(recorder, None, 10).await.unwrap();
    let ids: Vec<_> = first.iter().map(|a| a.address.id().to_string()).collect();
    assert_eq!(ids, (0..10).map(|n| format!("r{n:02}")).collect::<Vec<_>>());
    let rest = node
        .list_actors(recorder, Some(first[9].address.clone()), 100)
        .await
        .unwrap();
    assert_eq!(rest.len(), 15);
    assert_eq!(rest[0].address.id().as_str(), "r10");
    assert!(rest.iter().all(|a| a.status == ActorStatus::Active));

    let everything = node.list_actors(None, None, 1_000).await.unwrap();
    assert_eq!(everything.len(), 26);
    let counts = node.function_counts().await.unwrap();
    let recorders = counts
        .iter()
        .find(|c| c.function == "test/recorder")
        .unwrap();
    assert_eq!((recorders.active, recorders.passivated), (25, 0));
    node.shutdown().await;
}

/// One actor's view shows its live state as JSON and the messages queued
/// for it; an address never used is absent and is not activated by asking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_actor_shows_its_state_and_queue() {
    let node = start_node(|b| b.shards(1)).await;
    let recorder = Address::of::<Recorder>("seen");
    node.send(recorder.clone(), Record(7)).unwrap();
    node.flush().await.unwrap();
    // Block the only shard, then queue two more messages and the question
    // behind the stall: the shard takes all three in before handling any,
    // so it answers with both messages still queued.
    node.send(Address::of::<Responder>("slow"), Stall(300))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    node.send(recorder.clone(), Record(8)).unwrap();
    node.send(recorder.clone(), Record(9)).unwrap();
    let view = node.inspect_actor(recorder.clone()).await.unwrap();
    assert_eq!(view.status, ActorStatus::Active);
    assert_eq!(view.state.unwrap()["seen"], serde_json::json!([7]));
    assert_eq!(view.queued_messages, 2);
    node.flush().await.unwrap();
    let view = node.inspect_actor(recorder.clone()).await.unwrap();
    assert_eq!(view.state.unwrap()["seen"], serde_json::json!([7, 8, 9]));
    assert_eq!(view.queued_messages, 0);

    let absent = node
        .inspect_actor(Address::of::<Recorder>("never"))
        .await
        .unwrap();
    assert_eq!(absent.status, ActorStatus::Absent);
    assert_eq!(absent.state, None);
    let counts = node.function_counts().await.unwrap();
    let recorders = counts
        .iter()
        .find(|c| c.function == "test/recorder")
        .unwrap();
    assert_eq!(recorders.active, 1, "inspecting did not activate anything");
    node.shutdown().await;
}
