//! The reliability protocol on the in-memory transport, over a seeded
//! network that drops, duplicates, delays (so reorders) frames and cuts
//! links: exactly-once, in-order delivery per channel, restarts reset the
//! channels, stale generations are fenced. Paused time on a current-thread
//! runtime, so a failing seed replays (as far as Tokio's scheduling order
//! is repeatable).

mod transport_support;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use cairn::transport::{
    ChannelId, Events, Faults, Generation, Incarnation, MemoryNetwork, MemoryTransport, NodeId,
    Transport, TransportConfig, TransportEvent,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use transport_support::{lossy, payload, run_paused, Received};

const SEEDS: u64 = 60;
const NODES: usize = 3;
const CHANNELS: u32 = 3;
const STEPS: usize = 400;

fn config(incarnation: u64) -> TransportConfig {
    TransportConfig::new("sim")
        .with_secret(None)
        .with_incarnation(Incarnation(incarnation))
}

/// Reads what is already queued, after letting simulated time pass.
async fn quiet(events: &mut Events, received: &mut Received, wait: Duration) {
    tokio::time::sleep(wait).await;
    while let Some(event) = events.try_recv() {
        received.record(event);
    }
}

async fn simulate(seed: u64) {
    let net = MemoryNetwork::new(seed, lossy());
    let ids: Vec<NodeId> = (0..NODES).map(|n| NodeId::new(format!("n{n}"))).collect();
    let mut nodes: Vec<(MemoryTransport, Events)> = ids
        .iter()
        .map(|id| net.endpoint(id.clone(), config(1)))
        .collect();
    for (node, _) in &nodes {
        for id in &ids {
            if id != node.local_node() {
                node.add_peer(id.clone());
            }
        }
    }
    // Messages sent per (from, to, channel).
    let mut sent: HashMap<(usize, usize, u32), usize> = HashMap::new();
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    for _ in 0..STEPS {
        let roll = rng.random_range(0..100);
        let from = rng.random_range(0..NODES);
        let to = (from + rng.random_range(1..NODES)) % NODES;
        if roll < 80 {
            let channel = rng.random_range(0..CHANNELS);
            let index = sent.entry((from, to, channel)).or_default();
            let message = Bytes::from(payload(*index));
            nodes[from]
                .0
                .send(&ids[to], ChannelId::new(channel, channel), message)
                .unwrap();
            *index += 1;
        } else if roll < 88 {
            net.cut(&ids[from], &ids[to]);
        } else if roll < 96 {
            net.heal(&ids[from], &ids[to]);
        } else {
            tokio::time::sleep(Duration::from_millis(rng.random_range(1..80))).await;
        }
        if rng.random_bool(0.3) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    for a in 0..NODES {
        for b in 0..NODES {
            net.heal(&ids[a], &ids[b]);
        }
    }

    for (to, (_, events)) in nodes.iter_mut().enumerate() {
        let expected: usize = sent
            .iter()
            .filter(|((_, dst, _), _)| *dst == to)
            .map(|(_, count)| count)
            .sum();
        let mut received = Received::default();
        received.until(events, expected).await;
        // Long after everything is acknowledged, still nothing more.
        quiet(events, &mut received, Duration::from_secs(5)).await;
        assert_eq!(
            received.total, expected,
            "seed {seed}: a duplicate at n{to}"
        );
        for from in (0..NODES).filter(|from| *from != to) {
            for channel in 0..CHANNELS {
                let count = sent.get(&(from, to, channel)).copied().unwrap_or(0);
                let want: Vec<Vec<u8>> = (0..count).map(payload).collect();
                assert_eq!(
                    received.payloads(&ids[from], ChannelId::new(channel, channel)),
                    want,
                    "seed {seed}: n{from}→n{to} on channel {channel}"
                );
            }
        }
    }
    for (node, _) in &nodes {
        node.shutdown().await;
    }
}

/// Sixty seeds of three nodes sending on three channels each way while the
/// network drops a fifth of all frames, duplicates a tenth, delays each up
/// to 30 ms and links are cut and healed at random: every message arrives
/// exactly once, in order, with gap-free sequence numbers.
#[test]
fn exactly_once_in_order_under_drops_duplicates_reorders_and_cuts() {
    for seed in 0..SEEDS {
        run_paused(simulate(seed));
    }
}

/// A node that restarts (a new incarnation under the same id) resets its
/// channels: its peer is told, and sequence numbers start again at 1 with
/// nothing of the old life delivered to the new one.
#[test]
fn a_restarted_peer_resets_its_channels() {
    run_paused(async {
        let net = MemoryNetwork::new(7, lossy());
        let (a_id, b_id) = (NodeId::new("a"), NodeId::new("b"));
        let (a, mut a_events) = net.endpoint(a_id.clone(), config(1));
        let (b1, mut b1_events) = net.endpoint(b_id.clone(), config(1));
        let channel = ChannelId::new(0, 1);
        for index in 0..50 {
            a.send(&b_id, channel, Bytes::from(payload(index))).unwrap();
        }
        let mut at_b1 = Received::default();
        at_b1.until(&mut b1_events, 50).await;
        // Unacknowledged when b crashes: never reaches the new b.
        for index in 50..60 {
            a.send(&b_id, channel, Bytes::from(payload(index))).unwrap();
        }
        b1.shutdown().await;

        let (b2, mut b2_events) = net.endpoint(b_id.clone(), config(2));
        b2.add_peer(a_id.clone());
        let mut at_a = Received::default();
        while at_a.restarts.is_empty() {
            let event = a_events.recv().await.expect("a is running");
            at_a.record(event);
        }
        assert_eq!(
            at_a.restarts,
            vec![TransportEvent::PeerRestarted {
                peer: b_id.clone(),
                previous: Incarnation(1),
                current: Incarnation(2),
            }]
        );
        for index in 100..110 {
            a.send(&b_id, channel, Bytes::from(payload(index))).unwrap();
        }
        let mut at_b2 = Received::default();
        at_b2.until(&mut b2_events, 10).await;
        quiet(&mut b2_events, &mut at_b2, Duration::from_secs(5)).await;
        let want: Vec<Vec<u8>> = (100..110).map(payload).collect();
        assert_eq!(at_b2.payloads(&a_id, channel), want);
        a.shutdown().await;
        b2.shutdown().await;
    });
}

/// With `carry_over_on_restart` (the cluster's setting), what a node had
/// not had acknowledged by a peer that restarted is not lost: it reaches
/// the new incarnation, in order and before what is sent afterwards,
/// renumbered from 1 (the cluster drops what was meant for the old life
/// by its generation).
#[test]
fn a_carrying_transport_sends_what_was_queued_to_the_new_incarnation() {
    run_paused(async {
        let net = MemoryNetwork::new(9, lossy());
        let (a_id, b_id) = (NodeId::new("a"), NodeId::new("b"));
        let carrying = |incarnation| config(incarnation).with_carry_over_on_restart(true);
        let (a, mut a_events) = net.endpoint(a_id.clone(), carrying(1));
        let (b1, mut b1_events) = net.endpoint(b_id.clone(), carrying(1));
        let channel = ChannelId::new(0, 1);
        for index in 0..50 {
            a.send(&b_id, channel, Bytes::from(payload(index))).unwrap();
        }
        Received::default().until(&mut b1_events, 50).await;
        // Unacknowledged when b crashes: they reach the new b.
        for index in 50..60 {
            a.send(&b_id, channel, Bytes::from(payload(index))).unwrap();
        }
        b1.shutdown().await;
        let (b2, mut b2_events) = net.endpoint(b_id.clone(), carrying(2));
        b2.add_peer(a_id.clone());
        let mut at_a = Received::default();
        while at_a.restarts.is_empty() {
            let event = a_events.recv().await.expect("a is running");
            at_a.record(event);
        }
        for index in 100..110 {
            a.send(&b_id, channel, Bytes::from(payload(index))).unwrap();
        }
        let mut at_b2 = Received::default();
        at_b2.until(&mut b2_events, 20).await;
        quiet(&mut b2_events, &mut at_b2, Duration::from_secs(5)).await;
        // Whatever b1 had not acknowledged (some of 0..50 it got, and all
        // of 50..60), then the rest, in order.
        let got = at_b2.payloads(&a_id, channel);
        let carried = got.len() - 10;
        let want: Vec<Vec<u8>> = (60 - carried..60).chain(100..110).map(payload).collect();
        assert!(
            carried >= 10,
            "the frames queued at the crash are missing: {got:?}"
        );
        assert_eq!(got, want);
        a.shutdown().await;
        b2.shutdown().await;
    });
}

/// Frames from a node behind on the generation are dropped until it
/// catches up; then its unacknowledged messages arrive, in order.
#[test]
fn a_stale_generation_is_fenced_until_it_catches_up() {
    run_paused(async {
        let net = MemoryNetwork::new(11, Faults::none());
        let (a_id, c_id) = (NodeId::new("a"), NodeId::new("c"));
        let (a, mut a_events) = net.endpoint(a_id.clone(), config(1));
        a.set_generation(Generation(5));
        let (c, _c_events) = net.endpoint(c_id.clone(), config(1));
        let channel = ChannelId::new(3, 4);
        for index in 0..5 {
            c.send(&a_id, channel, Bytes::from(payload(index))).unwrap();
        }
        let mut at_a = Received::default();
        quiet(&mut a_events, &mut at_a, Duration::from_secs(10)).await;
        assert_eq!(at_a.total, 0, "a stale generation's message got through");
        c.set_generation(Generation(5));
        at_a.until(&mut a_events, 5).await;
        let want: Vec<Vec<u8>> = (0..5).map(payload).collect();
        assert_eq!(at_a.payloads(&c_id, channel), want);
        a.shutdown().await;
        c.shutdown().await;
    });
}
