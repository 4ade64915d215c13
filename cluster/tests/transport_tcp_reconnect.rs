//! Two TCP transports on loopback: messages on several channels, both
//! ways, arrive exactly once and in order while the connection is dropped
//! again and again (SNAPSHOTS §3.1 rule 2).

mod transport_support;

use bytes::Bytes;
use cairn::transport::{ChannelId, TcpTransport, Transport, RECONNECTS};
use transport_support::{config, counter, eventually, install_recorder, payload, Received};

const CHANNELS: u32 = 4;
const PER_CHANNEL: usize = 1_500;
const DROPS: usize = 6;

/// Thousands of messages on four channels each way, with the connection
/// closed six times mid-stream from either end: every message is delivered
/// exactly once, in order, with gap-free sequence numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_survive_dropped_connections_exactly_once_in_order() {
    install_recorder();
    let (a, mut a_events) = TcpTransport::bind("127.0.0.1:0", config(1)).await.unwrap();
    let (b, mut b_events) = TcpTransport::bind("127.0.0.1:0", config(1)).await.unwrap();
    let (a_id, b_id) = (a.local_node().clone(), b.local_node().clone());
    a.add_peer(b_id.clone());
    b.add_peer(a_id.clone());
    eventually("first connection", || {
        a.is_connected(&b_id) && b.is_connected(&a_id)
    })
    .await;

    let total = CHANNELS as usize * PER_CHANNEL;
    let drop_every = total / (DROPS + 1);
    let mut sent = 0;
    let mut drops = 0;
    for index in 0..PER_CHANNEL {
        for channel in 0..CHANNELS {
            let channel = ChannelId::new(channel, channel + 10);
            a.send(&b_id, channel, Bytes::from(payload(index))).unwrap();
            b.send(&a_id, channel, Bytes::from(payload(index))).unwrap();
            sent += 1;
            if sent % drop_every == 0 && drops < DROPS {
                // Every drop hits a live connection: the previous one has
                // been replaced (each reconnect is counted on both ends).
                // Sending then goes on at once, into the closing
                // connection and the gap before the next.
                eventually("the previous drop healed", || {
                    reconnects(&a, &b) >= 2 * drops as u64
                })
                .await;
                // Alternate ends, so both the dialer and the acceptor
                // notice a broken connection first.
                if drops % 2 == 0 {
                    a.disconnect(&b_id);
                } else {
                    b.disconnect(&a_id);
                }
                drops += 1;
            }
        }
    }

    let mut at_a = Received::default();
    let mut at_b = Received::default();
    at_b.until(&mut b_events, total).await;
    at_a.until(&mut a_events, total).await;

    let expected: Vec<Vec<u8>> = (0..PER_CHANNEL).map(payload).collect();
    for channel in 0..CHANNELS {
        let channel = ChannelId::new(channel, channel + 10);
        assert_eq!(at_b.payloads(&a_id, channel), expected, "a→b on {channel}");
        assert_eq!(at_a.payloads(&b_id, channel), expected, "b→a on {channel}");
    }
    assert!(at_a.restarts.is_empty() && at_b.restarts.is_empty());

    // Every drop caused a reconnect, and nothing more arrives: once
    // everything is acknowledged, a reconnect resends nothing.
    eventually("the last drop healed", || {
        reconnects(&a, &b) >= 2 * DROPS as u64
    })
    .await;
    assert_eq!(drops, DROPS);
    a.send(&b_id, ChannelId::new(99, 99), Bytes::from_static(b"last"))
        .unwrap();
    at_b.until(&mut b_events, total + 1).await;
    assert_eq!(
        at_b.payloads(&a_id, ChannelId::new(99, 99)),
        vec![b"last".to_vec()]
    );
    assert_eq!(at_b.total, total + 1, "a duplicate was delivered");

    a.shutdown().await;
    b.shutdown().await;
}

/// Reconnects counted by both ends.
fn reconnects(a: &TcpTransport, b: &TcpTransport) -> u64 {
    counter(RECONNECTS, a.local_node(), None) + counter(RECONNECTS, b.local_node(), None)
}
