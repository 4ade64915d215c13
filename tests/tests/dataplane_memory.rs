//! The cluster data plane over an unreliable in-memory network: money
//! moves between accounts on two nodes and every balance ends exact.

use std::time::Duration;

use cairn::transport::{Faults, TransportConfig, DEFAULT_MAX_FRAME};
use cairn_tests::cluster::{Bank, TwoNodes};

fn config() -> TransportConfig {
    TransportConfig::new("dataplane-memory").with_secret(None)
}

/// Two nodes, four shards each, on a network that drops, duplicates and
/// reorders frames (seeded): deposits and transfers sent to both nodes
/// (half forwarded to the other) leave every balance as computed and the
/// total conserved. The second run's small frame limit splits batches into
/// many frames.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_across_an_unreliable_network_end_exact() {
    for (seed, max_frame) in [(7, DEFAULT_MAX_FRAME), (1234, 2048)] {
        let config = config().with_max_frame(max_frame);
        let nodes = TwoNodes::over_memory(
            seed,
            Faults {
                drop: 0.1,
                duplicate: 0.1,
                max_delay: Duration::from_millis(3),
            },
            &config,
            false,
        );
        let bank = Bank::new(40, 1_000, 3_000, seed);
        bank.deposit(&nodes);
        bank.transfer(&nodes, 0..bank.transfers.len());
        nodes.quiesce(bank.messages()).await;
        let balances = nodes.balances(bank.accounts).await;
        assert_eq!(balances, bank.expected_balances(), "seed {seed}");
        assert_eq!(balances.iter().sum::<i64>(), bank.total());
        nodes.shutdown().await;
    }
}

/// An ask to an actor whose shard runs on the other node is refused at
/// once with `RemoteShard`, and a flush on a node with some shards is
/// refused rather than waiting forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asks_do_not_cross_nodes() {
    let nodes = TwoNodes::over_memory(1, Faults::none(), &config(), false);
    let remote = (0..)
        .map(cairn::Address::of::<cairn_tests::functions::Account>)
        .find(|address| !nodes.runtimes[0].owns(address.shard(cairn::ShardCount::new(8).unwrap())))
        .expect("some account runs on the second node");
    let error = nodes.runtimes[0]
        .ask::<i64, _>(remote, cairn_tests::functions::Balance)
        .await
        .expect_err("the ask cannot cross");
    assert!(
        matches!(
            error,
            cairn::AskError::Send(cairn::Error::RemoteShard { .. })
        ),
        "{error}"
    );
    assert!(matches!(
        nodes.runtimes[0].flush().await,
        Err(cairn::Error::Config(_))
    ));
    nodes.shutdown().await;
}
