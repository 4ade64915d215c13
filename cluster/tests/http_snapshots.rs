//! `/v1/snapshots` and `?ask=durable` against a node snapshotting to an fs
//! store, on demand.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use cairn::http::views::{EpochStatus, SnapshotsView};
use cairn::Address;
use common::{builder, store_builder, store_url, Add, Counter, TestNode};

/// Without a store the view is an empty list with a null store.
#[test]
fn without_a_store_the_history_is_empty() {
    let node = TestNode::start(builder(2));
    let answer = node.get("/v1/snapshots");
    assert_eq!(answer.status, 200);
    let json = answer.json();
    assert_eq!(json["store"], serde_json::Value::Null);
    assert_eq!(json["epochs"], serde_json::json!([]));
    assert_eq!(json["recovered_from"], serde_json::Value::Null);
}

/// Two snapshots show as two committed epochs, oldest first, with bytes,
/// objects and the store; a node restarted on the store reports the epoch
/// it recovered from.
#[test]
fn snapshots_show_committed_epochs_and_the_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let url = store_url(dir.path());
    let second = {
        let node = TestNode::start(store_builder(4, dir.path()));
        node.node
            .send(Address::of::<Counter>("a"), Add { amount: 2 })
            .unwrap();
        node.flush();
        let first = node.snapshot();
        let second = node.snapshot();
        let view: SnapshotsView = serde_json::from_str(&node.get("/v1/snapshots").body).unwrap();
        assert_eq!(view.store.as_deref(), Some(url.as_str()));
        assert_eq!(view.recovered_from, None);
        assert_eq!(view.last_committed, Some(second));
        let epochs: Vec<u64> = view.epochs.iter().map(|epoch| epoch.epoch).collect();
        assert_eq!(epochs, [first, second]);
        for epoch in &view.epochs {
            assert_eq!(epoch.status, EpochStatus::Committed);
            assert!(epoch.bytes > 0 && epoch.objects > 0, "{epoch:?}");
            assert!(epoch.started_unix_ms > 0);
            assert_eq!(epoch.error, None);
        }
        second
    };

    let restarted = TestNode::start(store_builder(4, dir.path()));
    let view: SnapshotsView = serde_json::from_str(&restarted.get("/v1/snapshots").body).unwrap();
    assert_eq!(view.recovered_from, Some(second));
    assert_eq!(view.last_committed, Some(second));
    assert!(view.epochs.is_empty());
    assert_eq!(restarted.count("a"), 2);
}

/// `?ask=durable` is answered only after the next snapshot commits, though
/// the handler ran at once; the answer is the handler's reply.
#[test]
fn a_durable_ask_answers_after_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(store_builder(4, dir.path()));
    let (answered, answer) = mpsc::channel();
    std::thread::scope(|scope| {
        let node = &node;
        scope.spawn(move || {
            let reply = node.post(
                "/v1/invoke/http/greeter/ann/greet?ask=durable",
                r#"{"name": "bob"}"#,
            );
            answered.send(reply).unwrap();
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while node
            .runtime
            .block_on(node.node.shard_stats())
            .unwrap()
            .iter()
            .map(|shard| shard.messages_handled)
            .sum::<u64>()
            == 0
        {
            assert!(std::time::Instant::now() < deadline, "the greet never ran");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            answer.recv_timeout(Duration::from_millis(500)).is_err(),
            "answered before any commit"
        );
        node.snapshot();
        let reply = answer
            .recv_timeout(Duration::from_secs(10))
            .expect("answered after the commit");
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.json(),
            serde_json::json!({ "text": "hello, bob from ann", "number": 1 })
        );
    });
    let greeter = node.get("/v1/actors/http/greeter/ann").json();
    assert_eq!(greeter["state"]["greeted"], 1);
}
