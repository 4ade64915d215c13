//! Reading objects from an fs store holds on to no more memory than the objects themselves.
//!
//! opendal's fs reader read every object into a fresh 2 MiB buffer and handed back a slice that
//! kept the whole buffer alive; the object cache, which weighs entries by their length, then held
//! 2 MiB per cached object of a few KB. A node restoring 64 shards' delta chains of up to 32 parts
//! each sat on gigabytes. This file holds one test so that nothing else allocates in its process
//! while it measures.

mod common;

use cairn_persistence::{ShardObjectKind, StoreOptions};
use common::{fs_store, put};

/// How many objects are read (and cached).
const OBJECTS: u32 = 256;

/// The resident set size of this process, in bytes, where the system reports it.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Reading 256 small objects through the cache grows the resident set by far less than the
/// 512 MiB that 2 MiB per read would pin.
#[tokio::test(flavor = "current_thread")]
async fn cached_reads_hold_only_their_bytes() {
    let (_dir, store) = fs_store(StoreOptions::default());
    let payload = "x".repeat(1024);
    let mut keys = Vec::new();
    for shard in 0..OBJECTS {
        keys.push(
            put(&store, 1, shard, ShardObjectKind::State, &payload)
                .await
                .key,
        );
    }
    let Some(before) = resident_bytes() else {
        eprintln!("no /proc/self/status here: the resident set cannot be measured");
        return;
    };
    let mut held = Vec::new();
    for key in &keys {
        let bytes = store.read_object(key).await.unwrap();
        assert!(bytes.len() > 1024);
        held.push(bytes);
    }
    let grown = resident_bytes().unwrap().saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "reading {OBJECTS} objects of ~1 KB grew the resident set by {} MiB",
        grown >> 20
    );
    drop(held);
}
