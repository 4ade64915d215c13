//! Handlers know who they are and who called, and a reply to an actor
//! arrives at that actor as a message.

use cairn::prelude::*;
use cairn_tests::functions::{
    start_node, AskAround, IAm, Inspect, Questioner, Responder, WhoAreYou,
};

/// An actor's reply to another actor comes back to the caller's handler,
/// with the caller's address seen by the responder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_to_an_actor_is_a_message_to_it() {
    let node = start_node(|b| b).await;
    let questioner = Address::of::<Questioner>("q");
    for responder in ["a", "b"] {
        node.send(
            questioner.clone(),
            AskAround {
                responder: responder.into(),
            },
        )
        .unwrap();
    }
    node.flush().await.unwrap();
    let mut state: Questioner = node.ask(questioner, Inspect).await.unwrap();
    // Two responders on their own shards answer in no particular order.
    state.answers.sort_by(|a, b| a.address.cmp(&b.address));
    assert_eq!(
        state.answers,
        vec![
            IAm {
                address: "test/responder/a".into(),
                caller: Some("test/questioner/q".into())
            },
            IAm {
                address: "test/responder/b".into(),
                caller: Some("test/questioner/q".into())
            },
        ]
    );
    node.shutdown().await;
}

/// A message from outside has no caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_callers_have_no_address() {
    let node = start_node(|b| b).await;
    let answer: IAm = node
        .ask(Address::of::<Responder>("z"), WhoAreYou)
        .await
        .unwrap();
    assert_eq!(
        answer,
        IAm {
            address: "test/responder/z".into(),
            caller: None
        }
    );
    node.shutdown().await;
}
