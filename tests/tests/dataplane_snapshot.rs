//! Chandy–Lamport snapshots across two nodes: markers and colours cross
//! the transport, and each epoch's parts from both nodes form a
//! consistent cut.

use std::time::Duration;

use cairn::transport::{Faults, Transport, TransportConfig};
use cairn::ShardSnapshot;
use cairn_tests::checker::{audit_chains, EpochAudit};
use cairn_tests::cluster::{tcp_pair, Bank, TwoNodes, SHARDS};

/// Transfers flow between two nodes over an unreliable network while
/// three epochs are taken, each started on one node before the other (so
/// the second node's shards may record on markers from the first). Every
/// epoch's parts from both nodes pass the checker: each channel's cut
/// matches what its sender had sent and its log holds exactly the
/// messages in between, and balances plus money in mailboxes and channel
/// logs equal the money deposited. A fourth epoch taken once the traffic
/// has stopped finishes on explicit markers alone. Every balance ends
/// exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_across_nodes_are_consistent_cuts() {
    let config = TransportConfig::new("dataplane-snapshot").with_secret(None);
    let nodes = TwoNodes::over_memory(
        42,
        Faults {
            drop: 0.05,
            duplicate: 0.05,
            max_delay: Duration::from_millis(2),
        },
        &config,
        true,
    );
    take_epochs_during_transfers(nodes, || {}).await;
}

/// The same over TCP on 127.0.0.1, with the connection closed in the
/// middle of every epoch: frames and markers in flight are resent on the
/// new connection and every cut is still consistent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_across_nodes_survive_a_reconnect_mid_epoch() {
    let (first, second, config) = tcp_pair("dataplane-snapshot-tcp").await;
    let (a, b) = (first.0.clone(), second.0.clone());
    let nodes = TwoNodes::start(first, second, &config, true);
    take_epochs_during_transfers(nodes, || a.disconnect(b.local_node())).await;
    a.shutdown().await;
    b.shutdown().await;
}

/// The scenario of both tests; `mid_epoch` runs between the two nodes'
/// `start_epoch`s.
async fn take_epochs_during_transfers(mut nodes: TwoNodes, mid_epoch: impl Fn()) {
    let bank = Bank::new(40, 1_000, 6_000, 3);
    // Deposits bring money in from outside: let them land before any cut,
    // so each snapshot must hold exactly the deposited total.
    bank.deposit(&nodes);
    nodes.quiesce(bank.accounts).await;
    let mut chains: Vec<Vec<ShardSnapshot>> = (0..SHARDS).map(|_| Vec::new()).collect();
    let slice = bank.transfers.len() / 3;
    for epoch in 1..=3u64 {
        let start = (epoch as usize - 1) * slice;
        bank.transfer(&nodes, start..start + slice / 2);
        nodes.runtimes[(epoch % 2) as usize]
            .start_epoch(epoch)
            .expect("start");
        mid_epoch();
        bank.transfer(&nodes, start + slice / 2..start + slice);
        nodes.runtimes[((epoch + 1) % 2) as usize]
            .start_epoch(epoch)
            .expect("start");
        let audit = audit_epoch(&mut nodes, &mut chains, epoch).await;
        assert_eq!(audit.total(), bank.total(), "epoch {epoch}: {audit:?}");
        assert_eq!(audit.queued_deposits, 0);
        for runtime in &nodes.runtimes {
            runtime.epoch_committed(epoch).expect("commit");
        }
    }
    nodes.quiesce(bank.messages()).await;
    // With no traffic left, only explicit markers close the channels: an
    // epoch still finishes, and its cut holds the final balances.
    nodes.runtimes[0].start_epoch(4).expect("start");
    mid_epoch();
    nodes.runtimes[1].start_epoch(4).expect("start");
    let audit = audit_epoch(&mut nodes, &mut chains, 4).await;
    assert_eq!((audit.in_flight, audit.logged_messages), (0, 0));
    assert_eq!(audit.balances, bank.total());
    let balances = nodes.balances(bank.accounts).await;
    assert_eq!(balances, bank.expected_balances());
    nodes.shutdown().await;
}

/// Collects `epoch`'s parts from both nodes, adds each to its shard's
/// chain, and audits the folded chains as the offline checker does.
async fn audit_epoch(
    nodes: &mut TwoNodes,
    chains: &mut [Vec<ShardSnapshot>],
    epoch: u64,
) -> EpochAudit {
    let parts = nodes.collect_parts(epoch).await;
    audit_chains(epoch, chains, parts)
}
