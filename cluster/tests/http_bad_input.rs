//! Bad input to HTTP ingress and the views: the right 4xx, a JSON error
//! body, and nothing reaches an actor.

mod common;

use common::{builder, TestNode};

/// Asserts the answer's status and error kind.
#[track_caller]
fn assert_error(answer: &common::Answer, status: u16, kind: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.kind(), kind);
    assert!(!answer.json()["error"].as_str().unwrap().is_empty());
}

/// Asserts that no message has reached any actor.
#[track_caller]
fn assert_nothing_delivered(node: &TestNode) {
    node.flush();
    let stats = node.runtime.block_on(node.node.shard_stats()).unwrap();
    let handled: u64 = stats.iter().map(|shard| shard.messages_handled).sum();
    let active: usize = stats.iter().map(|shard| shard.active_actors).sum();
    assert_eq!((handled, active), (0, 0), "something reached an actor");
}

/// An unknown function type is 404.
#[test]
fn an_unknown_type_is_404() {
    let node = TestNode::start(builder(2));
    let answer = node.post("/v1/invoke/http/nobody/1/Add", r#"{"amount": 1}"#);
    assert_error(&answer, 404, "unknown_function_type");
    assert_nothing_delivered(&node);
}

/// `ask=durable` on a node without a store is 409 `no_snapshots`, and the
/// message is not sent.
#[test]
fn a_durable_ask_without_a_store_is_409() {
    let node = TestNode::start(builder(2));
    let answer = node.post(
        "/v1/invoke/http/counter/1/Add?ask=durable",
        r#"{"amount": 1}"#,
    );
    assert_error(&answer, 409, "no_snapshots");
    assert_nothing_delivered(&node);
}

/// An unknown message name is 404, and the error lists the known ones.
#[test]
fn an_unknown_message_is_404() {
    let node = TestNode::start(builder(2));
    let answer = node.post("/v1/invoke/http/counter/1/Subtract", r#"{"amount": 1}"#);
    assert_error(&answer, 404, "unknown_message");
    assert!(answer.body.contains("Add"), "{}", answer.body);
    assert_nothing_delivered(&node);
}

/// A path without TYPE/ID/MESSAGE is 404; with the id left out, the
/// type's last part is read as the id, and the type is unknown.
#[test]
fn a_short_invoke_path_is_404() {
    let node = TestNode::start(builder(2));
    let answer = node.post("/v1/invoke/counter/Add", r#"{"amount": 1}"#);
    assert_error(&answer, 404, "not_found");
    let answer = node.post("/v1/invoke/http/counter/Add", r#"{"amount": 1}"#);
    assert_error(&answer, 404, "unknown_function_type");
    assert_nothing_delivered(&node);
}

/// A body that is not JSON is 400.
#[test]
fn malformed_json_is_400() {
    let node = TestNode::start(builder(2));
    let answer = node.post("/v1/invoke/http/counter/1/Add", r#"{"amount": "#);
    assert_error(&answer, 400, "malformed_json");
    assert_nothing_delivered(&node);
}

/// JSON of the wrong shape for the message is 400.
#[test]
fn a_body_of_the_wrong_shape_is_400() {
    let node = TestNode::start(builder(2));
    for body in [r#"{"amount": "five"}"#, r#"{"total": 1}"#, "[1, 2]", ""] {
        let answer = node.post("/v1/invoke/http/counter/1/Add", body);
        assert_error(&answer, 400, "decode_failed");
    }
    assert_nothing_delivered(&node);
}

/// A body over the limit is 413, whether the limit is the default or set.
#[test]
fn an_oversized_body_is_413() {
    let node = TestNode::start(builder(2).http_body_limit(1024));
    let padding = "x".repeat(2000);
    let body = format!(r#"{{"amount": 1, "padding": "{padding}"}}"#);
    let answer = node.post("/v1/invoke/http/counter/1/Add", &body);
    assert_error(&answer, 413, "body_too_large");
    let just_fits = format!(r#"{{"amount": 1, "p": "{}"}}"#, "x".repeat(900));
    assert!(just_fits.len() <= 1024);
    assert_eq!(
        node.post("/v1/invoke/http/counter/1/Add", &just_fits)
            .status,
        202
    );

    let default = TestNode::start(builder(2));
    let padding = "x".repeat(1 << 20);
    let body = format!(r#"{{"amount": 1, "padding": "{padding}"}}"#);
    let answer = default.post("/v1/invoke/http/counter/1/Add", &body);
    assert_error(&answer, 413, "body_too_large");
    assert_nothing_delivered(&default);
}

/// `ask` takes only `true`, `durable` or `false`, and `timeout_ms` only
/// with an ask.
#[test]
fn bad_query_parameters_are_400() {
    let node = TestNode::start(builder(2));
    let path = "/v1/invoke/http/counter/1/Get";
    assert_error(&node.post(&format!("{path}?ask=yes"), ""), 400, "bad_query");
    assert_error(
        &node.post(&format!("{path}?timeout_ms=10"), ""),
        400,
        "bad_query",
    );
    assert_error(
        &node.post(&format!("{path}?ask=true&timeout_ms=soon"), ""),
        400,
        "bad_query",
    );
    assert_nothing_delivered(&node);
}

/// With a token, invoke needs `Authorization: Bearer TOKEN`: a missing or
/// wrong token is 401, the right one goes through. Reads stay open.
#[test]
fn invoke_needs_the_token() {
    let node = TestNode::start(builder(2).http_token("s3cret"));
    let path = "/v1/invoke/http/counter/t/Add";
    let body = r#"{"amount": 1}"#;
    let missing = node.post(path, body);
    assert_error(&missing, 401, "unauthorized");
    assert_eq!(missing.www_authenticate.as_deref(), Some("Bearer"));
    let wrong = node.post_with(path, body, &[("Authorization", "Bearer guess")]);
    assert_error(&wrong, 401, "unauthorized");
    // The token is checked before anything else: even an unknown type is 401.
    let unknown = node.post("/v1/invoke/http/nobody/1/Add", body);
    assert_error(&unknown, 401, "unauthorized");
    assert_nothing_delivered(&node);

    let right = node.post_with(path, body, &[("Authorization", "Bearer s3cret")]);
    assert_eq!(right.status, 202, "{}", right.body);
    assert_eq!(node.get("/v1/shards").status, 200);
    assert_eq!(node.get("/metrics").status, 200);
}

/// With reads protected, the views and metrics need the token too; the
/// health probes never do.
#[test]
fn protected_reads_need_the_token() {
    let node = TestNode::start(builder(2).http_token("s3cret").http_protect_reads(true));
    let auth = [("Authorization", "Bearer s3cret")];
    for path in ["/metrics", "/v1/cluster", "/v1/shards", "/v1/functions"] {
        assert_error(&node.get(path), 401, "unauthorized");
        assert_eq!(node.get_with(path, &auth).status, 200, "{path}");
    }
    assert_eq!(node.get("/healthz").status, 200);
    assert_eq!(node.get("/readyz").status, 200);
}
