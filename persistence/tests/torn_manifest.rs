//! A MANIFEST that a crashed non-atomic writer left half-written is not a commit.

mod common;

use cairn_persistence::{
    manifest_key, CommitOutcome, ManifestStatus, ShardObjectKind, StoreOptions, UncommittedReason,
};
use common::{commit, fs_store, manifest, path_of, put};

/// Garbage and a cut-off manifest written straight at the MANIFEST path on fs are skipped by
/// `latest_committed`, listed by `verify` as uncommitted, and still use up their epoch numbers.
#[tokio::test]
async fn torn_manifests_are_not_commits() {
    let (dir, store) = fs_store(StoreOptions::default());
    for epoch in 1..=2 {
        let state = put(&store, epoch, 0, ShardObjectKind::State, "s").await;
        commit(&store, &manifest(epoch, 1, vec![(0, vec![state])])).await;
    }
    // Epoch 3: garbage where the MANIFEST should be.
    let garbage = path_of(&dir, &manifest_key(3));
    std::fs::create_dir_all(garbage.parent().unwrap()).unwrap();
    std::fs::write(&garbage, b"\x00\x01half a manifest, then the power went").unwrap();
    // Epoch 4: the first half of a real manifest, as a crashed non-atomic write leaves it.
    let state = put(&store, 4, 0, ShardObjectKind::State, "s4").await;
    let real = manifest(4, 1, vec![(0, vec![state.clone()])]);
    let scratch = common::fs_store(StoreOptions::default());
    commit(&scratch.1, &real).await;
    let whole = std::fs::read(path_of(&scratch.0, &manifest_key(4))).unwrap();
    std::fs::write(path_of(&dir, &manifest_key(4)), &whole[..whole.len() / 2]).unwrap();

    assert_eq!(
        store.latest_committed().await.unwrap().map(|m| m.epoch),
        Some(2)
    );
    assert_eq!(store.committed_epochs().await.unwrap(), vec![1, 2]);
    let statuses = store.manifests().await.unwrap();
    assert!(
        matches!(statuses[2], (3, ManifestStatus::Torn { .. })),
        "{statuses:?}"
    );
    assert!(
        matches!(statuses[3], (4, ManifestStatus::Torn { .. })),
        "{statuses:?}"
    );
    assert!(
        store.read_manifest(3).await.is_err(),
        "reading a torn manifest is an error"
    );

    let report = store.verify(None).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.epochs, vec![1, 2]);
    let mut uncommitted: Vec<_> = report
        .uncommitted
        .iter()
        .map(|u| (u.key.as_str(), &u.reason))
        .collect();
    uncommitted.sort_by_key(|(key, _)| *key);
    assert_eq!(uncommitted.len(), 3, "{uncommitted:?}");
    assert_eq!(uncommitted[0].0, manifest_key(3));
    assert!(matches!(
        uncommitted[0].1,
        UncommittedReason::TornManifest(_)
    ));
    // The object of epoch 4 is referenced only by the torn manifest.
    assert_eq!(uncommitted[1].0, state.key.to_string());
    assert_eq!(uncommitted[1].1, &UncommittedReason::Unreferenced);
    assert_eq!(uncommitted[2].0, manifest_key(4));
    assert!(matches!(
        uncommitted[2].1,
        UncommittedReason::TornManifest(_)
    ));

    // The numbers are used up: a commit there loses, recovery moves on to epoch 5.
    assert_eq!(
        store.commit_manifest(&real).await.unwrap(),
        CommitOutcome::LostRace
    );
    assert_eq!(store.next_epoch().await.unwrap(), 5);
}

/// A temporary left by a crash between writing and linking is listed as uncommitted.
#[tokio::test]
async fn leftover_temporaries_are_uncommitted() {
    let (dir, store) = fs_store(StoreOptions::default());
    let state = put(&store, 1, 0, ShardObjectKind::State, "s").await;
    commit(&store, &manifest(1, 1, vec![(0, vec![state])])).await;
    let temp = format!(
        "{}.tmp-6f1c2a48-1d2b-4c3d-8e9f-0a1b2c3d4e5f",
        manifest_key(2)
    );
    std::fs::create_dir_all(path_of(&dir, &temp).parent().unwrap()).unwrap();
    std::fs::write(path_of(&dir, &temp), b"partial").unwrap();
    let report = store.verify(None).await.unwrap();
    assert!(report.is_clean());
    assert_eq!(report.uncommitted.len(), 1);
    assert_eq!(report.uncommitted[0].key, temp);
    assert_eq!(report.uncommitted[0].reason, UncommittedReason::TempFile);
    assert_eq!(
        store.latest_committed().await.unwrap().map(|m| m.epoch),
        Some(1)
    );
}
