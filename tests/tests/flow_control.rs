//! Credit-based flow control between shards (SNAPSHOTS §3.1 rule 3): a
//! producer faster than its consumer is held to the channel window, here
//! and across nodes over TCP, and shards that fill each other's windows
//! run on after their patience instead of waiting for each other forever.
//! A node stopped while a shard waits for credit stops at once and resumes
//! from its store with every message delivered exactly once.

use std::time::Duration;

use cairn::transport::Transport;
use cairn::{Address, Node, ShardStats};
use cairn_tests::cluster::{stats_of, tcp_pair, TwoNodes, SHARDS};
use cairn_tests::flow::{id_on, Bouncer, Consumer, Count, Produce, Producer, Serve};
use cairn_tests::functions::start_node;
use cairn_tests::stores::{Backend, TestStore};

/// The window the tests run with.
const WINDOW: u64 = 1024;
/// Messages a shard handles per turn in the tests.
const TURN_BUDGET: usize = 4;
/// Items a producer sends per handler call.
const CHUNK: u64 = 256;
/// Items per run: a hundred windows.
const ITEMS: u64 = 100 * WINDOW;
/// How long a test may take before it fails: a bound on liveness, far
/// above what a run needs.
const LIVENESS: Duration = Duration::from_secs(60);

/// The most messages the consumer's shard may hold: the producer starts a
/// turn only with fewer than a window unhandled, and a turn sends at most
/// `TURN_BUDGET` chunks.
const MOST_QUEUED: usize = (WINDOW + TURN_BUDGET as u64 * CHUNK) as usize;

