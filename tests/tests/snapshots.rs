//! Chandy–Lamport snapshots on one node: taken without pausing, with the
//! messages in flight; a restart resumes from the last committed one. Each
//! scenario runs on a local folder and on a real S3 server (moto).

use std::time::Duration;

use cairn::prelude::*;
use cairn_tests::checker::audit;
use cairn_tests::functions::{
    recorder_state, start_node, Account, Balance, CancelTimers, Deposit, Pass, Responder, Schedule,
    Sender, Stall, Transfer,
};
use cairn_tests::on_both_backends;
use cairn_tests::stores::{Backend, TestStore};

const ACCOUNTS: u64 = 24;
const INITIAL: i64 = 1_000;

/// A node on `store`, taking snapshots on demand only, whose accounts all
/// hold the initial balance.
async fn open_bank(store: &TestStore) -> Node {
    let node = start_node(|b| b.shards(8).store(store.url()).snapshot_interval(None)).await;
    for account in 0..ACCOUNTS {
        node.send(Address::of::<Account>(account), Deposit(INITIAL))
            .unwrap();
    }
    node.flush().await.unwrap();
    node
}

async fn total(node: &Node) -> i64 {
    let mut total = 0;
    for account in 0..ACCOUNTS {
        let balance: i64 = node
            .ask(Address::of::<Account>(account), Balance)
            .await
            .unwrap();
        total += balance;
    }
    total
}

/// A deterministic stream of transfers between the accounts.
fn transfers(count: u64, seed: u64) -> impl Iterator<Item = (u64, Transfer)> {
    let mut state = seed;
    (0..count).map(move |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let from = (state >> 33) % ACCOUNTS;
        let to = (state >> 17) % ACCOUNTS;
        let amount = ((state >> 7) % 50) as i64;
        (from, Transfer { to, amount })
    })
}

/// Snapshots taken while money keeps moving between shards each hold
/// exactly the money in the system — balances plus what is in flight in
/// mailboxes and on channels — and every channel's cut is consistent
/// (SNAPSHOTS §5 invariants 1 and 4). Snapshots happen between handler
/// turns, so every pass still travelling is in some queue or channel at the
/// cut: each snapshot taken while they run records exactly all of them.
async fn snapshots_under_load_conserve_money_and_cut_consistently(backend: Backend) {
    const PASSES: u64 = 16;
    const AMOUNT: i64 = 10;
    let store = TestStore::new(backend);
    // Keep every epoch for the audit: up to 100 are taken below.
    let node = start_node(|b| {
        b.shards(8)
            .store(store.url())
            .snapshot_interval(None)
            .keep_snapshots(1_000, Duration::from_secs(3_600))
    })
    .await;
    for account in 0..ACCOUNTS {
        node.send(Address::of::<Account>(account), Deposit(INITIAL))
            .unwrap();
    }
    node.flush().await.unwrap();
    for pass in 0..PASSES {
        let from = pass % ACCOUNTS;
        node.send(Address::of::<Account>(from), Deposit(-AMOUNT))
            .unwrap();
        let pass = Pass {
            amount: AMOUNT,
            hops: 1_000_000,
            accounts: ACCOUNTS,
        };
        node.send(Address::of::<Account>(from), pass).unwrap();
    }
    // Whether a pre-cut message reaches a shard after its cut (and is
    // logged) depends on timing: keep taking epochs, at least 4 and at most
    // 100, until one has logged channel state, so the logs are exercised.
    let mut epochs = Vec::new();
    while epochs.len() < 100 {
        epochs.push(node.snapshot_now().await.unwrap());
        let logged = node
            .snapshot_history()
            .iter()
            .any(|r| r.channel_log_bytes > 0);
        if epochs.len() >= 4 && logged {
            break;
        }
    }
    let logged: u64 = node
        .snapshot_history()
        .iter()
        .map(|r| r.channel_log_bytes)
        .sum();
    node.shutdown().await;

    let audits = audit(&store.url()).await;
    assert_eq!(audits.iter().map(|a| a.epoch).collect::<Vec<_>>(), epochs);
    for audit in &audits {
        assert_eq!(audit.total(), ACCOUNTS as i64 * INITIAL, "{audit:?}");
        assert_eq!(
            audit.in_flight,
            PASSES as i64 * AMOUNT,
            "every pass is in flight: {audit:?}"
        );
    }
    assert!(
        audits.iter().any(|a| a.logged_messages > 0),
        "some snapshot logged messages on its channels: {audits:?}"
    );
    assert!(logged > 0, "the history counts the channel logs' bytes");
}

