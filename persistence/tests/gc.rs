//! GC keeps the newest epochs, what they reference and anything young; it deletes the rest.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cairn_persistence::{
    manifest_key, GcPolicy, Manifest, ManualClock, ObjectRef, ShardObjectKind, Store, StoreOptions,
};
use common::{commit, fs_store, manifest, path_of, put};

const POLICY: GcPolicy = GcPolicy {
    keep: 2,
    min_age: Duration::from_secs(60),
};

/// Epochs 1, 2, 3 and 5 committed, 4 aborted, 6 open. Shard 0 is incremental (base in epoch 1,
/// deltas after), shard 1 writes a full state and a channel log every epoch. Returns what must
/// survive GC with keep = 2 and what must go.
struct History {
    survivors: Vec<String>,
    garbage: Vec<String>,
}

async fn build(store: &Store) -> History {
    let mut survivors = Vec::new();
    let mut garbage = Vec::new();
    let mut chain: Vec<ObjectRef> = Vec::new();
    for epoch in 1..=6u64 {
        let delta = put(
            store,
            epoch,
            0,
            ShardObjectKind::State,
            &format!("delta {epoch}"),
        )
        .await;
        let full = put(
            store,
            epoch,
            1,
            ShardObjectKind::State,
            &format!("full {epoch}"),
        )
        .await;
        let log = put(
            store,
            epoch,
            1,
            ShardObjectKind::ChanLog,
            &format!("log {epoch}"),
        )
        .await;
        match epoch {
            4 => {
                // Aborted: its delta folds into epoch 5, its objects are debris.
                commit(store, &Manifest::tombstone(4, 1, 1)).await;
                garbage.extend([&delta, &full, &log].map(|o| o.key.to_string()));
            }
            6 => survivors.extend([&delta, &full, &log].map(|o| o.key.to_string())),
            _ => {
                chain.push(delta.clone());
                let m = manifest(
                    epoch,
                    1,
                    vec![(0, chain.clone()), (1, vec![full.clone(), log.clone()])],
                );
                commit(store, &m).await;
                let kept = epoch >= 3;
                // Shard 0's chain objects are all referenced by epoch 5's manifest.
                survivors.push(delta.key.to_string());
                let own = if kept { &mut survivors } else { &mut garbage };
                own.extend([&full, &log].map(|o| o.key.to_string()));
                let manifests = if kept { &mut survivors } else { &mut garbage };
                manifests.push(manifest_key(epoch));
            }
        }
    }
    survivors.push(manifest_key(4)); // above the oldest kept commit: kept for the rule 29 fence
    let debris = put(store, 2, 1, ShardObjectKind::State, "crashed upload").await;
    garbage.push(debris.key.to_string());
    survivors.sort();
    garbage.sort();
    History { survivors, garbage }
}

async fn stored_keys(store: &Store) -> Vec<String> {
    let report = store.verify(None).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
    let referenced = report.uncommitted.iter().map(|u| u.key.clone());
    let mut keys: HashSet<String> = referenced.collect();
    for epoch in store.committed_epochs().await.unwrap() {
        keys.insert(manifest_key(epoch));
        let m = store.read_manifest(epoch).await.unwrap().unwrap();
        keys.extend(m.objects().map(|o| o.key.to_string()));
    }
    for (epoch, _) in store.manifests().await.unwrap() {
        keys.insert(manifest_key(epoch));
    }
    let mut keys: Vec<String> = keys.into_iter().collect();
    keys.sort();
    keys
}

/// On fs: with everything young nothing goes; two hours later GC keeps the last two commits, the
/// older delta-chain objects they reference, the open epoch and the tombstone above the oldest
/// kept commit, and deletes old manifests, unreferenced objects and stale temporaries.
#[tokio::test]
async fn keeps_last_k_and_their_chains() {
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let (dir, store) = fs_store(StoreOptions {
        clock: clock.clone(),
        ..StoreOptions::default()
    });
    let mut history = build(&store).await;
    let temp = format!(
        "{}.tmp-6f1c2a48-1d2b-4c3d-8e9f-0a1b2c3d4e5f",
        manifest_key(3)
    );
    std::fs::write(path_of(&dir, &temp), b"stale").unwrap();
    history.garbage.push(temp);
    history.garbage.sort();

    let young = store.gc(POLICY).await.unwrap();
    assert_eq!(young.kept_epochs, vec![3, 5]);
    assert!(
        young.deleted.is_empty(),
        "young objects were deleted: {:?}",
        young.deleted
    );

    clock.advance(Duration::from_secs(2 * 3600));
    let report = store.gc(POLICY).await.unwrap();
    assert_eq!(report.kept_epochs, vec![3, 5]);
    assert!(
        report.deleted[..2] == [manifest_key(1), manifest_key(2)],
        "manifests go first"
    );
    let mut deleted = report.deleted.clone();
    deleted.sort();
    assert_eq!(deleted, history.garbage);

    assert_eq!(stored_keys(&store).await, history.survivors);
    assert_eq!(store.committed_epochs().await.unwrap(), vec![3, 5]);
    let latest = store.latest_committed().await.unwrap().unwrap();
    for object in latest.objects() {
        store.read_object(&object.key).await.unwrap();
    }
    assert!(
        store.gc(POLICY).await.unwrap().deleted.is_empty(),
        "a second pass finds nothing"
    );

    // Shard 0 writes a new base in epoch 7: the old chain, the never-committed epoch 6 and
    // everything below epoch 7 go, and their folders with them.
    for epoch in 7..=8 {
        let base = put(&store, epoch, 0, ShardObjectKind::State, "base").await;
        commit(&store, &manifest(epoch, 1, vec![(0, vec![base])])).await;
    }
    clock.advance(Duration::from_secs(2 * 3600));
    let report = store.gc(POLICY).await.unwrap();
    assert_eq!(report.kept_epochs, vec![7, 8]);
    assert_eq!(
        stored_keys(&store).await.len(),
        4,
        "two manifests, two bases"
    );
    for epoch in 1..=6 {
        let folder = path_of(&dir, &format!("epochs/{epoch:020}"));
        assert!(!folder.exists(), "emptied folder {} kept", folder.display());
    }
}

/// On memory, which records no modification times, an object's age counts from the first GC
/// pass that saw it.
#[tokio::test]
async fn memory_ages_from_first_sighting() {
    let clock = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
    ));
    let store = Store::open(
        "memory://",
        StoreOptions {
            clock: clock.clone(),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let history = build(&store).await;
    assert!(store.gc(POLICY).await.unwrap().deleted.is_empty());
    clock.advance(Duration::from_secs(59));
    assert!(store.gc(POLICY).await.unwrap().deleted.is_empty());
    clock.advance(Duration::from_secs(1));
    let mut deleted = store.gc(POLICY).await.unwrap().deleted;
    deleted.sort();
    assert_eq!(deleted, history.garbage);
    assert_eq!(stored_keys(&store).await, history.survivors);
}

/// `keep = 0` is refused: GC never deletes the latest commit.
#[tokio::test]
async fn keep_zero_is_refused() {
    let store = Store::open("memory://", StoreOptions::default()).unwrap();
    let policy = GcPolicy {
        keep: 0,
        ..GcPolicy::default()
    };
    assert!(store.gc(policy).await.is_err());
}
