//! `/healthz`, `/readyz`, and the endpoint's life with the node's.

mod common;

use std::net::TcpStream;

use cairn::{Address, Node};
use common::{builder, store_builder, sum, Add, Counter, TestNode};

/// A started node is healthy and ready.
#[test]
fn a_started_node_is_healthy_and_ready() {
    let node = TestNode::start(builder(2));
    let health = node.get("/healthz");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let ready = node.get("/readyz");
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["status"], "ready");
}

/// A node restarted on a store is ready only once recovered: the first
/// `/readyz` that answers says ready, and by then the snapshot's state is
/// back, the recovery is counted and the views name the epoch resumed from.
#[test]
fn ready_means_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let committed = {
        let node = TestNode::start(store_builder(2, dir.path()));
        node.node
            .send(Address::of::<Counter>("kept"), Add { amount: 7 })
            .unwrap();
        node.flush();
        node.snapshot()
    };
    let restarted = TestNode::start(store_builder(2, dir.path()));
    let ready = restarted.get("/readyz");
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["status"], "ready");
    let actor = restarted.get("/v1/actors/http/counter/kept");
    assert_eq!(actor.status, 200, "{}", actor.body);
    assert_eq!(actor.json()["state"]["count"], 7, "{}", actor.body);
    let snapshots = restarted.get("/v1/snapshots").json();
    assert_eq!(snapshots["recovered_from"], committed, "{snapshots}");
    assert_eq!(sum(&restarted.scrape(), "cairn_recoveries_total", &[]), 1.0);
}

/// Shutdown stops the endpoint: its port refuses connections afterwards.
#[test]
fn shutdown_stops_the_endpoint() {
    let node = TestNode::start(builder(2));
    assert_eq!(node.get("/healthz").status, 200);
    node.runtime.block_on(node.node.shutdown());
    assert!(
        TcpStream::connect(node.addr).is_err(),
        "the port still accepts"
    );
    // A second shutdown (the test node's drop) is a no-op.
}

/// Without `http`, a node serves no endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_http_there_is_no_endpoint() {
    let node = builder(2).start().await.unwrap();
    assert_eq!(node.http_addr(), None);
    node.shutdown().await;
}

/// An address already in use fails the start with an error naming it.
#[test]
fn a_busy_port_fails_the_start() {
    let first = TestNode::start(builder(2));
    let second = first.runtime.block_on(builder(2).http(first.addr).start());
    let error = second.expect_err("the port is taken").to_string();
    assert!(error.contains(&first.addr.to_string()), "{error}");
}

/// Protecting reads without a token is a configuration error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protecting_reads_needs_a_token() {
    let error = Node::builder()
        .http("127.0.0.1:0".parse().unwrap())
        .http_protect_reads(true)
        .start()
        .await
        .expect_err("no token");
    assert!(error.to_string().contains("token"), "{error}");
}

/// Unknown paths and wrong methods get JSON errors too.
#[test]
fn unknown_routes_and_methods_get_json_errors() {
    let node = TestNode::start(builder(2));
    let missing = node.get("/v1/nothing");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.kind(), "not_found");
    let wrong_method = node.post("/v1/shards", "");
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.kind(), "method_not_allowed");
    let get_invoke = node.get("/v1/invoke/http/counter/1/Get");
    assert_eq!(get_invoke.status, 405);
}
