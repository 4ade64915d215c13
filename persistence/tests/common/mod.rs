//! Helpers shared by the integration tests: stores, objects and manifests in a few lines.
// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;

use cairn_persistence::{
    encode_object, CommitOutcome, Manifest, ObjectRef, ShardEntry, ShardObjectKey, ShardObjectKind,
    Store, StoreOptions, TypeSchema,
};
use tempfile::TempDir;

/// A store in a fresh temporary folder, and the folder (deleted when dropped).
pub(crate) fn fs_store(options: StoreOptions) -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        Store::open(&format!("fs://{}", dir.path().display()), options).expect("open fs store");
    (dir, store)
}

/// The types every test object claims to hold.
pub(crate) fn types() -> Vec<TypeSchema> {
    vec![TypeSchema::new("bank::Account", 0xACC0_0001)]
}

/// Writes a shard object whose body is `payload` and returns its reference.
pub(crate) async fn put(
    store: &Store,
    epoch: u64,
    shard: u32,
    kind: ShardObjectKind,
    payload: &str,
) -> ObjectRef {
    let key = ShardObjectKey::new(epoch, shard, 1, 1, kind);
    let bytes = encode_object(kind.object_kind(), &types(), payload).expect("encode");
    store.put_object(&key, bytes).await.expect("put object")
}

/// A manifest of `epoch` by generation `generation` listing the given shard chains.
pub(crate) fn manifest(
    epoch: u64,
    generation: u64,
    chains: Vec<(u32, Vec<ObjectRef>)>,
) -> Manifest {
    let shard_count = chains.iter().map(|(shard, _)| shard + 1).max().unwrap_or(1);
    Manifest {
        epoch,
        generation,
        incarnation: 1,
        parent: epoch.checked_sub(1).filter(|&p| p > 0),
        shard_count,
        shards: chains
            .into_iter()
            .map(|(shard, chain)| (shard, ShardEntry { chain }))
            .collect(),
        aborted: false,
        metadata: BTreeMap::from([("ingress/offsets".to_owned(), epoch.to_le_bytes().to_vec())]),
    }
}

/// Commits `manifest` and asserts it won.
pub(crate) async fn commit(store: &Store, manifest: &Manifest) {
    assert_eq!(
        store.commit_manifest(manifest).await.expect("commit"),
        CommitOutcome::Committed,
        "epoch {} should commit",
        manifest.epoch
    );
}

/// The absolute path of `key` in an fs store rooted at `dir`.
pub(crate) fn path_of(dir: &TempDir, key: &impl ToString) -> std::path::PathBuf {
    dir.path().join(key.to_string())
}
