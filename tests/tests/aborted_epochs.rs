//! Epochs that do not commit the usual way: one aborted because another
//! writer took its MANIFEST name first, and one whose `snapshot_now` caller
//! gave up waiting. The node keeps going, and nothing is lost or published
//! twice (SNAPSHOTS §3.5 rule 16, §3.9 rule 29, §3.10 rule 32). Each
//! scenario runs on a local folder and on a real S3 server (moto).

use std::future::Future;
use std::path::Path;
use std::task::Poll;
use std::time::Duration;

use cairn::prelude::*;
use cairn::{FileSink, NodeError};
use cairn_persistence::{CommitOutcome, Manifest, ManifestStatus, Store, StoreOptions};
use cairn_tests::functions::{start_node, Account, Balance, Deposit, EmitTo, Emitter, Responder};
use cairn_tests::gate::Gate;
use cairn_tests::on_both_backends;
use cairn_tests::stores::{Backend, TestStore};

const ACCOUNTS: u64 = 12;
const RECORDS: u64 = 20;

/// The values of the records the sink at `path` holds, sorted.
fn released(path: &Path) -> Vec<u64> {
    let mut values: Vec<u64> = std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let line: serde_json::Value = serde_json::from_str(line).unwrap();
            line["record"]["value"].as_u64().unwrap()
        })
        .collect();
    values.sort_unstable();
    values
}

async fn balances(node: &Node) -> Vec<i64> {
    let mut balances = Vec::new();
    for account in 0..ACCOUNTS {
        let balance: i64 = node
            .ask(Address::of::<Account>(account), Balance)
            .await
            .unwrap();
        balances.push(balance);
    }
    balances
}

async fn deposit_everywhere(node: &Node, amount: i64) {
    for account in 0..ACCOUNTS {
        node.send(Address::of::<Account>(account), Deposit(amount))
            .unwrap();
    }
    node.flush().await.unwrap();
}

/// Holds one shard inside a handler at `gate`, so no epoch can finish
/// until the gate opens.
async fn hold_a_shard(node: &Node, gate: &Gate) {
    node.send(Address::of::<Responder>("held"), gate.hold())
        .unwrap();
    gate.held().await;
}