/// A node restarted on the same store resumes from the last committed
/// snapshot: balances as stored, and the credits that were in flight at the
/// cut delivered exactly once, so no money appears or vanishes.
async fn restart_resumes_from_the_last_commit_with_in_flight_messages(backend: Backend) {
    let store = TestStore::new(backend);
    let node = open_bank(&store).await;
    node.snapshot_now().await.unwrap();
    for (from, transfer) in transfers(5_000, 7) {
        node.send(Address::of::<Account>(from), transfer).unwrap();
    }
    let epoch = node.snapshot_now().await.unwrap();
    // What happens after the last commit is lost in the "crash" below.
    for (from, transfer) in transfers(500, 8) {
        node.send(Address::of::<Account>(from), transfer).unwrap();
    }
    node.shutdown().await;

    let audit = audit(&store.url()).await.pop().unwrap();
    assert_eq!(audit.epoch, epoch);
    let restarted = start_node(|b| b.shards(8).store(store.url()).snapshot_interval(None)).await;
    restarted.flush().await.unwrap();
    let balances = total(&restarted).await;
    assert_eq!(
        balances,
        ACCOUNTS as i64 * INITIAL,
        "in-flight credits were delivered once"
    );
    assert_eq!(audit.total(), balances);
    restarted.shutdown().await;
}

/// An epoch in progress when the node is stopped ends before `shutdown`
/// returns: it commits, one queued behind it never starts, and a node
/// restarted on the store at once resumes from it and commits the next
/// number, which no late write of the old node takes from under it.
async fn an_epoch_in_progress_at_shutdown_ends_before_the_node_stops(backend: Backend) {
    let store = TestStore::new(backend);
    let node = open_bank(&store).await;
    // A shard busy for a while holds the epoch open across the shutdown.
    node.send(Address::of::<Responder>("slow"), Stall(300))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let snapshot = || {
        let node = node.clone();
        tokio::spawn(async move { node.snapshot_now().await })
    };
    let first = snapshot();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let open = node.open_epoch().expect("the epoch is open at shutdown");
    // Queued behind the open epoch: it must not start once the node stops.
    let second = snapshot();
    tokio::time::sleep(Duration::from_millis(20)).await;
    node.shutdown().await;
    let epoch = first
        .await
        .unwrap()
        .expect("the epoch open at shutdown commits");
    assert_eq!(epoch, open);
    assert!(second.await.unwrap().is_err(), "no epoch starts after stop");
    assert_eq!(audit(&store.url()).await.pop().unwrap().epoch, epoch);

    let restarted = start_node(|b| b.shards(8).store(store.url()).snapshot_interval(None)).await;
    assert_eq!(restarted.recovered_from(), Some(epoch));
    assert_eq!(restarted.snapshot_now().await.unwrap(), epoch + 1);
    assert_eq!(total(&restarted).await, ACCOUNTS as i64 * INITIAL);
    restarted.shutdown().await;
}

