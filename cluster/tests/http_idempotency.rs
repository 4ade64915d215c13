//! The `Idempotency-Key` header of HTTP ingress.

mod common;

use common::{builder, TestNode};

/// A send retried with the same key has one effect, and the retry gets the
/// first response back, marked as replayed.
#[test]
fn a_retried_key_has_one_effect() {
    let node = TestNode::start(builder(4));
    let key = [("Idempotency-Key", "add-once")];
    let first = node.post_with("/v1/invoke/http/counter/once/Add", r#"{"amount": 5}"#, &key);
    assert_eq!(first.status, 202, "{}", first.body);
    assert!(!first.replayed);
    for _ in 0..3 {
        let retry = node.post_with("/v1/invoke/http/counter/once/Add", r#"{"amount": 5}"#, &key);
        assert_eq!(retry.status, 202);
        assert_eq!(retry.body, first.body);
        assert!(retry.replayed);
    }
    node.flush();
    assert_eq!(node.count("once"), 5);
    // A new key is a new request.
    let other = node.post_with(
        "/v1/invoke/http/counter/once/Add",
        r#"{"amount": 5}"#,
        &[("Idempotency-Key", "add-twice")],
    );
    assert_eq!(other.status, 202);
    node.flush();
    assert_eq!(node.count("once"), 10);
}

/// An ask retried with the same key gets the stored reply; the handler ran
/// once.
#[test]
fn a_retried_ask_replays_the_reply() {
    let node = TestNode::start(builder(2));
    let key = [("Idempotency-Key", "greet-once")];
    let path = "/v1/invoke/http/greeter/g/greet?ask=true";
    let first = node.post_with(path, r#"{"name": "ann"}"#, &key);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["number"], 1);
    let retry = node.post_with(path, r#"{"name": "ann"}"#, &key);
    assert!(retry.replayed);
    assert_eq!(retry.json()["number"], 1);
    let fresh = node.post(path, r#"{"name": "ann"}"#);
    assert_eq!(fresh.json()["number"], 2);
}

/// A key reused for a different request is refused with 422 and sends
/// nothing.
#[test]
fn a_key_reused_for_another_request_is_refused() {
    let node = TestNode::start(builder(2));
    let key = [("Idempotency-Key", "k1")];
    let first = node.post_with("/v1/invoke/http/counter/r/Add", r#"{"amount": 1}"#, &key);
    assert_eq!(first.status, 202);
    let reused = node.post_with("/v1/invoke/http/counter/r/Add", r#"{"amount": 2}"#, &key);
    assert_eq!(reused.status, 422, "{}", reused.body);
    assert_eq!(reused.kind(), "idempotency_key_reused");
    node.flush();
    assert_eq!(node.count("r"), 1);
}

/// Requests refused before sending are not remembered: fixing the body and
/// retrying with the same key goes through.
#[test]
fn a_refused_request_does_not_use_up_its_key() {
    let node = TestNode::start(builder(2));
    let key = [("Idempotency-Key", "fix-me")];
    let bad = node.post_with("/v1/invoke/http/counter/f/Add", r#"{"amount": "x"}"#, &key);
    assert_eq!(bad.status, 400);
    let good = node.post_with("/v1/invoke/http/counter/f/Add", r#"{"amount": 3}"#, &key);
    assert_eq!(good.status, 202, "{}", good.body);
    assert!(!good.replayed);
    node.flush();
    assert_eq!(node.count("f"), 3);
}

/// An empty key is refused.
#[test]
fn an_empty_key_is_refused() {
    let node = TestNode::start(builder(2));
    let answer = node.post_with(
        "/v1/invoke/http/counter/e/Add",
        r#"{"amount": 1}"#,
        &[("Idempotency-Key", "")],
    );
    assert_eq!(answer.status, 400);
    assert_eq!(answer.kind(), "bad_idempotency_key");
}
