//! Cluster members in one process: three nodes find each other through a
//! seed, share the shards and the store, ask each other's actors, and keep
//! every balance exact when a member leaves gracefully and another joins;
//! an ask caught in a shard's move is answered by the shard's new owner.

use std::net::SocketAddr;
use std::time::Duration;

use cairn::membership::ShardRing;
use cairn::transport::{Generation, NodeId};
use cairn::{Address, ClusterSettings, Node, ShardCount, ShardId};
use cairn_tests::functions::{Account, Balance, Bump, Deposit, Responder, Transfer};
use cairn_tests::gate::Gate;

const ACCOUNTS: u64 = 40;
const INITIAL: i64 = 1_000;

/// A loopback address on a port the node picks.
fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().expect("an address")
}

/// A loopback address whose TCP and UDP ports are both free now, for a
/// member whose address must be known before it starts. Another socket
/// could take the port before the member binds it; the member then fails
/// to start with its own error.
fn free_addr() -> SocketAddr {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = tcp.local_addr().expect("addr");
        if std::net::UdpSocket::bind(addr).is_ok() {
            return addr;
        }
    }
}

/// A member on a port it picks, joining through `seed` (none: it starts
/// the cluster).
async fn member(seed: Option<SocketAddr>, store: &str) -> Node {
    Node::builder()
        .register::<Account>()
        .shards(8)
        .store(store)
        .snapshot_interval(Some(Duration::from_millis(200)))
        .cluster(
            ClusterSettings::new(any_port(), seed.map(|seed| seed.to_string()))
                .with_cluster_id("members-test"),
        )
        .start()
        .await
        .expect("the member joins")
}

/// Logs as `RUST_LOG` says, and a fresh store (kept while the directory
/// lives).
fn traced_store() -> (tempfile::TempDir, String) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("fs://{}", dir.path().display());
    (dir, store)
}

