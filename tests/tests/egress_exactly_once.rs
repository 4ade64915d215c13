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

/// A sink that fails while `failing` is set and keeps what it accepted.
struct FlakySink {
    failing: std::sync::Arc<std::sync::atomic::AtomicBool>,
    accepted: std::sync::Arc<std::sync::Mutex<Vec<(u64, u64)>>>,
}

impl cairn::EgressSink for FlakySink {
    fn publish(&mut self, records: &[cairn::EgressRecord]) -> std::io::Result<()> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(std::io::Error::other("the sink is down"));
        }
        let mut accepted = self.accepted.lock().unwrap();
        accepted.extend(
            records
                .iter()
                .map(|r| (u64::from(r.key().shard.0), r.key().seq)),
        );
        Ok(())
    }
}

/// Records released while their sink is down stay sealed in every later
/// snapshot until the sink confirms them: after later commits and a crash,
/// a restart publishes each exactly once (SNAPSHOTS §3.5 rule 15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_a_failing_sink_never_wrote_are_published_after_a_restart() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let dir = tempfile::tempdir().unwrap();
    let store = format!("fs://{}", dir.path().display());
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let sink = |failing: bool| FlakySink {
        failing: Arc::new(AtomicBool::new(failing)),
        accepted: accepted.clone(),
    };
    let down = sink(true);
    let failing = down.failing.clone();
    let node = start_node(|b| {
        b.shards(4)
            .store(store.clone())
            .snapshot_interval(None)
            .egress("out", down)
    })
    .await;
    emit(&node, 0..20).await;
    // Releases the 20 records, which the sink fails to write. (No flush
    // here: flush waits for egress to be written, and the sink is down.)
    node.snapshot_now().await.unwrap();
    // A later commit: each shard takes this epoch's start after the release
    // above, so the unwritten records are sealed into it.
    node.snapshot_now().await.unwrap();
    node.shutdown().await; // as if it crashed: the sink never wrote them
    assert!(accepted.lock().unwrap().is_empty());
    assert!(failing.load(Ordering::SeqCst));

    let up = sink(false);
    let node = start_node(|b| {
        b.shards(4)
            .store(store.clone())
            .snapshot_interval(None)
            .egress("out", up)
    })
    .await;
    node.flush().await.unwrap();
    let mut written = accepted.lock().unwrap().clone();
    written.sort_unstable();
    written.dedup();
    assert_eq!(
        written.len(),
        20,
        "each sealed record published again, once per key"
    );
    node.shutdown().await;
}
