//! `POST /v1/invoke/TYPE/ID/MESSAGE`: sends, asks, and the ask failures.

mod common;

use common::{builder, Greeting, TestNode};

/// Adds sent fire-and-forget are all applied, and an ask afterwards
/// returns the handler's reply: their sum.
#[test]
fn sends_then_an_ask_round_trip() {
    let node = TestNode::start(builder(4));
    for amount in [1, 2, 3] {
        let answer = node.post(
            "/v1/invoke/http/counter/sum/Add",
            &format!(r#"{{"amount": {amount}}}"#),
        );
        assert_eq!(answer.status, 202, "{}", answer.body);
        let accepted = answer.json();
        assert_eq!(accepted["address"], "http/counter/sum");
        assert_eq!(accepted["message"], "Add");
    }
    let answer = node.post("/v1/invoke/http/counter/sum/Get?ask=true", "null");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), serde_json::json!(6));
    assert_eq!(node.count("sum"), 6);
}

/// A structured reply comes back as JSON; the type may be written with
/// `%2F`, and a renamed message is invoked by its registered name.
#[test]
fn an_ask_returns_a_structured_reply() {
    let node = TestNode::start(builder(4));
    let answer = node.post(
        "/v1/invoke/http%2Fgreeter/ann/greet?ask=true",
        r#"{"name": "bob"}"#,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let greeting: Greeting = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        greeting,
        Greeting {
            text: "hello, bob from ann".into(),
            number: 1
        }
    );
}

/// An empty body is `null`, so unit messages need no body.
#[test]
fn an_empty_body_is_null() {
    let node = TestNode::start(builder(2));
    let answer = node.post("/v1/invoke/http/counter/empty/Get?ask=true", "");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), serde_json::json!(0));
}

/// An ask whose handler takes longer than `timeout_ms` gets 504.
#[test]
fn a_slow_reply_times_out_with_504() {
    let node = TestNode::start(builder(2));
    let answer = node.post(
        "/v1/invoke/http/counter/slow/Dawdle?ask=true&timeout_ms=50",
        r#"{"millis": 500}"#,
    );
    assert_eq!(answer.status, 504, "{}", answer.body);
    assert_eq!(answer.kind(), "ask_timeout");
}

/// An ask whose handler does not reply gets 502.
#[test]
fn a_handler_without_reply_gives_502() {
    let node = TestNode::start(builder(2));
    let answer = node.post("/v1/invoke/http/counter/mute/Ignore?ask=true", "null");
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert_eq!(answer.kind(), "no_reply");
}

/// An ask whose handler panics gets 500.
#[test]
fn a_panicking_handler_gives_500() {
    let node = TestNode::start(builder(2));
    let answer = node.post("/v1/invoke/http/counter/bomb/Explode?ask=true", "null");
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert_eq!(answer.kind(), "handler_panicked");
    assert!(answer.body.contains("asked to explode"), "{}", answer.body);
}
