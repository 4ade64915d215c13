//! `/v1/functions` counts, `/v1/actors` paging and `/v1/actors/TYPE/ID`,
//! live and as of a committed epoch, against known traffic.

mod common;

use std::time::{Duration, Instant};

use cairn::http::views::{ActorStateView, ActorStatusView, ActorsView, FunctionsView};
use cairn::Address;
use common::{builder, store_builder, Add, Counter, Greet, Greeter, TestNode};

/// Sends `amount` to counter `id` and waits until it is handled.
fn add(node: &TestNode, id: &str, amount: u64) {
    node.node
        .send(Address::of::<Counter>(id), Add { amount })
        .unwrap();
    node.flush();
}

/// Active and passivated actors per type: `(counter, greeter)` pairs.
fn function_counts(node: &TestNode) -> ((u64, u64), (u64, u64)) {
    let view: FunctionsView = serde_json::from_str(&node.get("/v1/functions").body).unwrap();
    let of = |name: &str| {
        let function = view.functions.iter().find(|f| f.name == name).unwrap();
        (function.active, function.passivated)
    };
    (of("http/counter"), of("http/greeter"))
}

/// Three counters and two greeters show as active per type, then as
/// passivated once they have been idle past the timeout.
#[test]
fn functions_count_active_then_passivated_actors() {
    let node = TestNode::start(builder(4).idle_timeout(Duration::from_millis(200)));
    for id in ["a", "b", "c"] {
        add(&node, id, 1);
    }
    for id in ["x", "y"] {
        node.node
            .send(Address::of::<Greeter>(id), Greet { name: id.into() })
            .unwrap();
    }
    node.flush();
    assert_eq!(function_counts(&node), ((3, 0), (2, 0)));
    let deadline = Instant::now() + Duration::from_secs(15);
    while function_counts(&node) != ((0, 3), (0, 2)) {
        assert!(Instant::now() < deadline, "{:?}", function_counts(&node));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// 25 counters page through as 10, 10 and 5 with `next_cursor`, in id
/// order, each once, the last page without a cursor; greeters stay out of
/// a `type=http/counter` listing and come after counters without it.
#[test]
fn actors_page_through_with_the_cursor() {
    let node = TestNode::start(builder(4));
    let ids: Vec<String> = (0..25).map(|i| format!("c{i:02}")).collect();
    for id in &ids {
        node.node
            .send(Address::of::<Counter>(id), Add { amount: 1 })
            .unwrap();
    }
    node.node
        .send(Address::of::<Greeter>("g"), Greet { name: "g".into() })
        .unwrap();
    node.flush();

    let mut seen = Vec::new();
    let mut path = "/v1/actors?type=http/counter&limit=10".to_owned();
    let mut sizes = Vec::new();
    loop {
        let answer = node.get(&path);
        assert_eq!(answer.status, 200, "{}", answer.body);
        let page: ActorsView = serde_json::from_str(&answer.body).unwrap();
        sizes.push(page.actors.len());
        for actor in &page.actors {
            let address = Address::of::<Counter>(actor.id.as_str());
            assert_eq!(actor.function, "http/counter");
            assert_eq!(actor.address, address.to_string());
            assert_eq!(actor.shard, address.shard(node.node.shard_count()).0);
            assert_eq!(actor.status, ActorStatusView::Active);
            assert_eq!(actor.queued_messages, 0);
            assert!(actor.idle_for_ms.is_some());
            seen.push(actor.id.clone());
        }
        match page.next_cursor {
            Some(cursor) => {
                assert_eq!(
                    Some(&cursor),
                    seen.last().map(|id| format!("http/counter/{id}")).as_ref()
                );
                path = format!("/v1/actors?type=http/counter&limit=10&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(seen, ids);

    let all: ActorsView = serde_json::from_str(&node.get("/v1/actors").body).unwrap();
    assert_eq!(all.actors.len(), 26);
    assert_eq!(all.next_cursor, None);
    assert_eq!(all.actors[25].address, "http/greeter/g");
    let answer = node.get("/v1/actors?limit=25");
    assert!(answer.json()["next_cursor"].is_string(), "{}", answer.body);
}

/// An unknown type is 404; a limit of 0, over 1000 or not a number, and a
/// malformed cursor or one of an unknown type, are 400.
#[test]
fn bad_listing_queries_are_refused() {
    let node = TestNode::start(builder(2));
    let answer = node.get("/v1/actors?type=http/nothing");
    assert_eq!(
        (answer.status, answer.kind().as_str()),
        (404, "unknown_function_type")
    );
    for query in [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "cursor=nothing",
        "cursor=http/nothing/1",
    ] {
        let answer = node.get(&format!("/v1/actors?{query}"));
        assert_eq!(
            (answer.status, answer.kind().as_str()),
            (400, "bad_query"),
            "{query}"
        );
    }
    assert_eq!(node.get("/v1/actors?limit=1000").status, 200);
}

/// An actor's live view shows its state as JSON, its shard, this node and
/// an empty queue; an actor never sent anything is absent with no state,
/// and looking at it does not activate it.
#[test]
fn one_actor_shows_its_live_state() {
    let node = TestNode::start(builder(4));
    add(&node, "seen", 7);
    let answer = node.get("/v1/actors/http/counter/seen");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let view: ActorStateView = serde_json::from_str(&answer.body).unwrap();
    let address = Address::of::<Counter>("seen");
    assert_eq!(view.address, "http/counter/seen");
    assert_eq!(view.node, node.id());
    assert_eq!(view.shard, address.shard(node.node.shard_count()).0);
    assert_eq!(view.status, ActorStatusView::Active);
    assert_eq!(view.state, Some(serde_json::json!({ "count": 7 })));
    assert_eq!(view.queued_messages, 0);
    assert_eq!(view.epoch, None);

    let unseen = node.get("/v1/actors/http%2Fcounter/unseen").json();
    assert_eq!(unseen["status"], "absent");
    assert_eq!(unseen["state"], serde_json::Value::Null);
    let stats = node.runtime.block_on(node.node.shard_stats()).unwrap();
    assert_eq!(stats.iter().map(|s| s.active_actors).sum::<usize>(), 1);

    let answer = node.get("/v1/actors/http/nothing/1");
    assert_eq!(
        (answer.status, answer.kind().as_str()),
        (404, "unknown_function_type")
    );
    assert_eq!(node.get("/v1/actors/http").status, 404);
}

/// `?epoch=E` shows the state committed in epoch E after later changes,
/// while the live view shows the newest; an epoch not committed, or one
/// before the actor existed, is 404.
#[test]
fn an_epoch_shows_the_state_committed_then() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(store_builder(4, dir.path()));
    add(&node, "acc", 5);
    let first = node.snapshot();
    add(&node, "acc", 3);
    add(&node, "late", 1);
    let second = node.snapshot();
    add(&node, "acc", 1);

    let at = |epoch: u64| -> ActorStateView {
        let answer = node.get(&format!("/v1/actors/http/counter/acc?epoch={epoch}"));
        assert_eq!(answer.status, 200, "{}", answer.body);
        serde_json::from_str(&answer.body).unwrap()
    };
    let old = at(first);
    assert_eq!(old.state, Some(serde_json::json!({ "count": 5 })));
    assert_eq!(old.status, ActorStatusView::Stored);
    assert_eq!(old.epoch, Some(first));
    assert_eq!(old.node, node.id());
    assert_eq!(at(second).state, Some(serde_json::json!({ "count": 8 })));
    let live = node.get("/v1/actors/http/counter/acc").json();
    assert_eq!(live["state"], serde_json::json!({ "count": 9 }));

    let late = node.get(&format!("/v1/actors/http/counter/late?epoch={first}"));
    assert_eq!(
        (late.status, late.kind().as_str()),
        (404, "not_in_snapshot")
    );
    let missing = node.get(&format!(
        "/v1/actors/http/counter/acc?epoch={}",
        second + 100
    ));
    assert_eq!(
        (missing.status, missing.kind().as_str()),
        (404, "epoch_not_found")
    );
    let bad = node.get("/v1/actors/http/counter/acc?epoch=latest");
    assert_eq!((bad.status, bad.kind().as_str()), (400, "bad_query"));
}

/// `?epoch=E` on a node without a store is 409 `no_snapshots`.
#[test]
fn an_epoch_without_a_store_is_409() {
    let node = TestNode::start(builder(2));
    add(&node, "acc", 1);
    let answer = node.get("/v1/actors/http/counter/acc?epoch=1");
    assert_eq!(
        (answer.status, answer.kind().as_str()),
        (409, "no_snapshots")
    );
}