/// A timer pending at the committed snapshot fires exactly once after a
/// restart (SNAPSHOTS §5 invariant 12).
async fn pending_timers_fire_once_after_a_restart(backend: Backend) {
    let store = TestStore::new(backend);
    let node = start_node(|b| b.shards(4).store(store.url()).snapshot_interval(None)).await;
    node.send(
        Address::of::<Sender>("s"),
        Schedule {
            to: "r".into(),
            timers: vec![(0, 1), (300, 2), (400, 3)],
            cancel: vec![],
        },
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    node.snapshot_now().await.unwrap();
    node.shutdown().await;

    let restarted = start_node(|b| b.shards(4).store(store.url()).snapshot_interval(None)).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(recorder_state(&restarted, "r").await.seen, vec![1, 2, 3]);
    restarted.shutdown().await;
}

/// A store written with one shard count refuses a node with another.
async fn a_store_keeps_its_shard_count(backend: Backend) {
    let store = TestStore::new(backend);
    let node = start_node(|b| b.shards(4).store(store.url()).snapshot_interval(None)).await;
    node.snapshot_now().await.unwrap();
    node.shutdown().await;
    let error = Node::builder()
        .register::<Account>()
        .shards(8)
        .store(store.url())
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            cairn::NodeError::ShardCountMismatch {
                stored: 4,
                configured: 8
            }
        ),
        "{error}"
    );
}

/// Garbage collection deletes old epochs but never what the kept ones
/// reference: a restart after it restores every actor, including those
/// written only in early epochs (SNAPSHOTS §5 invariant 11).
async fn garbage_collection_keeps_what_the_latest_epoch_needs(backend: Backend) {
    let store = TestStore::new(backend);
    let configure = |b: cairn::NodeBuilder| {
        b.shards(4)
            .store(store.url())
            .snapshot_interval(None)
            .keep_snapshots(1, Duration::ZERO)
    };
    let node = start_node(configure).await;
    for account in 0..ACCOUNTS {
        node.send(Address::of::<Account>(account), Deposit(account as i64))
            .unwrap();
        node.flush().await.unwrap();
        // One account per epoch: early accounts live only in old parts.
        node.snapshot_now().await.unwrap();
    }
    node.shutdown().await;

    let opened = cairn_persistence::Store::open(&store.url(), Default::default()).unwrap();
    let committed = opened.committed_epochs().await.unwrap();
    assert!(
        committed.len() < ACCOUNTS as usize,
        "old epochs were collected: {committed:?}"
    );
    let restarted = start_node(configure).await;
    for account in 0..ACCOUNTS {
        let balance: i64 = restarted
            .ask(Address::of::<Account>(account), Balance)
            .await
            .unwrap();
        assert_eq!(balance, account as i64);
    }
    restarted.shutdown().await;
}

