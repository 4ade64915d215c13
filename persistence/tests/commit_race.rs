//! Racing writers of one MANIFEST: exactly one commits, and what is stored is its manifest.

mod common;

use std::sync::Arc;

use cairn_persistence::{CommitOutcome, Manifest, ShardObjectKind, Store, StoreOptions};
use common::{fs_store, manifest, put};
use tokio::sync::Barrier;

const WRITERS: u64 = 16;

/// 16 writers, each with its own manifest for epoch 1, released together.
async fn race(store: &Store) {
    let shared = put(store, 1, 0, ShardObjectKind::State, "state").await;
    let barrier = Arc::new(Barrier::new(WRITERS as usize));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        let barrier = barrier.clone();
        let mut manifest = manifest(1, writer + 1, vec![(0, vec![shared.clone()])]);
        manifest
            .metadata
            .insert("writer".into(), writer.to_le_bytes().to_vec());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let outcome = store
                .commit_manifest(&manifest)
                .await
                .expect("commit must not fail");
            (outcome, manifest)
        }));
    }
    let mut winners: Vec<Manifest> = Vec::new();
    let mut losers = 0;
    for task in tasks {
        match task.await.unwrap() {
            (CommitOutcome::Committed, manifest) => winners.push(manifest),
            (CommitOutcome::LostRace, _) => losers += 1,
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer commits");
    assert_eq!(losers, WRITERS - 1);
    let stored = store
        .read_manifest(1)
        .await
        .unwrap()
        .expect("a manifest is stored");
    assert_eq!(
        stored, winners[0],
        "the stored manifest is the winner's, complete"
    );
    assert_eq!(
        store.latest_committed().await.unwrap(),
        Some(winners[0].clone())
    );
    let report = store.verify(None).await.unwrap();
    assert!(
        report.is_clean() && report.uncommitted.is_empty(),
        "{report:?}"
    );
}

/// On fs (temporary + fsync + hard link), 16 racing writers produce exactly one commit and leave
/// no temporary behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fs_race_has_one_winner() {
    let (dir, store) = fs_store(StoreOptions::default());
    race(&store).await;
    let names: Vec<_> = std::fs::read_dir(dir.path().join("epochs/00000000000000000001"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "one object and the MANIFEST, no temporaries: {names:?}"
    );
}

/// On memory (atomic if_not_exists), 16 racing writers produce exactly one commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_race_has_one_winner() {
    let store = Store::open("memory://", StoreOptions::default()).unwrap();
    race(&store).await;
}

/// Racing claims of one generation: exactly one wins; the highest claim is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn generation_claims_are_create_only() {
    let (_dir, store) = fs_store(StoreOptions::default());
    assert_eq!(store.highest_generation().await.unwrap(), None);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.claim_generation(7).await.unwrap()
        }));
    }
    let mut committed = 0;
    for task in tasks {
        if task.await.unwrap() == CommitOutcome::Committed {
            committed += 1;
        }
    }
    assert_eq!(committed, 1);
    assert_eq!(
        store.claim_generation(3).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(store.highest_generation().await.unwrap(), Some(7));
}