/// Waits until the coordinator has started an epoch and returns it.
async fn open_epoch(node: &Node) -> u64 {
    loop {
        if let Some(epoch) = node.open_epoch() {
            return epoch;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Another writer takes the MANIFEST name of the open epoch first (an
/// ABORTED tombstone, created only-if-absent while a shard is held): the
/// node's commit loses the create-only race and the epoch is aborted. The
/// node keeps going: the next epoch commits with the same parent, captures
/// again every account changed before the aborted one, and carries its
/// egress, which reaches the sink exactly once, only after that commit, and
/// not again after a restart.
async fn an_epoch_lost_to_another_writer_is_aborted_and_nothing_is_lost(backend: Backend) {
    let store = TestStore::new(backend);
    let sink_dir = tempfile::tempdir().unwrap();
    let out = sink_dir.path().join("out.jsonl");
    let open = || {
        let sink = FileSink::open(&out).unwrap();
        start_node(|b| {
            b.shards(4)
                .store(store.url())
                .snapshot_interval(None)
                .egress("out", sink)
        })
    };
    let node = open().await;
    deposit_everywhere(&node, 100).await;
    let first = node.snapshot_now().await.unwrap();

    // Changes only the aborted epoch captures: deposits and egress.
    deposit_everywhere(&node, 10).await;
    for value in 0..RECORDS {
        let emit = EmitTo {
            egress: "out".into(),
            value,
        };
        node.send(Address::of::<Emitter>(value % 5), emit).unwrap();
    }
    node.flush().await.unwrap();

    let gate = Gate::new();
    hold_a_shard(&node, &gate).await;
    let snapshot = tokio::spawn({
        let node = node.clone();
        async move { node.snapshot_now().await }
    });
    let aborted = open_epoch(&node).await;
    assert_eq!(aborted, first + 1);
    let other_writer = Store::open(&store.url(), StoreOptions::default()).unwrap();
    let tombstone = Manifest::tombstone(aborted, 1, 1);
    assert_eq!(
        other_writer.commit_manifest(&tombstone).await.unwrap(),
        CommitOutcome::Committed
    );
    gate.open();
    let error = snapshot.await.unwrap().unwrap_err();
    assert!(
        matches!(error, NodeError::LostCommitRace { epoch } if epoch == aborted),
        "{error}"
    );
    let record = node.snapshot_history().pop().unwrap();
    assert_eq!((record.epoch, record.committed), (aborted, false));
    node.flush().await.unwrap();
    assert!(
        released(&out).is_empty(),
        "nothing sealed in the aborted epoch is released"
    );

    let next = node.snapshot_now().await.unwrap();
    assert_eq!(next, aborted + 1);
    node.flush().await.unwrap();
    let all: Vec<u64> = (0..RECORDS).collect();
    assert_eq!(released(&out), all, "carried into the next epoch, once");
    let manifest = other_writer.read_manifest(next).await.unwrap().unwrap();
    assert_eq!(manifest.parent, Some(first));
    let statuses: Vec<(u64, bool)> = other_writer
        .manifests()
        .await
        .unwrap()
        .into_iter()
        .map(|(epoch, status)| (epoch, matches!(status, ManifestStatus::Committed(_))))
        .collect();
    assert_eq!(
        statuses,
        vec![(first, true), (aborted, false), (next, true)]
    );
    node.shutdown().await;

    // Whatever the aborted epoch captured, the next one captured again.
    let node = open().await;
    assert_eq!(node.recovered_from(), Some(next));
    assert_eq!(balances(&node).await, vec![110; ACCOUNTS as usize]);
    node.flush().await.unwrap();
    assert_eq!(released(&out), all, "not published again after a restart");
    node.shutdown().await;
}

/// A `snapshot_now` future dropped before it resolves does not cancel its
/// epoch: the epoch still commits, the next `snapshot_now` takes the next
/// number, and every epoch is committed, consecutively.
async fn a_dropped_snapshot_future_does_not_cancel_its_epoch(backend: Backend) {
    let store = TestStore::new(backend);
    let configure = |b: cairn::NodeBuilder| b.shards(4).store(store.url()).snapshot_interval(None);
    let node = start_node(configure).await;
    deposit_everywhere(&node, 100).await;
    let first = node.snapshot_now().await.unwrap();
    deposit_everywhere(&node, 10).await;

    let gate = Gate::new();
    hold_a_shard(&node, &gate).await;
    {
        let mut dropped = Box::pin(node.snapshot_now());
        std::future::poll_fn(|cx| {
            assert!(
                dropped.as_mut().poll(cx).is_pending(),
                "a shard is held: the epoch cannot have committed"
            );
            Poll::Ready(())
        })
        .await;
    }
    let abandoned = open_epoch(&node).await;
    assert_eq!(abandoned, first + 1);
    gate.open();
    let next = node.snapshot_now().await.unwrap();
    assert_eq!(next, abandoned + 1);
    let history: Vec<(u64, bool)> = node
        .snapshot_history()
        .iter()
        .map(|record| (record.epoch, record.committed))
        .collect();
    assert_eq!(
        history,
        vec![(first, true), (abandoned, true), (next, true)]
    );
    node.shutdown().await;

    let opened = Store::open(&store.url(), StoreOptions::default()).unwrap();
    assert_eq!(
        opened.committed_epochs().await.unwrap(),
        vec![first, abandoned, next]
    );
    let node = start_node(configure).await;
    assert_eq!(node.recovered_from(), Some(next));
    assert_eq!(balances(&node).await, vec![110; ACCOUNTS as usize]);
    node.shutdown().await;
}

on_both_backends!(
    an_epoch_lost_to_another_writer_is_aborted_and_nothing_is_lost,
    a_dropped_snapshot_future_does_not_cancel_its_epoch,
);
