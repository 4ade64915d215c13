//! The cluster data plane over TCP on 127.0.0.1, with the connection
//! forced down in the middle of the run.

use cairn::transport::Transport;
use cairn_tests::cluster::{tcp_pair, Bank, TwoNodes};

/// Two nodes over real sockets: half the transfers are sent, the
/// connection between the nodes is closed, the other half are sent; the
/// transport reconnects and resends, and every balance ends exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_survive_a_forced_disconnect() {
    let (first, second, config) = tcp_pair("dataplane-tcp").await;
    let (a, b) = (first.0.clone(), second.0.clone());
    let nodes = TwoNodes::start(first, second, &config, false);
    let bank = Bank::new(40, 1_000, 4_000, 99);
    bank.deposit(&nodes);
    let half = bank.transfers.len() / 2;
    bank.transfer(&nodes, 0..half);
    a.disconnect(b.local_node());
    bank.transfer(&nodes, half..bank.transfers.len());
    b.disconnect(a.local_node());
    nodes.quiesce(bank.messages()).await;
    let balances = nodes.balances(bank.accounts).await;
    assert_eq!(balances, bank.expected_balances());
    assert_eq!(balances.iter().sum::<i64>(), bank.total());
    nodes.shutdown().await;
    a.shutdown().await;
    b.shutdown().await;
}
