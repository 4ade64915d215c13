//! ABORTED tombstones and generation fencing decide which manifests are commits (rule 29).

mod common;

use cairn_persistence::{
    CommitOutcome, Manifest, ManifestStatus, ShardObjectKind, Store, StoreOptions,
    UncommittedReason,
};
use common::{commit, manifest, put};

/// An ABORTED tombstone is skipped by `latest_committed`, uses up its epoch number and blocks a
/// late commit of that epoch.
#[tokio::test]
async fn tombstones_are_skipped() {
    let store = Store::open("memory://", StoreOptions::default()).unwrap();
    for epoch in 1..=2 {
        let state = put(&store, epoch, 0, ShardObjectKind::State, "s").await;
        commit(&store, &manifest(epoch, 1, vec![(0, vec![state])])).await;
    }
    let late = manifest(
        3,
        1,
        vec![(
            0,
            vec![put(&store, 3, 0, ShardObjectKind::State, "late").await],
        )],
    );
    commit(&store, &Manifest::tombstone(3, 2, 2)).await;

    let latest = store.latest_committed().await.unwrap().unwrap();
    assert_eq!(latest.epoch, 2);
    assert_eq!(store.committed_epochs().await.unwrap(), vec![1, 2]);
    assert_eq!(store.next_epoch().await.unwrap(), 4);
    assert_eq!(
        store.commit_manifest(&late).await.unwrap(),
        CommitOutcome::LostRace
    );
    let tombstone = store.read_manifest(3).await.unwrap().unwrap();
    assert!(tombstone.aborted);
    assert!(store.verify(Some(3)).await.unwrap().problems[0]
        .key
        .ends_with("/MANIFEST"));
}

/// A tombstone can only be a tombstone: one that lists objects is refused before it is written.
#[tokio::test]
async fn tombstones_reference_nothing() {
    let store = Store::open("memory://", StoreOptions::default()).unwrap();
    let mut bad = Manifest::tombstone(1, 1, 1);
    bad.shard_count = 1;
    bad.shards.insert(0, Default::default());
    assert!(store.commit_manifest(&bad).await.is_err());
    assert_eq!(store.read_manifest(1).await.unwrap(), None);
}

/// A zombie coordinator's manifest, written above a tombstone of a higher generation, is fenced:
/// not a commit, and listed by `verify` as uncommitted; the new coordinator's next epoch commits.
#[tokio::test]
async fn lower_generation_above_a_tombstone_is_fenced() {
    let store = Store::open("memory://", StoreOptions::default()).unwrap();
    let s1 = put(&store, 1, 0, ShardObjectKind::State, "s1").await;
    commit(&store, &manifest(1, 1, vec![(0, vec![s1])])).await;
    // Generation 2 takes over and aborts epoch 2; the zombie of generation 1 commits epoch 3.
    assert_eq!(
        store.claim_generation(2).await.unwrap(),
        CommitOutcome::Committed
    );
    commit(&store, &Manifest::tombstone(2, 2, 2)).await;
    let zombie_state = put(&store, 3, 0, ShardObjectKind::State, "zombie").await;
    commit(&store, &manifest(3, 1, vec![(0, vec![zombie_state])])).await;

    assert_eq!(store.latest_committed().await.unwrap().unwrap().epoch, 1);
    let statuses = store.manifests().await.unwrap();
    assert!(
        matches!(
            &statuses[2],
            (
                3,
                ManifestStatus::Fenced {
                    by_generation: 2,
                    ..
                }
            )
        ),
        "{statuses:?}"
    );
    let report = store.verify(None).await.unwrap();
    assert!(report.is_clean());
    assert!(report.uncommitted.iter().any(|u| matches!(
        u.reason,
        UncommittedReason::FencedManifest {
            generation: 1,
            by_generation: 2
        }
    )));

    let s4 = put(&store, 4, 0, ShardObjectKind::State, "s4").await;
    commit(&store, &manifest(4, 2, vec![(0, vec![s4])])).await;
    assert_eq!(store.latest_committed().await.unwrap().unwrap().epoch, 4);
    assert_eq!(store.committed_epochs().await.unwrap(), vec![1, 4]);
}
