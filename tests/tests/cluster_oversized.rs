//! Messages and replies too large for a frame between two cluster members
//! over TCP (`ClusterSettings::max_frame`): a send or an ask is refused
//! with `MessageTooLarge`, a reply too large to travel back is an error
//! its caller gets at once rather than a timeout, an actor's tell is a
//! dead letter at its destination, and everything that fits still
//! arrives.

use std::net::SocketAddr;
use std::time::Duration;

use cairn::prelude::*;
use cairn::{AskError, ClusterSettings, Error, Node, ShardCount};
use serde::{Deserialize, Serialize};

/// The largest frame between the members.
const MAX_FRAME: usize = 64 * 1024;
/// Bytes of a message or reply that cannot fit in a frame.
const TOO_LARGE: usize = 2 * MAX_FRAME;
/// The cluster's shard count.
const SHARDS: u32 = 8;
/// How long a wait may take before the test fails: a bound on liveness.
const LIVENESS: Duration = Duration::from_secs(30);

/// Asks a keeper for a reply of this many bytes.
#[derive(Debug, Serialize, Deserialize)]
struct Make(usize);

/// A message of this many bytes, numbered.
#[derive(Debug, Serialize, Deserialize)]
struct Blob {
    n: u64,
    text: String,
}

impl Blob {
    fn new(n: u64, bytes: usize) -> Self {
        Self {
            n,
            text: "x".repeat(bytes),
        }
    }
}

/// Tells a keeper to send one [`Blob`] of each size, numbered from 1, to
/// keeper `to`, in one handler call.
#[derive(Debug, Serialize, Deserialize)]
struct Pass {
    to: u64,
    sizes: Vec<usize>,
}

/// Asks a keeper for the numbers of the blobs it kept.
#[derive(Debug, Serialize, Deserialize)]
struct Kept;

/// Keeps the numbers of the blobs it is sent, makes replies of any size
/// and passes blobs on.
#[stateful_function(name = "test-cluster-oversized/keeper")]
#[derive(Debug, Default, Serialize, Deserialize)]
struct Keeper {
    kept: Vec<u64>,
}

#[handlers]
impl Keeper {
    fn blob(&mut self, _ctx: &mut Context, msg: Blob) {
        self.kept.push(msg.n);
    }

    fn make(&mut self, ctx: &mut Context, msg: Make) {
        ctx.reply("y".repeat(msg.0));
    }

    fn pass(&mut self, ctx: &mut Context, msg: Pass) {
        for (n, size) in (1..).zip(msg.sizes) {
            ctx.send(Address::of::<Keeper>(msg.to), Blob::new(n, size));
        }
    }

    fn kept(&self, ctx: &mut Context, _msg: Kept) {
        ctx.reply(self.kept.clone());
    }
}

/// A member on a loopback port it picks, joining through `seed`.
async fn member(seed: Option<SocketAddr>, store: &str) -> Node {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    Node::builder()
        .register::<Keeper>()
        .shards(SHARDS)
        .store(store)
        .cluster(
            ClusterSettings::new(any, seed.map(|seed| seed.to_string()))
                .with_cluster_id("oversized-test")
                .with_max_frame(MAX_FRAME),
        )
        .start()
        .await
        .expect("the member joins")
}

/// Once both members run shards: a keeper id whose shard `node` runs, and
/// one whose shard the other member runs.
async fn ids_here_and_there(node: &Node) -> (u64, u64) {
    let started = tokio::time::Instant::now();
    let view = loop {
        let view = node.cluster_view().expect("a member");
        let members: std::collections::BTreeSet<_> = view.shard_owners.iter().collect();
        if members.len() == 2 {
            break view;
        }
        assert!(started.elapsed() < LIVENESS, "never two members: {view:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let shards = ShardCount::new(SHARDS).expect("not zero");
    let owner = |id: u64| &view.shard_owners[Address::of::<Keeper>(id).shard(shards).index()];
    let here = (0..).find(|id| *owner(*id) == view.node).expect("an id");
    let there = (0..).find(|id| *owner(*id) != view.node).expect("an id");
    (here, there)
}

/// What keeper `id` kept, once it kept `count` blobs.
async fn kept(node: &Node, id: u64, count: usize) -> Vec<u64> {
    let started = tokio::time::Instant::now();
    loop {
        let kept: Vec<u64> = node.ask(Address::of::<Keeper>(id), Kept).await.unwrap();
        if kept.len() >= count {
            return kept;
        }
        assert!(started.elapsed() < LIVENESS, "stalled at {kept:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Replies, sends, asks and tells over the limit, each beside one that
/// fits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_does_not_fit_in_a_frame_is_refused_and_the_rest_arrives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("fs://{}", dir.path().display());
    let a = member(None, &store).await;
    let b = member(a.cluster_addr(), &store).await;
    let (here, there) = ids_here_and_there(&a).await;
    let keeper_there = Address::of::<Keeper>(there);

    // A reply that fits travels back; one that does not is an error at once.
    let reply: String = a.ask(keeper_there.clone(), Make(1024)).await.unwrap();
    assert_eq!(reply.len(), 1024);
    let error = a
        .ask::<String, _>(keeper_there.clone(), Make(TOO_LARGE))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, AskError::Remote { reason, .. } if reason.contains("cannot travel back")),
        "{error:?}"
    );

    // A message from outside that does not fit is refused.
    let error = a
        .send(keeper_there.clone(), Blob::new(0, TOO_LARGE))
        .unwrap_err();
    assert!(matches!(error, Error::MessageTooLarge { .. }), "{error:?}");
    let error = a
        .ask::<String, _>(keeper_there.clone(), Blob::new(0, TOO_LARGE))
        .await
        .unwrap_err();
    assert!(
        matches!(error, AskError::Send(Error::MessageTooLarge { .. })),
        "{error:?}"
    );

    // An actor's tell that does not fit is a dead letter where it was
    // going; those around it arrive, in order.
    let pass = Pass {
        to: there,
        sizes: vec![16, TOO_LARGE, 16],
    };
    a.send(Address::of::<Keeper>(here), pass).unwrap();
    assert_eq!(kept(&a, there, 2).await, vec![1, 3]);
    let dead_letters: u64 = b
        .shard_stats()
        .await
        .unwrap()
        .iter()
        .map(|shard| shard.dead_letters)
        .sum();
    assert_eq!(dead_letters, 1);
    tokio::join!(a.shutdown(), b.shutdown());
}