/// Samples the consumer shard's queue until it has handled every item;
/// returns the longest queue seen.
async fn longest_queue_until_done<F, Fut>(stats_of_consumer: F) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ShardStats>,
{
    let started = tokio::time::Instant::now();
    let mut longest = 0;
    loop {
        let stats = stats_of_consumer().await;
        longest = longest.max(stats.queued_messages);
        if stats.messages_handled >= ITEMS {
            return longest;
        }
        assert!(
            started.elapsed() < LIVENESS,
            "the consumer stalled: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Tells the producer to send the run's items to `consumer`.
fn produce(consumer: &str) -> Produce {
    Produce {
        to: consumer.to_owned(),
        count: ITEMS,
        chunk: CHUNK,
    }
}

/// Checks a run: every item arrived once, the consumer's queue stayed
/// within the bound, and the producer had to wait for credit, which came
/// each time before its patience ran out.
fn check_run(longest: usize, received: u64, producer: &ShardStats) {
    assert_eq!(received, ITEMS, "every item arrives once");
    assert!(
        longest <= MOST_QUEUED,
        "the consumer held {longest} messages, over the bound {MOST_QUEUED}"
    );
    assert!(
        producer.credit_waits > 0,
        "the producer never waited: {producer:?}"
    );
    assert_eq!(
        producer.credit_overdrafts, 0,
        "the consumer's grants came back in time, every time"
    );
}

/// Shard `shard`'s counters among those of every shard of a node.
fn pick(stats: Vec<ShardStats>, shard: u32) -> ShardStats {
    stats
        .into_iter()
        .find(|stats| stats.shard == shard)
        .unwrap()
}

/// Shard `shard`'s counters, from a node.
async fn node_shard(node: &Node, shard: u32) -> ShardStats {
    pick(node.shard_stats().await.unwrap(), shard)
}

/// One node, the producer on shard 0 and the consumer on shard 1: without
/// credit the consumer's queue grows to most of the run (the producer is
/// many times faster); with it, it stays within a window and a turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_producer_is_held_to_the_window_of_a_slow_consumer() {
    let node = start_node(|builder| {
        builder
            .shards(2)
            .turn_budget(TURN_BUDGET)
            .channel_window(WINDOW)
            .register::<Producer>()
            .register::<Consumer>()
    })
    .await;
    let consumer = id_on::<Consumer>("consumer", 1, 2);
    let producer = id_on::<Producer>("producer", 0, 2);
    node.send(
        Address::of::<Producer>(producer.as_str()),
        produce(&consumer),
    )
    .unwrap();
    let longest = longest_queue_until_done(|| node_shard(&node, 1)).await;
    let received: u64 = node
        .ask(Address::of::<Consumer>(consumer.as_str()), Count)
        .await
        .unwrap();
    check_run(longest, received, &node_shard(&node, 0).await);
    node.shutdown().await;
}

/// The same across two nodes over TCP: the consumer's grants travel back
/// over the transport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_holds_across_nodes() {
    let (first, second, config) = tcp_pair("flow-control").await;
    let (a, b) = (first.0.clone(), second.0.clone());
    let nodes = TwoNodes::start_with(first, second, &config, false, |registry, runtime| {
        registry.register::<Producer>().expect("register");
        registry.register::<Consumer>().expect("register");
        runtime.turn_budget = TURN_BUDGET;
        runtime.channel_window = WINDOW;
    });
    // Shards 0–3 run on the first node, 4–7 on the second.
    let consumer = id_on::<Consumer>("consumer", SHARDS - 1, SHARDS);
    let producer = id_on::<Producer>("producer", 0, SHARDS);
    let [here, there] = &nodes.runtimes;
    here.send(
        Address::of::<Producer>(producer.as_str()),
        produce(&consumer),
    )
    .unwrap();
    let longest = longest_queue_until_done(|| stats_of(there, SHARDS - 1)).await;
    let received: u64 = there
        .ask(Address::of::<Consumer>(consumer.as_str()), Count)
        .await
        .unwrap();
    check_run(longest, received, &stats_of(here, 0).await);
    nodes.shutdown().await;
    a.shutdown().await;
    b.shutdown().await;
}

/// Two bouncers on two shards: one serves four windows of balls in one
/// handler call, so it waits at once; the other throws them back a turn
/// at a time until it waits too, holding a window of the first one's
/// balls that the first, waiting, never handles. Neither can grant the
/// other credit: only the patience gets them out, and every ball is
/// caught exactly as often as it is thrown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_that_fill_each_others_windows_run_on_after_their_patience() {
    const WINDOW: u64 = 256;
    const BALLS: u64 = 4 * WINDOW;
    const HOPS: u64 = 3;
    let node = start_node(|builder| {
        builder
            .shards(2)
            .turn_budget(64)
            .channel_window(WINDOW)
            .credit_patience(Duration::from_millis(100))
            .register::<Bouncer>()
    })
    .await;
    let server = id_on::<Bouncer>("server", 0, 2);
    let receiver = id_on::<Bouncer>("receiver", 1, 2);
    let serve = Serve {
        to: receiver.clone(),
        balls: BALLS,
        hops: HOPS,
    };
    node.send(Address::of::<Bouncer>(server.as_str()), serve)
        .unwrap();
    let started = tokio::time::Instant::now();
    loop {
        let mut caught = 0;
        for id in [&server, &receiver] {
            let count: u64 = node
                .ask(Address::of::<Bouncer>(id.as_str()), Count)
                .await
                .unwrap();
            caught += count;
        }
        if caught == BALLS * (HOPS + 1) {
            break;
        }
        assert!(
            caught < BALLS * (HOPS + 1),
            "{caught} catches: some ball was caught twice"
        );
        assert!(
            started.elapsed() < LIVENESS,
            "the bouncers stalled at {caught} catches"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = node.shard_stats().await.unwrap();
    let overdrafts: u64 = stats.iter().map(|shard| shard.credit_overdrafts).sum();
    assert!(
        overdrafts > 0,
        "the bouncers never waited each other out: {stats:?}"
    );
    node.shutdown().await;
}

/// A node stopped while its producer waits for credit stops at once (not
/// after the producer's patience, far longer here), and a node restarted
/// on its store finishes the run from the epoch taken during the wait:
/// every item arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stopped_while_a_producer_waits_for_credit_resumes_every_item_once() {
    /// Long enough that the stop comes in the middle of the run.
    const RUN: u64 = 1000 * WINDOW;
    /// No overdraft can be what lets the producer or the stop go on.
    const PATIENCE: Duration = Duration::from_secs(600);
    let store = TestStore::new(Backend::Fs);
    let open = || {
        start_node(|builder| {
            builder
                .shards(2)
                .turn_budget(TURN_BUDGET)
                .channel_window(WINDOW)
                .credit_patience(PATIENCE)
                .store(store.url())
                .snapshot_interval(None)
                .register::<Producer>()
                .register::<Consumer>()
        })
    };
    let node = open().await;
    let consumer = id_on::<Consumer>("consumer", 1, 2);
    let producer = id_on::<Producer>("producer", 0, 2);
    let run = Produce {
        count: RUN,
        ..produce(&consumer)
    };
    node.send(Address::of::<Producer>(producer.as_str()), run)
        .unwrap();
    let started = tokio::time::Instant::now();
    while node_shard(&node, 0).await.credit_waits == 0 {
        assert!(started.elapsed() < LIVENESS, "the producer never waited");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let epoch = node.snapshot_now().await.unwrap();
    let waits = node_shard(&node, 0).await.credit_waits;
    let consumer_stats = node_shard(&node, 1).await;
    assert!(
        consumer_stats.messages_handled < RUN,
        "the run ended before the stop: make it longer"
    );
    tokio::time::timeout(LIVENESS, node.shutdown())
        .await
        .expect("a producer waiting for credit does not hold up the stop");

    let restarted = open().await;
    assert_eq!(restarted.recovered_from(), Some(epoch));
    let consumer = Address::of::<Consumer>(consumer.as_str());
    let started = tokio::time::Instant::now();
    loop {
        let received: u64 = restarted.ask(consumer.clone(), Count).await.unwrap();
        assert!(received <= RUN, "{received} items: some arrived twice");
        let producer = node_shard(&restarted, 0).await;
        let queued = node_shard(&restarted, 1).await.queued_messages;
        if received == RUN && producer.queued_messages == 0 && queued == 0 {
            break;
        }
        assert!(
            started.elapsed() < LIVENESS,
            "the resumed run stalled at {received} items: {producer:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(waits > 0, "the producer waited before the stop");
    let producer = node_shard(&restarted, 0).await;
    assert_eq!(producer.credit_overdrafts, 0, "credit came every time");
    restarted.shutdown().await;
}