/// Waits until `via` runs a generation whose shards spread over `members`
/// members, and returns its view.
async fn one_generation_of(via: &Node, members: usize) -> cairn::http::views::ClusterView {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let view = via.cluster_view().expect("a member");
        let distinct: std::collections::BTreeSet<_> = view.shard_owners.iter().collect();
        if distinct.len() == members {
            return view;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never one generation of {members}: {view:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every balance, each asked through `via` (most live on other members).
/// An ask in flight while the cluster moves to a new generation fails
/// (the runtimes are replaced): the caller asks again.
async fn balances(via: &Node) -> Result<Vec<i64>, cairn::AskError> {
    let mut balances = Vec::new();
    for account in 0..ACCOUNTS {
        let balance: i64 = via.ask(Address::of::<Account>(account), Balance).await?;
        balances.push(balance);
    }
    Ok(balances)
}

async fn wait_for(via: &Node, expected: &[i64]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = balances(via).await;
        if now.as_deref() == Ok(expected) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "balances {now:?} never became {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn transfers(expected: &mut [i64], round: u64) -> Vec<(u64, Transfer)> {
    (0..200)
        .map(|i| {
            let from = (i * 7 + round) % ACCOUNTS;
            let to = (i * 13 + 5 + round) % ACCOUNTS;
            let amount = (i % 17 + 1) as i64;
            expected[from as usize] -= amount;
            expected[to as usize] += amount;
            (from, Transfer { to, amount })
        })
        .collect()
}

/// Three members share the shards; a graceful leave and a join move
/// shards at epoch cuts while transfers are on their way, and every
/// balance stays exact without a rollback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_share_shards_and_keep_balances_through_leave_and_join() {
    let (_dir, store) = traced_store();
    let a = member(None, &store).await;
    let seed = a.cluster_addr();
    let (b, c) = tokio::join!(member(seed, &store), member(seed, &store));
    one_generation_of(&a, 3).await;
    for account in 0..ACCOUNTS {
        b.send(Address::of::<Account>(account), Deposit(INITIAL))
            .expect("deposit");
    }
    let mut expected = vec![INITIAL; ACCOUNTS as usize];
    wait_for(&c, &expected).await;
    let generation = a.cluster_view().expect("a member").generation;
    // A member other than the coordinator leaves gracefully right after
    // transfers were sent, and a new one joins right after more: their
    // shards move at an epoch cut (§3.8). Nothing rolls back — transfers
    // sent with `send` since the last commit would be lost if it did —
    // and the generation stays the same.
    let coordinator = a.cluster_view().expect("a member").coordinator;
    let mut members = vec![a, b, c];
    let leaving = members
        .iter()
        .position(|node| node.cluster_view().expect("a member").node != coordinator)
        .expect("two members are not the coordinator");
    let leaver = members.remove(leaving);
    let [a, b]: [Node; 2] = members.try_into().expect("two members stay");
    for (from, transfer) in transfers(&mut expected, 1) {
        a.send(Address::of::<Account>(from), transfer)
            .expect("transfer");
    }
    leaver.shutdown().await;
    wait_for(&b, &expected).await;
    assert_eq!(b.cluster_view().expect("a member").generation, generation);
    for (from, transfer) in transfers(&mut expected, 2) {
        b.send(Address::of::<Account>(from), transfer)
            .expect("transfer");
    }
    let d = member(a.cluster_addr(), &store).await;
    wait_for(&d, &expected).await;
    let view = d.cluster_view().expect("a member");
    assert_eq!(view.generation, generation);
    assert!(
        view.shard_owners.contains(&view.node),
        "the new member runs shards: {view:?}"
    );
    tokio::join!(a.shutdown(), b.shutdown(), d.shutdown());
}

/// A node whose shard count or largest frame differs from the cluster's
/// refuses to join, saying which member differs and how, and the cluster
/// gives it no shards meanwhile; a largest frame out of bounds is refused
/// before the node binds anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_configured_unlike_the_cluster_refuses_to_join() {
    let (_dir, store) = traced_store();
    let first = member(None, &store).await;
    let seed = first.cluster_addr().expect("a cluster member");
    let join = |shards: u32, max_frame: usize| {
        Node::builder()
            .register::<Account>()
            .shards(shards)
            .store(&store)
            .cluster(
                ClusterSettings::new(any_port(), [seed.to_string()])
                    .with_cluster_id("members-test")
                    .with_max_frame(max_frame),
            )
            .start()
    };
    for (shards, max_frame, says) in [
        (16, cairn::transport::DEFAULT_MAX_FRAME, "(8 shards"),
        (
            8,
            1 << 20,
            &*format!("at most {} bytes", cairn::transport::DEFAULT_MAX_FRAME),
        ),
    ] {
        let error = join(shards, max_frame).await.unwrap_err().to_string();
        assert!(
            error.contains(&seed.to_string()) && error.contains(says),
            "{error}"
        );
    }
    let view = first.cluster_view().expect("a member");
    assert!(
        view.shard_owners.iter().all(|owner| *owner == view.node),
        "a misconfigured node ran shards: {view:?}"
    );
    let error = join(8, 1024).await.unwrap_err().to_string();
    assert!(
        error.contains("between") && error.contains("1024"),
        "{error}"
    );
    first.shutdown().await;
}

/// Bad input reaching a member — garbage and an oversized length prefix on
/// its cluster port, then, from an authenticated peer, a control message
/// that does not decode, a data frame without its generation tag, one
/// whose body does not decode and one for a shard that does not exist —
/// is refused or dropped, and the member keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_refuses_bad_input_and_keeps_serving() {
    use cairn::transport::{ChannelId, Secret, TcpTransport, Transport, TransportConfig};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = "bad-input-test";
    let node = Node::builder()
        .register::<Account>()
        .shards(4)
        .store(format!("fs://{}", dir.path().display()))
        .cluster(
            ClusterSettings::new(any_port(), Vec::<String>::new())
                .with_cluster_id(cluster)
                .with_secret(Some(Secret::new("right"))),
        )
        .start()
        .await
        .expect("the member starts");
    let bind = node.cluster_addr().expect("a cluster member");
    let account = Address::of::<Account>(1u64);
    node.send(account.clone(), Deposit(5)).expect("deposit");

    for bytes in [b"\x00\x00\x00\x10garbage-garbage!".to_vec(), vec![0xff; 4]] {
        let mut stream = tokio::net::TcpStream::connect(bind).await.expect("connect");
        stream.write_all(&bytes).await.expect("write");
        let mut seen = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut seen)).await;
        assert!(read.is_ok(), "the member kept a bad connection open");
    }

    let config = TransportConfig::new(cluster).with_secret(Some(Secret::new("right")));
    let (peer, _events) = TcpTransport::bind("127.0.0.1:0", config)
        .await
        .expect("a peer");
    let member = cairn::transport::NodeId::new(bind.to_string());
    // The control channel's number (`u32::MAX - 1` both ways).
    let control = ChannelId::new(u32::MAX - 1, u32::MAX - 1);
    peer.send(
        &member,
        control,
        bytes::Bytes::from_static(b"\xc1 not a control message"),
    )
    .expect("queued");
    peer.send(
        &member,
        ChannelId::new(0, 1),
        bytes::Bytes::from_static(b"short"),
    )
    .expect("queued");
    // Tagged with the running generation, so they reach the runtime: a
    // body that does not decode (refused by its shard) and a channel to
    // no shard (refused on arrival).
    let generation = node
        .cluster_view()
        .expect("a member")
        .generation
        .expect("a generation runs");
    for (channel, body) in [
        (ChannelId::new(0, 1), &b"\xc1 not a frame"[..]),
        (ChannelId::new(0, 99), &b"\x90"[..]),
    ] {
        let mut frame = generation.to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        peer.send(&member, channel, bytes::Bytes::from(frame))
            .expect("queued");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let balance: i64 = node.ask(account, Balance).await.expect("still serving");
    assert_eq!(balance, 5);
    let view = node.cluster_view().expect("a member");
    assert_eq!(view.members.len(), 1, "{view:?}");
    peer.shutdown().await;
    node.shutdown().await;
}

