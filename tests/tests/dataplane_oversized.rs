//! A message larger than the transport's largest frame, between two nodes
//! over TCP: an actor's tell becomes one dead letter at its destination and
//! the messages around it on the same channel still arrive, in order; a
//! send or an ask from outside is refused with a typed error.

use std::time::Duration;

use cairn::prelude::*;
use cairn::transport::{Secret, TransportConfig};
use cairn::{AskError, Error, Runtime};
use cairn_tests::cluster::{stats_of, tcp_pair_with, TwoNodes, SHARDS};
use cairn_tests::flow::id_on;
use serde::{Deserialize, Serialize};

/// The transport's largest frame in these tests.
const MAX_FRAME: usize = 64 * 1024;
/// Bytes of a message that cannot fit in a frame.
const TOO_LARGE: usize = 2 * MAX_FRAME;
/// How long the messages may take to arrive before a test fails: a bound
/// on liveness, far above what a run needs.
const LIVENESS: Duration = Duration::from_secs(60);

/// A numbered message with `padding` bytes besides its number.
#[derive(Debug, Serialize, Deserialize)]
struct Blob {
    n: u64,
    padding: Vec<u8>,
}

impl Blob {
    fn new(n: u64, padding: usize) -> Self {
        Self {
            n,
            padding: vec![7; padding],
        }
    }
}

/// Tells a thrower to send one [`Blob`] of each size, numbered from
/// `first`, to the catcher `to`, all in one handler call.
#[derive(Debug, Serialize, Deserialize)]
struct Throw {
    to: String,
    first: u64,
    sizes: Vec<usize>,
}

/// Asks a catcher for the numbers it caught.
#[derive(Debug, Serialize, Deserialize)]
struct Caught;

/// Sends blobs.
#[stateful_function(name = "test-oversized/thrower")]
#[derive(Debug, Default, Serialize, Deserialize)]
struct Thrower;

#[handlers]
impl Thrower {
    fn throw(&mut self, ctx: &mut Context, msg: Throw) {
        for (n, size) in (msg.first..).zip(msg.sizes) {
            ctx.send(Address::of::<Catcher>(msg.to.as_str()), Blob::new(n, size));
        }
    }
}

/// Records the numbers of the blobs it receives, in order.
#[stateful_function(name = "test-oversized/catcher")]
#[derive(Debug, Default, Serialize, Deserialize)]
struct Catcher {
    caught: Vec<u64>,
}

#[handlers]
impl Catcher {
    fn blob(&mut self, _ctx: &mut Context, msg: Blob) {
        self.caught.push(msg.n);
    }

    fn caught(&self, ctx: &mut Context, _msg: Caught) {
        ctx.reply(self.caught.clone());
    }
}

/// Two nodes over TCP with frames of at most [`MAX_FRAME`] bytes; the
/// first runs shards 0–3, the second 4–7.
async fn two_nodes() -> TwoNodes {
    let config = TransportConfig::new("dataplane-oversized")
        .with_secret(Some(Secret::new("test")))
        .with_max_frame(MAX_FRAME);
    let (first, second, config) = tcp_pair_with(config).await;
    TwoNodes::start_with(first, second, &config, false, |registry, _| {
        registry.register::<Thrower>().expect("register");
        registry.register::<Catcher>().expect("register");
    })
}

/// What the catcher `id` has caught, once it has caught `count` blobs.
async fn caught(runtime: &Runtime, id: &str, count: usize) -> Vec<u64> {
    let started = tokio::time::Instant::now();
    loop {
        let caught: Vec<u64> = runtime
            .ask(Address::of::<Catcher>(id), Caught)
            .await
            .unwrap();
        if caught.len() >= count {
            return caught;
        }
        assert!(
            started.elapsed() < LIVENESS,
            "the catcher stalled at {caught:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// An oversized blob between two small ones, in one batch: the small ones
/// arrive in order, the large one is counted as a dead letter where it
/// was going, and the channel carries the next batch as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_tell_is_a_dead_letter_and_its_channel_goes_on() {
    let nodes = two_nodes().await;
    let thrower = id_on::<Thrower>("thrower", 0, SHARDS);
    let catcher_shard = SHARDS - 1;
    let catcher = id_on::<Catcher>("catcher", catcher_shard, SHARDS);
    let [first, second] = &nodes.runtimes;
    let throw = |first_n, sizes: Vec<usize>| Throw {
        to: catcher.clone(),
        first: first_n,
        sizes,
    };
    first
        .send(
            Address::of::<Thrower>(thrower.as_str()),
            throw(1, vec![16, TOO_LARGE, 16]),
        )
        .unwrap();
    assert_eq!(caught(second, &catcher, 2).await, vec![1, 3]);
    first
        .send(
            Address::of::<Thrower>(thrower.as_str()),
            throw(4, vec![16, 16]),
        )
        .unwrap();
    assert_eq!(caught(second, &catcher, 4).await, vec![1, 3, 4, 5]);
    let stats = stats_of(second, catcher_shard).await;
    assert_eq!(stats.dead_letters, 1, "{stats:?}");
    nodes.shutdown().await;
}

/// A send or an ask from outside whose message does not fit in a frame is
/// refused with `MessageTooLarge`, and nothing arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_from_outside_is_refused() {
    let nodes = two_nodes().await;
    let catcher = id_on::<Catcher>("catcher", SHARDS - 1, SHARDS);
    let address = Address::of::<Catcher>(catcher.as_str());
    let [first, second] = &nodes.runtimes;
    let error = first
        .send(address.clone(), Blob::new(1, TOO_LARGE))
        .unwrap_err();
    assert!(
        matches!(error, Error::MessageTooLarge { size, max } if size > TOO_LARGE && max < MAX_FRAME),
        "{error:?}"
    );
    let error = first
        .ask::<(), _>(address.clone(), Blob::new(2, TOO_LARGE))
        .await
        .unwrap_err();
    assert!(
        matches!(error, AskError::Send(Error::MessageTooLarge { .. })),
        "{error:?}"
    );
    first.send(address, Blob::new(3, 16)).unwrap();
    assert_eq!(caught(second, &catcher, 1).await, vec![3]);
    nodes.shutdown().await;
}
