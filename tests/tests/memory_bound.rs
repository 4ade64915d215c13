//! A bound on active actors: clean actors are passivated, dirty ones are
//! never dropped — the node takes an epoch sooner (SNAPSHOTS §3.10 rule 34).

use std::time::Duration;

use cairn::{Address, Node};
use cairn_tests::functions::{start_node, Account, Balance, Deposit};

const ACCOUNTS: u64 = 400;
const BOUND: usize = 40;

async fn active(node: &Node) -> usize {
    let stats = node.shard_stats().await.unwrap();
    stats.iter().map(|shard| shard.active_actors).sum()
}

async fn check_balances(node: &Node) {
    for id in 0..ACCOUNTS {
        let balance: i64 = node.ask(Address::of::<Account>(id), Balance).await.unwrap();
        assert_eq!(balance, id as i64, "account {id}");
    }
}

async fn deposit_everywhere(node: &Node) {
    for id in 0..ACCOUNTS {
        node.send(Address::of::<Account>(id), Deposit(id as i64))
            .unwrap();
    }
    node.flush().await.unwrap();
}

/// Without snapshots every actor is clean: the bound holds at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_store_the_bound_holds_by_passivation() {
    let node = start_node(|builder| builder.shards(4).max_active_actors(BOUND)).await;
    deposit_everywhere(&node).await;
    assert!(active(&node).await <= BOUND);
    check_balances(&node).await;
    node.shutdown().await;
}

/// With a store and no periodic epochs, actors written since the last
/// commit cannot be passivated: the node commits an epoch on its own, then
/// passivates down to the bound, and no state is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dirty_actors_over_the_bound_bring_an_epoch_sooner() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("fs://{}", dir.path().display());
    let node = start_node(|builder| {
        builder
            .shards(4)
            .max_active_actors(BOUND)
            .store(store.clone())
            .snapshot_interval(None)
    })
    .await;
    deposit_everywhere(&node).await;
    let mut waited = Duration::ZERO;
    while !(node.snapshot_history().iter().any(|epoch| epoch.committed)
        && active(&node).await <= BOUND)
    {
        assert!(
            waited < Duration::from_secs(30),
            "no epoch brought the node under its bound: {} active, history {:?}",
            active(&node).await,
            node.snapshot_history()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += Duration::from_millis(10);
    }
    check_balances(&node).await;
    node.snapshot_now().await.unwrap();
    node.shutdown().await;

    let node = start_node(|builder| builder.shards(4).store(store)).await;
    assert!(node.recovered_from().is_some());
    check_balances(&node).await;
    node.shutdown().await;
}

/// A bound of zero is refused.
#[tokio::test]
async fn a_zero_bound_is_refused() {
    let error = cairn::Node::builder()
        .max_active_actors(0)
        .start()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("at least 1"), "{error}");
}
