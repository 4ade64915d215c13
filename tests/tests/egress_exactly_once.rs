//! With snapshots, egress is two-phase: a record reaches its sink only once
//! the epoch that sealed it has committed, and exactly once across restarts
//! (SNAPSHOTS §5 invariant 8).

use std::collections::BTreeSet;

use cairn::prelude::*;
use cairn::FileSink;
use cairn_tests::functions::{start_node, EmitTo, Emitter};

fn records(path: &std::path::Path) -> Vec<(u64, u64, u64)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let line: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                line["key"]["shard"].as_u64().unwrap(),
                line["key"]["seq"].as_u64().unwrap(),
                line["record"]["value"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn emit(node: &Node, values: std::ops::Range<u64>) {
    for value in values {
        let to = Address::of::<Emitter>(value % 7);
        node.send(
            to,
            EmitTo {
                egress: "out".into(),
                value,
            },
        )
        .unwrap();
    }
    node.flush().await.unwrap();
}

/// Records emitted in an epoch are held back until it commits; what was
/// never committed never reaches the sink, even across a restart; records
/// released again after a restart are not written twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_is_released_once_per_committed_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("fs://{}", dir.path().join("store").display());
    let out = dir.path().join("out.jsonl");
    let open = || {
        let store = store.clone();
        let sink = FileSink::open(&out).unwrap();
        async move {
            start_node(|b| {
                b.shards(4)
                    .store(store)
                    .snapshot_interval(None)
                    .egress("out", sink)
            })
            .await
        }
    };

    let node = open().await;
    emit(&node, 0..100).await;
    assert!(
        records(&out).is_empty(),
        "nothing is released before a commit"
    );
    let stats = node.shard_stats().await.unwrap();
    assert_eq!(stats.iter().map(|s| s.egress_pending).sum::<usize>(), 100);
    node.snapshot_now().await.unwrap();
    node.flush().await.unwrap();
    assert_eq!(records(&out).len(), 100);
    emit(&node, 100..150).await;
    node.shutdown().await; // no commit after the last 50: as if it crashed
    assert_eq!(records(&out).len(), 100, "uncommitted records never leave");

    let node = open().await;
    node.flush().await.unwrap();
    assert_eq!(
        records(&out).len(),
        100,
        "the restored epoch's records are not repeated"
    );
    emit(&node, 150..200).await;
    node.snapshot_now().await.unwrap();
    node.flush().await.unwrap();
    node.shutdown().await;

    let written = records(&out);
    let keys: BTreeSet<(u64, u64)> = written
        .iter()
        .map(|(shard, seq, _)| (*shard, *seq))
        .collect();
    assert_eq!(keys.len(), written.len(), "each key once");
    let values: BTreeSet<u64> = written.iter().map(|(_, _, value)| *value).collect();
    let expected: BTreeSet<u64> = (0..100).chain(150..200).collect();
    assert_eq!(
        values, expected,
        "committed records exactly, the lost epoch's never"
    );
}
