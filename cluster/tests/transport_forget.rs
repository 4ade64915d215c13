//! A peer that this node forgot (`remove_peer`, as the cluster does with a
//! member it declared dead) and that comes back in the *same* incarnation —
//! it never noticed, as after an asymmetric partition — is heard again
//! both ways, exactly once: the new link announces itself, the peer forgets
//! what came from the old one ([`TransportEvent::LinkReset`]) and hears
//! this node's channels from 1 again, while its own numbering goes on from
//! what this node had delivered, which it remembered. Before link ids, the
//! peer took every frame of the new link for a duplicate of the old one's
//! and the forgetting node buffered the peer's frames past a gap for ever.
//! Also: forgetting an earlier life of a peer leaves the link to its later
//! life alone.

mod transport_support;

use std::time::Duration;

use bytes::Bytes;
use cairn::transport::{
    ChannelId, Events, Incarnation, MemoryNetwork, NodeId, TcpTransport, Transport,
    TransportConfig, TransportEvent,
};
use transport_support::{config, eventually, lossy, payload, run_paused, Received};

/// Messages each way before the forget, and after.
const BEFORE: usize = 40;
const AFTER: usize = 15;

/// The cluster's setting: what was unacknowledged carries over to a reset
/// link.
fn carrying(incarnation: u64) -> TransportConfig {
    config(incarnation).with_carry_over_on_restart(true)
}

/// Sends messages `range` from `from` to `to` on `channel`.
fn send_range(
    from: &impl Transport,
    to: &NodeId,
    channel: ChannelId,
    range: std::ops::Range<usize>,
) {
    for index in range {
        from.send(to, channel, Bytes::from(payload(index))).unwrap();
    }
}

/// Reads events until `count` messages and a link reset have arrived.
async fn after_reset(events: &mut Events, count: usize) -> Received {
    let mut received = Received::default();
    received.until(events, count).await;
    while received.restarts.is_empty() {
        received.record(events.recv().await.expect("the transport runs"));
    }
    received
}

/// [`BEFORE`] messages each way between `a` and `b`, all delivered.
async fn exchange(
    a: &impl Transport,
    a_events: &mut Events,
    b: &impl Transport,
    b_events: &mut Events,
) {
    let channel = ChannelId::new(1, 2);
    send_range(a, b.local_node(), channel, 0..BEFORE);
    send_range(b, a.local_node(), channel, 0..BEFORE);
    Received::default().until(b_events, BEFORE).await;
    Received::default().until(a_events, BEFORE).await;
}

/// `a` forgets `b` and takes it back; checks both directions afterwards.
/// `a_events`/`b_events` have read everything sent before the forget.
async fn forget_and_check(
    a: &impl Transport,
    a_events: &mut Events,
    b: &impl Transport,
    b_events: &mut Events,
) {
    let (a_id, b_id) = (a.local_node().clone(), b.local_node().clone());
    let channel = ChannelId::new(1, 2);
    a.remove_peer(&b_id, Incarnation(1));
    a.add_peer(b_id.clone());
    send_range(a, &b_id, channel, BEFORE..BEFORE + AFTER);
    send_range(b, &a_id, channel, BEFORE..BEFORE + AFTER);

    // b went on in its life, and is told that a's link started over:
    // exactly what a sent after the forget, numbered from 1.
    let at_b = after_reset(b_events, AFTER).await;
    assert_eq!(
        at_b.restarts,
        vec![TransportEvent::LinkReset { peer: a_id.clone() }]
    );
    let want: Vec<Vec<u8>> = (BEFORE..BEFORE + AFTER).map(payload).collect();
    assert_eq!(at_b.payloads(&a_id, channel), want);

    // a had delivered b's first BEFORE messages before it forgot b, and
    // remembered that: b's numbering goes on, and a gets exactly what b
    // sent after, none of it twice, with sequence numbers following on.
    let mut at_a = Received::default();
    at_a.until(a_events, AFTER).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Some(event) = a_events.try_recv() {
        at_a.record(event);
    }
    let deliveries = &at_a.by_channel[&(b_id.clone(), channel)];
    let got: Vec<(u64, Vec<u8>)> = deliveries
        .iter()
        .map(|delivery| (delivery.seq, delivery.payload.to_vec()))
        .collect();
    let want: Vec<(u64, Vec<u8>)> = (BEFORE..BEFORE + AFTER)
        .map(|index| (index as u64 + 1, payload(index)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_forgotten_peer_in_the_same_life_is_heard_again_in_memory() {
    run_paused(async {
        let net = MemoryNetwork::new(21, lossy());
        let (a_id, b_id) = (NodeId::new("a"), NodeId::new("b"));
        let (a, mut a_events) = net.endpoint(a_id.clone(), carrying(1));
        let (b, mut b_events) = net.endpoint(b_id.clone(), carrying(1));
        exchange(&a, &mut a_events, &b, &mut b_events).await;
        forget_and_check(&a, &mut a_events, &b, &mut b_events).await;
        a.shutdown().await;
        b.shutdown().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_peer_in_the_same_life_is_heard_again_over_tcp() {
    let (a, mut a_events) = TcpTransport::bind("127.0.0.1:0", carrying(1))
        .await
        .unwrap();
    let (b, mut b_events) = TcpTransport::bind("127.0.0.1:0", carrying(1))
        .await
        .unwrap();
    let (a_id, b_id) = (a.local_node().clone(), b.local_node().clone());
    a.add_peer(b_id.clone());
    b.add_peer(a_id.clone());
    exchange(&a, &mut a_events, &b, &mut b_events).await;
    forget_and_check(&a, &mut a_events, &b, &mut b_events).await;
    eventually("connected again", || {
        a.is_connected(&b_id) && b.is_connected(&a_id)
    })
    .await;
    a.shutdown().await;
    b.shutdown().await;
}

/// The cluster forgets a dead member's life; by then its next life may
/// already have connected. That link stays: nothing queued to the new life
/// is dropped.
#[test]
fn forgetting_an_earlier_life_keeps_the_link_to_a_later_one() {
    run_paused(async {
        let net = MemoryNetwork::new(23, lossy());
        let (a_id, b_id) = (NodeId::new("a"), NodeId::new("b"));
        let (a, mut a_events) = net.endpoint(a_id.clone(), carrying(1));
        let (b2, mut b2_events) = net.endpoint(b_id.clone(), carrying(2));
        let channel = ChannelId::new(1, 2);
        // a knows b's life 2 once it has heard from it.
        send_range(&b2, &a_id, channel, 0..1);
        Received::default().until(&mut a_events, 1).await;
        send_range(&a, &b_id, channel, 0..BEFORE);
        let mut at_b2 = Received::default();
        at_b2.until(&mut b2_events, 1).await;
        // Queued now: mostly unacknowledged when a forgets life 1.
        send_range(&a, &b_id, channel, BEFORE..BEFORE + AFTER);
        a.remove_peer(&b_id, Incarnation(1));
        at_b2.until(&mut b2_events, BEFORE + AFTER).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        while let Some(event) = b2_events.try_recv() {
            at_b2.record(event);
        }
        assert!(at_b2.restarts.is_empty(), "{:?}", at_b2.restarts);
        let want: Vec<Vec<u8>> = (0..BEFORE + AFTER).map(payload).collect();
        assert_eq!(at_b2.payloads(&a_id, channel), want);
        a.shutdown().await;
        b2.shutdown().await;
    });
}