/// A member listening on `bind`, joining through `seed` (none: it starts
/// the cluster).
async fn responder_member(bind: SocketAddr, seed: Option<SocketAddr>, store: &str) -> Node {
    Node::builder()
        .register::<Responder>()
        .shards(SHARDS)
        .store(store)
        // Epochs only when shards move, so that the held shard below
        // delays no other epoch.
        .snapshot_interval(None)
        .cluster(
            ClusterSettings::new(bind, seed.map(|seed| seed.to_string()))
                .with_cluster_id("moved-asks-test"),
        )
        .start()
        .await
        .expect("the member joins")
}

const SHARDS: u32 = 8;

/// A joiner's address and a shard the ring moves to it from one of
/// `owners` (the current owners, by shard).
fn joiner_taking_a_shard(owners: &[String], generation: u64) -> (SocketAddr, u32) {
    let shards = ShardCount::new(SHARDS).expect("shards");
    loop {
        let joiner = free_addr();
        let mut members: Vec<NodeId> = owners.iter().map(NodeId::new).collect();
        members.push(NodeId::new(joiner.to_string()));
        let map = ShardRing::new(members)
            .shard_map(Generation(generation), shards)
            .expect("members");
        let moving = (0..SHARDS).find(|&shard| {
            map.owners[shard as usize].as_str() == joiner.to_string()
                && owners[shard as usize] != joiner.to_string()
        });
        if let Some(shard) = moving {
            return (joiner, shard);
        }
    }
}

/// An ask issued on a member for an actor whose shard then moves to a
/// joining member waits in the old owner's queue at the cut (its shard is
/// held until the move is prepared and its epoch started). It is left out
/// of the old owner's snapshot, handed on once the epoch commits, and
/// answered by the new owner: the caller gets the real reply, the actor
/// handled the message exactly once, and nothing rolled back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ask_queued_where_a_shard_leaves_is_answered_by_its_new_owner() {
    let (_dir, store) = traced_store();
    let a = responder_member(any_port(), None, &store).await;
    let seed = a.cluster_addr();
    let b = responder_member(any_port(), seed, &store).await;
    let view = one_generation_of(&a, 2).await;
    let generation = view.generation.expect("a generation");
    let (joiner, shard) = joiner_taking_a_shard(&view.shard_owners, generation);
    let old_owner = if view.shard_owners[shard as usize] == view.node {
        a.clone()
    } else {
        b.clone()
    };
    let shards = ShardCount::new(SHARDS).expect("shards");
    let actor = (0u64..)
        .map(Address::of::<Responder>)
        .find(|address| address.shard(shards) == ShardId(shard))
        .expect("an actor on the shard");

    // Hold the shard, then ask: the ask waits in the shard's inbox, ahead
    // of the move's routes and of its epoch.
    let gate = Gate::new();
    old_owner.send(actor.clone(), gate.hold()).expect("hold");
    gate.held().await;
    let asking = {
        let (node, actor) = (old_owner.clone(), actor.clone());
        tokio::spawn(async move { node.ask::<u64, _>(actor, Bump).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let joining = {
        let store = store.clone();
        tokio::spawn(async move { responder_member(joiner, seed, &store).await })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while old_owner.cluster_view().expect("a member").shard_owners[shard as usize]
        != joiner.to_string()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the move was never prepared"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the epoch's start reach the held shard, behind the ask.
    tokio::time::sleep(Duration::from_millis(500)).await;
    gate.open();

    let reply = asking.await.expect("joins");
    assert_eq!(
        reply,
        Ok(1),
        "the ask gets the new owner's answer (not a refusal), its message applied once"
    );
    let c = joining.await.expect("joins");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !c.cluster_view().expect("a member").shard_owners[shard as usize].eq(&joiner.to_string())
    {
        assert!(tokio::time::Instant::now() < deadline, "never moved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let again: u64 = c.ask(actor.clone(), Bump).await.expect("answers");
    assert_eq!(
        again, 2,
        "the first bump was applied exactly once (not also restored from the snapshot)"
    );
    assert_eq!(
        c.cluster_view().expect("a member").generation,
        Some(generation),
        "nothing rolled back"
    );
    tokio::join!(a.shutdown(), b.shutdown(), c.shutdown());
}
