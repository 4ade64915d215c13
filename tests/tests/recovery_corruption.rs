//! Recovery never loads damaged state: an object of the latest committed
//! epoch that is altered, truncated, deleted or swapped stops the node's
//! start with an error naming it; `allow_fallback` starts it from the newest
//! earlier intact epoch instead, and new epochs are numbered above the
//! damaged one. The damage is done to the files of a real fs store.

use std::path::PathBuf;
use std::time::Duration;

use cairn::prelude::*;
use cairn::NodeError;
use cairn_persistence::{ObjectRef, Store, StoreOptions};
use cairn_tests::functions::{start_node, Account, Balance, Deposit};
use cairn_tests::stores::{Backend, TestStore};

const ACCOUNTS: u64 = 16;
const SHARDS: u32 = 4;

/// What the first committed epoch holds for `account`.
fn first_balance(account: u64) -> i64 {
    100 + account as i64
}

/// Two committed epochs: the first with every account at its
/// [`first_balance`], the second with 1 000 more in each. Returns both
/// epochs.
async fn two_epochs(store: &TestStore) -> (u64, u64) {
    let node = start_node(|b| b.shards(SHARDS).store(store.url()).snapshot_interval(None)).await;
    for account in 0..ACCOUNTS {
        let deposit = Deposit(first_balance(account));
        node.send(Address::of::<Account>(account), deposit).unwrap();
    }
    node.flush().await.unwrap();
    let first = node.snapshot_now().await.unwrap();
    for account in 0..ACCOUNTS {
        node.send(Address::of::<Account>(account), Deposit(1_000))
            .unwrap();
    }
    node.flush().await.unwrap();
    let second = node.snapshot_now().await.unwrap();
    node.shutdown().await;
    (first, second)
}

/// The parts `epoch` wrote itself (the last of each shard's chain).
async fn parts_of(store: &TestStore, epoch: u64) -> Vec<ObjectRef> {
    let opened = Store::open(&store.url(), StoreOptions::default()).unwrap();
    let manifest = opened.read_manifest(epoch).await.unwrap().unwrap();
    let parts: Vec<ObjectRef> = manifest
        .shards
        .values()
        .map(|entry| entry.chain.last().unwrap().clone())
        .collect();
    assert!(parts.iter().all(|part| part.key.epoch == epoch));
    parts
}

fn path_of(store: &TestStore, object: &ObjectRef) -> PathBuf {
    store.fs_root().unwrap().join(object.key.to_string())
}

/// What is done to one object.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// One byte in the middle flipped.
    FlipByte,
    /// Cut to half its length.
    Truncate,
    /// Deleted.
    Delete,
    /// Replaced by another intact object of the same epoch (its own
    /// checksum passes; the manifest's does not).
    Swap,
}

/// Damages the first shard's part of `epoch`; returns the object's key.
async fn damage(store: &TestStore, epoch: u64, damage: Damage) -> String {
    let parts = parts_of(store, epoch).await;
    let path = path_of(store, &parts[0]);
    match damage {
        Damage::FlipByte => {
            let mut bytes = std::fs::read(&path).unwrap();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x40;
            std::fs::write(&path, bytes).unwrap();
        }
        Damage::Truncate => {
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            let len = file.metadata().unwrap().len();
            file.set_len(len / 2).unwrap();
        }
        Damage::Delete => std::fs::remove_file(&path).unwrap(),
        Damage::Swap => {
            let other = std::fs::read(path_of(store, &parts[1])).unwrap();
            std::fs::write(&path, other).unwrap();
        }
    }
    parts[0].key.to_string()
}

