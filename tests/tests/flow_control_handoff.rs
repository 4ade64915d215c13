//! Credit across a shard move (SNAPSHOTS §3.1 rule 3, §3.8), between two
//! nodes over TCP: a producer waiting for credit from a slow consumer on
//! the other node, both shards moving to the other node at one epoch cut.
//! The frozen producer drops its wait, starts on its new node assuming
//! its channels handled, and the consumer's grants from its new node
//! continue the same count: the run goes on without an overdraft (the
//! patience is far longer than the test) and every item arrives once.

use std::time::Duration;

use cairn::transport::Transport;
use cairn::{Address, ShardId, ShardSnapshot};
use cairn_tests::cluster::{stats_of, tcp_pair, TwoNodes, SHARDS};
use cairn_tests::flow::{id_on, Consumer, Count, Produce, Producer};

/// Messages a channel may carry unhandled.
const WINDOW: u64 = 256;
/// Items per run: enough windows that the move comes in the middle.
const RUN: u64 = 2_000 * WINDOW;
/// The producer's shard, on the first node before the move.
const PRODUCER_SHARD: u32 = 0;
/// The consumer's shard, on the second node before the move.
const CONSUMER_SHARD: u32 = SHARDS - 1;
/// How long a wait may take before the test fails: a bound on liveness.
const LIVENESS: Duration = Duration::from_secs(60);

/// Before the move shards 0–3 run on the first node and 4–7 on the
/// second; the producer's and the consumer's shards swap nodes.
fn owner_after(shard: u32) -> usize {
    match shard {
        PRODUCER_SHARD => 1,
        CONSUMER_SHARD => 0,
        shard => usize::from(shard >= SHARDS / 2),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credit_carries_over_when_a_waiting_producer_and_its_consumer_move() {
    let (first, second, config) = tcp_pair("flow-control-handoff").await;
    let (a, b) = (first.0.clone(), second.0.clone());
    let mut nodes = TwoNodes::start_with(first, second, &config, true, |registry, runtime| {
        registry.register::<Producer>().expect("register");
        registry.register::<Consumer>().expect("register");
        runtime.turn_budget = 4;
        runtime.channel_window = WINDOW;
        runtime.credit_patience = Duration::from_secs(600);
    });
    let producer = id_on::<Producer>("producer", PRODUCER_SHARD, SHARDS);
    let consumer = id_on::<Consumer>("consumer", CONSUMER_SHARD, SHARDS);
    let consumer_address = Address::of::<Consumer>(consumer.as_str());
    let produce = Produce {
        to: consumer.clone(),
        count: RUN,
        chunk: 64,
    };
    nodes.runtimes[0]
        .send(Address::of::<Producer>(producer.as_str()), produce)
        .unwrap();
    let started = tokio::time::Instant::now();
    while stats_of(&nodes.runtimes[0], PRODUCER_SHARD)
        .await
        .credit_waits
        == 0
    {
        assert!(started.elapsed() < LIVENESS, "the producer never waited");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    let received_before: u64 = nodes.runtimes[1]
        .ask(consumer_address.clone(), Count)
        .await
        .unwrap();
    assert!(
        received_before < RUN / 2,
        "the run is nearly over before the move: make it longer"
    );

    // The move, at the cut of epoch 1, while the producer waits.
    nodes.prepare_handoff(1, owner_after);
    for runtime in &nodes.runtimes {
        runtime.start_epoch(1).expect("start");
    }
    let parts = nodes.collect_parts_anywhere(1).await;
    for runtime in &nodes.runtimes {
        runtime.epoch_committed(1).expect("commit");
    }
    for (node, runtime) in nodes.runtimes.iter().enumerate() {
        let restore = parts
            .iter()
            .map(|(_, part)| {
                (owner_after(part.shard.0) == node)
                    .then(|| ShardSnapshot::fold(vec![part.clone()]).expect("a part"))
            })
            .collect();
        runtime
            .finish_handoff(1, restore)
            .expect("the arriving shards start");
    }
    assert!(nodes.runtimes[1].owns(ShardId(PRODUCER_SHARD)));
    assert!(nodes.runtimes[0].owns(ShardId(CONSUMER_SHARD)));

    // The run finishes on the new nodes, every item once.
    let started = tokio::time::Instant::now();
    loop {
        let received: u64 = nodes.runtimes[0]
            .ask(consumer_address.clone(), Count)
            .await
            .unwrap();
        assert!(received <= RUN, "{received} items: some arrived twice");
        if received == RUN {
            break;
        }
        assert!(
            started.elapsed() < LIVENESS,
            "the run stalled at {received} items after the move"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let producer_after = stats_of(&nodes.runtimes[1], PRODUCER_SHARD).await;
    assert!(
        producer_after.credit_waits > 0,
        "the moved producer waited for the moved consumer's credit: {producer_after:?}"
    );
    assert_eq!(
        producer_after.credit_overdrafts, 0,
        "credit came from the consumer's new node every time: {producer_after:?}"
    );
    let consumer_after = stats_of(&nodes.runtimes[0], CONSUMER_SHARD).await;
    assert_eq!(consumer_after.queued_messages, 0);
    nodes.shutdown().await;
    a.shutdown().await;
    b.shutdown().await;
}
