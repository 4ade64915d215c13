//! Each shard counts, per function type, the messages its actors handled
//! and the messages their handlers sent (`ShardStats::functions`).

use std::collections::BTreeMap;
use std::time::Duration;

use cairn::prelude::*;
use cairn_tests::functions::{
    start_node, AskAround, Bump, Explode, Questioner, Responder, Schedule, Sender,
};
use serde::{Deserialize, Serialize};

/// Tells a prober to send a responder a `Bump`.
#[derive(Debug, Serialize, Deserialize)]
struct Probe {
    responder: String,
}

/// Sends `Bump`s, and takes no `u64`: the responder's reply, which comes
/// back as a message, is a dead letter here.
#[stateful_function(name = "test/prober")]
#[derive(Debug, Default, Serialize, Deserialize)]
struct Prober;

#[handlers]
impl Prober {
    fn probe(&self, ctx: &mut Context, msg: Probe) {
        ctx.send(Address::of::<Responder>(msg.responder.as_str()), Bump);
    }
}

/// Delivered and sent messages per function type, over every shard.
async fn traffic(node: &Node) -> BTreeMap<&'static str, (u64, u64)> {
    let mut traffic = BTreeMap::new();
    for shard in node.shard_stats().await.unwrap() {
        for function in shard.functions {
            let counts = traffic.entry(function.function.name()).or_insert((0, 0));
            counts.0 += function.delivered;
            counts.1 += function.sent;
        }
    }
    traffic
}

/// Timers count as sent when set, a cancelled one too; a reply to an actor
/// is a message sent, a reply to an ask from outside is not; a handler that
/// panicked was delivered its message; a reply the caller does not take is
/// a dead letter, not a delivery. Every shard's `messages_handled` is its
/// deliveries plus its dead letters.
#[tokio::test(start_paused = true)]
async fn messages_are_counted_per_function_type() {
    let node = start_node(|builder| builder.shards(4).register::<Prober>()).await;
    let untouched = traffic(&node).await;
    assert_eq!(untouched.len(), 7, "every registered type: {untouched:?}");
    assert!(untouched.values().all(|counts| *counts == (0, 0)));

    // Three timers set, the second cancelled: two records arrive.
    node.send(
        Address::of::<Sender>("s"),
        Schedule {
            to: "r".into(),
            timers: vec![(100, 1), (200, 2), (300, 3)],
            cancel: vec![1],
        },
    )
    .unwrap();
    // The questioner sends `WhoAreYou`; the responder's `IAm` comes back.
    node.send(
        Address::of::<Questioner>("q"),
        AskAround {
            responder: "x".into(),
        },
    )
    .unwrap();
    // The prober sends `Bump`; the responder's `u64` reply is refused.
    node.send(
        Address::of::<Prober>("p"),
        Probe {
            responder: "x".into(),
        },
    )
    .unwrap();
    node.send(Address::of::<Responder>("x"), Explode).unwrap();
    let bumps: u64 = node.ask(Address::of::<Responder>("y"), Bump).await.unwrap();
    assert_eq!(bumps, 1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    node.flush().await.unwrap();

    let expected: BTreeMap<&str, (u64, u64)> = [
        ("test/sender", (1, 3)),
        ("test/recorder", (2, 0)),
        ("test/questioner", (2, 1)),
        // x: `WhoAreYou`, `Bump`, `Explode`; y: the asked `Bump`.
        ("test/responder", (4, 2)),
        ("test/prober", (1, 1)),
        ("test/emitter", (0, 0)),
        ("test/account", (0, 0)),
    ]
    .into_iter()
    .collect();
    assert_eq!(traffic(&node).await, expected);
    let stats = node.shard_stats().await.unwrap();
    assert_eq!(stats.iter().map(|s| s.dead_letters).sum::<u64>(), 1);
    for shard in &stats {
        let delivered: u64 = shard.functions.iter().map(|f| f.delivered).sum();
        assert_eq!(
            shard.messages_handled,
            delivered + shard.dead_letters,
            "{shard:?}"
        );
    }
    node.shutdown().await;
}
