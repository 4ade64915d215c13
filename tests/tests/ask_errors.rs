//! `ask` returns the typed reply, or a typed error saying why there is none.

use std::time::Duration;

use cairn::prelude::*;
use cairn::{Error, FunctionType, Payload};
use cairn_tests::functions::{start_node, Bump, Explode, Ignore, Record, Responder, Stall};

/// A reply of the asked type comes back as that type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_returns_the_typed_reply() {
    let node = start_node(|b| b).await;
    let responder = Address::of::<Responder>("x");
    assert_eq!(
        node.ask::<u64, _>(responder.clone(), Bump).await.unwrap(),
        1
    );
    assert_eq!(node.ask::<u64, _>(responder, Bump).await.unwrap(), 2);
    node.shutdown().await;
}

/// Asking an unregistered function type fails at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_function_type() {
    let node = start_node(|b| b).await;
    let nowhere = Address::new(FunctionType::from_static("test/not-registered"), "1");
    let error = node.ask::<u64, _>(nowhere.clone(), Bump).await.unwrap_err();
    assert_eq!(
        error,
        AskError::Send(Error::UnknownFunctionType("test/not-registered".into()))
    );
    assert!(matches!(
        node.send(nowhere, Bump),
        Err(Error::UnknownFunctionType(_))
    ));
    node.shutdown().await;
}

/// A message type the function has no handler for fails at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_message_type() {
    let node = start_node(|b| b).await;
    let error = node
        .ask::<u64, _>(Address::of::<Responder>("x"), Record(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, AskError::Send(Error::UnknownMessage { function, .. }) if function == "test/responder"),
        "{error:?}"
    );
    node.shutdown().await;
}

/// Asking for the wrong reply type is a typed error, not a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_reply_type() {
    let node = start_node(|b| b).await;
    let error = node
        .ask::<String, _>(Address::of::<Responder>("x"), Bump)
        .await
        .unwrap_err();
    assert!(
        matches!(error, AskError::ReplyType { actual: "u64", .. }),
        "{error:?}"
    );
    node.shutdown().await;
}

/// A handler that does not reply answers the ask with `NoReply` at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_without_reply() {
    let node = start_node(|b| b).await;
    let error = node
        .ask_with_timeout::<u64, _>(
            Address::of::<Responder>("x"),
            Ignore,
            Duration::from_secs(30),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, AskError::NoReply { .. }), "{error:?}");
    node.shutdown().await;
}

/// An ask times out when its actor's shard is busy longer than the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout() {
    let node = start_node(|b| b.shards(1)).await;
    node.send(Address::of::<Responder>("slow"), Stall(300))
        .unwrap();
    let error = node
        .ask_with_timeout::<u64, _>(
            Address::of::<Responder>("x"),
            Bump,
            Duration::from_millis(50),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, AskError::Timeout { timeout, .. } if timeout == Duration::from_millis(50)),
        "{error:?}"
    );
    node.shutdown().await;
}

/// A panicking handler fails its ask; the actor and its shard keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_panic() {
    let node = start_node(|b| b.shards(1)).await;
    let responder = Address::of::<Responder>("x");
    assert_eq!(
        node.ask::<u64, _>(responder.clone(), Bump).await.unwrap(),
        1
    );
    let error = node
        .ask::<u64, _>(responder.clone(), Explode)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, AskError::HandlerPanicked { message, .. } if message == "asked to explode"),
        "{error:?}"
    );
    assert_eq!(node.ask::<u64, _>(responder, Bump).await.unwrap(), 2);
    node.shutdown().await;
}

/// After shutdown, sends and asks fail with `ShuttingDown`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down() {
    let node = start_node(|b| b).await;
    node.shutdown().await;
    let responder = Address::of::<Responder>("x");
    assert_eq!(node.send(responder.clone(), Bump), Err(Error::ShuttingDown));
    assert_eq!(
        node.ask::<u64, _>(responder, Bump).await.unwrap_err(),
        AskError::Send(Error::ShuttingDown)
    );
}

/// `Runtime::ask_then` hands the reply, or why there is none, to its
/// callback exactly once: the reply of a handler that answers, `NoReply`
/// for one that does not, a send error for a message the function does
/// not take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_then_hands_every_outcome_to_its_callback() {
    let mut registry = cairn::Registry::new();
    registry.register::<Responder>().expect("registers");
    let runtime = cairn::Runtime::start(
        cairn::RuntimeConfig::default(),
        registry,
        Vec::new(),
        None,
        Vec::new(),
    )
    .expect("starts");
    let responder = Address::of::<Responder>("x");
    let outcome = |message: Payload| {
        let (tx, rx) = tokio::sync::oneshot::channel();
        runtime.ask_then(responder.clone(), message, move |reply| {
            tx.send(reply).expect("answered once");
        });
        rx
    };
    let bumped = outcome(Payload::new(Bump)).await.expect("called");
    assert_eq!(bumped.expect("a reply").downcast::<u64>().ok(), Some(1));
    let ignored = outcome(Payload::new(Ignore)).await.expect("called");
    assert_eq!(
        ignored.map(|_| ()),
        Err(AskError::NoReply {
            address: responder.clone()
        })
    );
    let refused = outcome(Payload::new(Record(1))).await.expect("called");
    assert!(
        matches!(refused, Err(AskError::Send(Error::UnknownMessage { .. }))),
        "{refused:?}"
    );
    runtime.shutdown().await;
}
