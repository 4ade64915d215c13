//! Incarnations and generations over TCP: a restarted peer resets the
//! channels and is announced; an older incarnation of a known node and a
//! node behind on the generation are refused (SNAPSHOTS §3.1 rule 1).

mod transport_support;

use bytes::Bytes;
use cairn::transport::{
    ChannelId, Generation, Incarnation, NodeId, TcpTransport, Transport, TransportEvent,
    CONNECTIONS_REFUSED,
};
use transport_support::{config, counter, eventually, install_recorder, payload, Received};

/// Restarts the node at `addr` with `incarnation`.
async fn start_at(addr: &NodeId, incarnation: u64) -> (TcpTransport, cairn::transport::Events) {
    TcpTransport::bind(addr.as_str(), config(incarnation))
        .await
        .expect("the restarted node gets its port back")
}

/// b restarts at the same address with a newer incarnation: a is told,
/// and the channel starts again at sequence number 1. Then an older
/// incarnation of b comes up and a refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_peer_is_announced_and_an_older_one_refused() {
    install_recorder();
    let (a, mut a_events) = TcpTransport::bind("127.0.0.1:0", config(1)).await.unwrap();
    let a_id = a.local_node().clone();
    let (b1, mut b1_events) = TcpTransport::bind("127.0.0.1:0", config(100))
        .await
        .unwrap();
    let b_id = b1.local_node().clone();
    let channel = ChannelId::new(1, 1);
    for index in 0..10 {
        a.send(&b_id, channel, Bytes::from(payload(index))).unwrap();
    }
    b1.add_peer(a_id.clone());
    Received::default().until(&mut b1_events, 10).await;
    b1.shutdown().await;

    let (b2, mut b2_events) = start_at(&b_id, 200).await;
    b2.add_peer(a_id.clone());
    let mut at_a = Received::default();
    let wait = async {
        while at_a.restarts.is_empty() {
            at_a.record(a_events.recv().await.expect("a is running"));
        }
    };
    tokio::time::timeout(transport_support::HANG_GUARD, wait)
        .await
        .expect("a is told of the restart");
    assert_eq!(
        at_a.restarts,
        vec![TransportEvent::PeerRestarted {
            peer: b_id.clone(),
            previous: Incarnation(100),
            current: Incarnation(200),
        }]
    );
    for index in 100..105 {
        a.send(&b_id, channel, Bytes::from(payload(index))).unwrap();
    }
    let mut at_b2 = Received::default();
    at_b2.until(&mut b2_events, 5).await;
    let want: Vec<Vec<u8>> = (100..105).map(payload).collect();
    assert_eq!(at_b2.payloads(&a_id, channel), want);
    b2.shutdown().await;

    let before = counter(CONNECTIONS_REFUSED, &a_id, Some("stale_incarnation"));
    let (b0, _b0_events) = start_at(&b_id, 150).await;
    b0.add_peer(a_id.clone());
    eventually("the older incarnation refused", || {
        counter(CONNECTIONS_REFUSED, &a_id, Some("stale_incarnation")) > before
    })
    .await;
    assert!(!a.is_connected(&b_id));
    b0.shutdown().await;
    a.shutdown().await;
}

/// A node whose generation is below a's is refused; once it has caught up
/// it connects and its queued messages arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_behind_on_the_generation_is_refused_until_it_catches_up() {
    install_recorder();
    let (a, mut a_events) = TcpTransport::bind("127.0.0.1:0", config(1)).await.unwrap();
    a.set_generation(Generation(7));
    let a_id = a.local_node().clone();
    let (c, _c_events) = TcpTransport::bind("127.0.0.1:0", config(1)).await.unwrap();
    let c_id = c.local_node().clone();
    let stale = || {
        counter(CONNECTIONS_REFUSED, &a_id, Some("stale_generation"))
            + counter(CONNECTIONS_REFUSED, &c_id, Some("by_peer"))
    };
    let before = stale();
    let channel = ChannelId::new(2, 3);
    for index in 0..20 {
        c.send(&a_id, channel, Bytes::from(payload(index))).unwrap();
    }
    a.add_peer(c_id.clone());
    eventually("the stale generation refused", || stale() > before).await;
    assert!(!a.is_connected(&c_id));

    c.set_generation(Generation(7));
    let mut at_a = Received::default();
    at_a.until(&mut a_events, 20).await;
    let want: Vec<Vec<u8>> = (0..20).map(payload).collect();
    assert_eq!(at_a.payloads(&c_id, channel), want);
    a.shutdown().await;
    c.shutdown().await;
}