async fn start(store: &TestStore, allow_fallback: bool) -> Result<Node, NodeError> {
    Node::builder()
        .register::<Account>()
        .shards(SHARDS)
        .store(store.url())
        .snapshot_interval(None)
        .allow_fallback(allow_fallback)
        .start()
        .await
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

fn first_balances() -> Vec<i64> {
    (0..ACCOUNTS).map(first_balance).collect()
}

/// The scenario for one kind of damage: the plain start fails naming the
/// object and the fallback option; the start with fallback restores the
/// first epoch exactly, numbers the next epoch above the damaged one, and a
/// later plain start resumes from that new epoch.
async fn damaged_latest_epoch(kind: Damage, expected_reason: &str) {
    let store = TestStore::new(Backend::Fs);
    let (first, second) = two_epochs(&store).await;
    let object = damage(&store, second, kind).await;

    let error = start(&store, false).await.unwrap_err();
    let message = error.to_string();
    match &error {
        NodeError::CorruptSnapshot {
            epoch,
            object: named,
            reason,
        } => {
            assert_eq!(*epoch, second, "{message}");
            assert_eq!(named, &object, "{message}");
            assert!(reason.contains(expected_reason), "{kind:?}: {message}");
        }
        other => panic!("{kind:?}: expected CorruptSnapshot, got {other:?}"),
    }
    assert!(message.contains(&object), "{message}");
    assert!(message.contains("allow_fallback(true)"), "{message}");

    let node = start(&store, true).await.unwrap();
    assert_eq!(node.recovered_from(), Some(first));
    assert_eq!(balances(&node).await, first_balances(), "{kind:?}");
    let next = node.snapshot_now().await.unwrap();
    assert_eq!(next, second + 1, "the damaged epoch's number is not reused");
    node.shutdown().await;

    let node = start(&store, false).await.unwrap();
    assert_eq!(node.recovered_from(), Some(next));
    assert_eq!(balances(&node).await, first_balances(), "{kind:?}");
    node.shutdown().await;
}

/// A flipped byte in an object of the latest epoch fails its checksum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_stops_recovery_unless_fallback_is_allowed() {
    damaged_latest_epoch(Damage::FlipByte, "is corrupt").await;
}

/// A truncated object of the latest epoch is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_object_stops_recovery_unless_fallback_is_allowed() {
    damaged_latest_epoch(Damage::Truncate, "is corrupt").await;
}

/// A deleted object of the latest epoch is named as missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_object_stops_recovery_unless_fallback_is_allowed() {
    damaged_latest_epoch(Damage::Delete, "is missing").await;
}

/// An intact object in the place of another (its own checksum passes) is
/// refused because it is not the one the manifest committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_object_stops_recovery_unless_fallback_is_allowed() {
    damaged_latest_epoch(Damage::Swap, "is not the object the manifest records").await;
}

/// With every committed epoch damaged, even a start with fallback fails,
/// naming the epochs it tried, rather than start empty over them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_never_starts_empty_over_damaged_epochs() {
    let store = TestStore::new(Backend::Fs);
    let (first, second) = two_epochs(&store).await;
    // The first epoch's part is in the second epoch's chain too.
    damage(&store, first, Damage::Delete).await;

    let error = start(&store, true).await.unwrap_err();
    match error {
        NodeError::NoIntactSnapshot { tried } => assert_eq!(tried, vec![second, first]),
        other => panic!("expected NoIntactSnapshot, got {other:?}"),
    }
}

/// After a fallback, garbage collection treats the skipped epoch as any old
/// epoch: once newer commits push it out it is deleted, the objects the new
/// epochs share with the restored one are kept, and the store verifies
/// clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_collection_after_a_fallback_keeps_what_the_new_epochs_need() {
    let store = TestStore::new(Backend::Fs);
    let (first, second) = two_epochs(&store).await;
    damage(&store, second, Damage::FlipByte).await;

    let configure = |b: cairn::NodeBuilder| {
        b.shards(SHARDS)
            .store(store.url())
            .snapshot_interval(None)
            .keep_snapshots(1, Duration::ZERO)
    };
    let node = start_node(|b| configure(b).allow_fallback(true)).await;
    assert_eq!(node.recovered_from(), Some(first));
    // Garbage collection runs every 10th commit; account 0 changes in each.
    let mut last = second;
    for _ in 0..10 {
        node.send(Address::of::<Account>(0u64), Deposit(1)).unwrap();
        node.flush().await.unwrap();
        let epoch = node.snapshot_now().await.unwrap();
        assert_eq!(epoch, last + 1, "epochs stay consecutive");
        last = epoch;
    }
    node.shutdown().await;

    let opened = Store::open(&store.url(), StoreOptions::default()).unwrap();
    let committed = opened.committed_epochs().await.unwrap();
    assert!(
        !committed.contains(&second),
        "the damaged epoch was collected: {committed:?}"
    );
    let report = opened.verify(None).await.unwrap();
    assert!(report.is_clean(), "{report:?}");

    let node = start_node(configure).await;
    assert_eq!(node.recovered_from(), Some(last));
    let mut expected = first_balances();
    expected[0] += 10;
    assert_eq!(balances(&node).await, expected);
    node.shutdown().await;
}
