//! The next epoch number comes from which MANIFESTs exist, without reading them (SNAPSHOTS rule
//! 23), so asking for it costs the same whatever the store's history.

mod common;

use cairn_persistence::{manifest_key, Error, ShardObjectKind, StoreOptions, FORMAT_VERSION};
use common::{commit, fs_store, manifest, path_of, put};

/// A MANIFEST of a format version this build cannot read makes `manifests()` refuse to guess,
/// yet `next_epoch` still numbers above it and above the folder of the open epoch below the top,
/// because it only checks which folders hold a MANIFEST.
#[tokio::test]
async fn next_epoch_reads_no_manifest() {
    let (dir, store) = fs_store(StoreOptions::default());
    for epoch in 1..=2 {
        let state = put(&store, epoch, 0, ShardObjectKind::State, "s").await;
        commit(&store, &manifest(epoch, 1, vec![(0, vec![state])])).await;
    }
    // Epoch 3: a real manifest, re-stamped with a future format version and a valid checksum.
    let state = put(&store, 3, 0, ShardObjectKind::State, "s3").await;
    commit(&store, &manifest(3, 1, vec![(0, vec![state])])).await;
    let path = path_of(&dir, &manifest_key(3));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[6..8].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let body = bytes.len() - 4;
    let crc = crc32c::crc32c(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    // Epoch 4: the open epoch, an object and no MANIFEST yet.
    put(&store, 4, 0, ShardObjectKind::State, "s4").await;

    assert!(
        matches!(
            store.manifests().await,
            Err(Error::UnsupportedVersion { .. })
        ),
        "the history refuses a manifest it cannot read"
    );
    assert_eq!(store.next_epoch().await.unwrap(), 4);
}

/// An empty store starts at epoch 1, and a store whose only folder has no MANIFEST too.
#[tokio::test]
async fn next_epoch_of_a_store_without_manifests_is_1() {
    let (_dir, store) = fs_store(StoreOptions::default());
    assert_eq!(store.next_epoch().await.unwrap(), 1);
    put(&store, 1, 0, ShardObjectKind::State, "s").await;
    assert_eq!(store.next_epoch().await.unwrap(), 1);
}