/// `ask_durable` answers only after the epoch holding the handler's effect
/// has committed; a plain `ask` answers at once; a node without a store
/// refuses durable asks.
async fn durable_asks_wait_for_the_commit(backend: Backend) {
    let store = TestStore::new(backend);
    let node = open_bank(&store).await;
    let account = Address::of::<Account>(3u64);
    let durable = tokio::spawn({
        let node = node.clone();
        let account = account.clone();
        async move { node.ask_durable::<i64, _>(account, Balance).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!durable.is_finished(), "no commit yet, no answer");
    let quick: i64 = node.ask(account, Balance).await.unwrap();
    assert_eq!(quick, INITIAL);
    node.snapshot_now().await.unwrap();
    assert_eq!(durable.await.unwrap().unwrap(), INITIAL);
    node.shutdown().await;

    let memory_only = start_node(|b| b).await;
    let error = memory_only
        .ask_durable::<i64, _>(Address::of::<Account>(1u64), Balance)
        .await
        .unwrap_err();
    assert_eq!(error, AskError::Send(cairn::Error::NoSnapshots));
    memory_only.shutdown().await;
}

/// The node keeps a history of its epochs (what `/v1/snapshots` shows) and
/// says which epoch it resumed from.
async fn epochs_are_recorded_in_the_history(backend: Backend) {
    let store = TestStore::new(backend);
    let node = open_bank(&store).await;
    assert_eq!(node.recovered_from(), None);
    let first = node.snapshot_now().await.unwrap();
    let second = node.snapshot_now().await.unwrap();
    let history = node.snapshot_history();
    assert_eq!(
        history.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        vec![first, second]
    );
    assert!(history
        .iter()
        .all(|r| r.committed && r.objects == 8 && r.bytes > 0));
    let stats = node.shard_stats().await.unwrap();
    assert!(stats.iter().all(|s| s.epoch == second));
    node.shutdown().await;

    let restarted = open_bank(&store).await;
    assert_eq!(restarted.recovered_from(), Some(second));
    restarted.shutdown().await;
}

/// Timer ids survive a restart: an actor that kept the ids of its timers
/// cancels exactly those after recovery, not another actor's.
async fn timer_ids_survive_a_restart(backend: Backend) {
    let store = TestStore::new(backend);
    let configure = |b: cairn::NodeBuilder| b.shards(1).store(store.url()).snapshot_interval(None);
    let node = start_node(configure).await;
    let schedule = |timers: Vec<(u64, u64)>| Schedule {
        to: "r".into(),
        timers,
        cancel: vec![],
    };
    // Another actor's timer first (id 0, fires last), then two of s's, set
    // in reverse firing order: renumbering by firing order after a restore
    // would hand s's ids to the wrong timers.
    node.send(Address::of::<Sender>("t"), schedule(vec![(900, 9)]))
        .unwrap();
    node.flush().await.unwrap();
    node.send(
        Address::of::<Sender>("s"),
        schedule(vec![(500, 2), (400, 1)]),
    )
    .unwrap();
    node.flush().await.unwrap();
    node.snapshot_now().await.unwrap();
    node.shutdown().await;

    let restarted = start_node(configure).await;
    restarted
        .send(Address::of::<Sender>("s"), CancelTimers)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(recorder_state(&restarted, "r").await.seen, vec![9]);
    restarted.shutdown().await;
}

/// Every 32nd epoch writes full parts, so chains stay short and GC can
/// reclaim old parts; actors that were restored and never touched again
/// (still passivated) are carried into the full parts and survive both the
/// collection of their original parts and another restart.
async fn full_epochs_bound_chains_and_carry_untouched_actors(backend: Backend) {
    let store = TestStore::new(backend);
    let configure = |b: cairn::NodeBuilder| {
        b.shards(4)
            .store(store.url())
            .snapshot_interval(None)
            .keep_snapshots(1, Duration::ZERO)
    };
    let node = start_node(configure).await;
    for account in 0..ACCOUNTS {
        node.send(
            Address::of::<Account>(account),
            Deposit(100 + account as i64),
        )
        .unwrap();
    }
    node.flush().await.unwrap();
    node.snapshot_now().await.unwrap();
    node.shutdown().await;

    // Restored, but only account 0 is ever touched again.
    let node = start_node(configure).await;
    let mut last = 0;
    for _ in 0..cairn::FULL_SNAPSHOT_EVERY + 8 {
        node.send(Address::of::<Account>(0u64), Deposit(1)).unwrap();
        node.flush().await.unwrap();
        last = node.snapshot_now().await.unwrap();
    }
    node.shutdown().await;

    let opened = cairn_persistence::Store::open(&store.url(), Default::default()).unwrap();
    let manifest = opened.read_manifest(last).await.unwrap().unwrap();
    let longest = manifest
        .shards
        .values()
        .map(|entry| entry.chain.len())
        .max()
        .unwrap();
    assert!(
        longest <= 10,
        "chains restart at the full epoch: {longest} parts"
    );
    let restarted = start_node(configure).await;
    for account in 0..ACCOUNTS {
        let balance: i64 = restarted
            .ask(Address::of::<Account>(account), Balance)
            .await
            .unwrap();
        let deposits = if account == 0 {
            cairn::FULL_SNAPSHOT_EVERY as i64 + 8
        } else {
            0
        };
        assert_eq!(
            balance,
            100 + account as i64 + deposits,
            "account {account}"
        );
    }
    restarted.shutdown().await;
}

on_both_backends!(
    snapshots_under_load_conserve_money_and_cut_consistently,
    restart_resumes_from_the_last_commit_with_in_flight_messages,
    an_epoch_in_progress_at_shutdown_ends_before_the_node_stops,
    pending_timers_fire_once_after_a_restart,
    a_store_keeps_its_shard_count,
    garbage_collection_keeps_what_the_latest_epoch_needs,
    durable_asks_wait_for_the_commit,
    epochs_are_recorded_in_the_history,
    timer_ids_survive_a_restart,
    full_epochs_bound_chains_and_carry_untouched_actors,
);
