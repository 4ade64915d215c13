//! A member that leaves gracefully is dropped from the others' live
//! members as soon as the leave is gossiped, well before their failure
//! detector would have declared it dead. Paused time.

mod membership_support;

use std::time::Duration;

use cairn::membership::{GossipNetwork, MemberState, Membership, DEFAULT_GOSSIP_INTERVAL};
use membership_support::{node, three_live_members, wait_for_view};

/// Node 2 leaves; nodes 0 and 1 see it leaving within a few gossip
/// rounds, and it stays "leaving" (not "dead") after it has stopped.
#[tokio::test(start_paused = true)]
async fn a_graceful_leave_is_seen_promptly() {
    let network = GossipNetwork::new();
    let mut members = three_live_members(&network).await;
    let leaver = members.pop().unwrap();
    let mut watchers: Vec<_> = members.iter().map(Membership::watch).collect();
    let leaving = tokio::spawn(async move { leaver.leave().await });
    // Prompt: a few gossip rounds, far less than the detection bound
    // (4.4 s by default), which a crash would take.
    let prompt = DEFAULT_GOSSIP_INTERVAL * 5;
    assert!(prompt < members[0].detection_bound());
    for views in &mut watchers {
        let took = wait_for_view(views, "node 2 leaving", |view| {
            view.live_nodes() == vec![node(0), node(1)]
        })
        .await;
        assert!(took <= prompt, "the leave took {took:?} to be seen");
        let view = views.borrow().clone();
        assert_eq!(view.member(&node(2)).unwrap().state, MemberState::Leaving);
    }
    leaving.await.unwrap().unwrap();
    // Long after it stopped gossiping, it is still known as having left.
    tokio::time::sleep(Duration::from_secs(10)).await;
    for membership in &members {
        let view = membership.view();
        assert_eq!(view.member(&node(2)).unwrap().state, MemberState::Leaving);
        assert_eq!(view.live_nodes(), vec![node(0), node(1)]);
    }
}
