//! Records emitted by handlers reach their egress sink, each once, with a
//! stable key.

use std::collections::BTreeSet;

use cairn::prelude::*;
use cairn::{FileSink, Node};
use cairn_tests::functions::{start_node, EmitTo, Emitter, Inspect};

fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

async fn emit_many(node: &Node, egress: &str, count: u64) {
    for value in 0..count {
        let emitter = Address::of::<Emitter>(value % 10);
        node.send(
            emitter,
            EmitTo {
                egress: egress.into(),
                value,
            },
        )
        .unwrap();
    }
    node.flush().await.unwrap();
}

/// Every emitted record lands in the file sink exactly once, as a JSON line
/// with a unique `(epoch, shard, seq)` key; per shard, keys rise in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sink_gets_every_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/records.jsonl");
    let node = start_node(|b| {
        b.shards(4)
            .egress("records", FileSink::open(&path).unwrap())
    })
    .await;
    emit_many(&node, "records", 500).await;

    let records = lines(&path);
    assert_eq!(records.len(), 500);
    let values: BTreeSet<u64> = records
        .iter()
        .map(|r| r["record"]["value"].as_u64().unwrap())
        .collect();
    assert_eq!(values, (0..500).collect());
    let keys: BTreeSet<(u64, u64)> = records
        .iter()
        .map(|r| {
            (
                r["key"]["shard"].as_u64().unwrap(),
                r["key"]["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(keys.len(), 500, "keys are unique");
    let mut last_seq = std::collections::HashMap::new();
    for record in &records {
        let shard = record["key"]["shard"].as_u64().unwrap();
        let seq = record["key"]["seq"].as_u64().unwrap();
        let previous = last_seq.insert(shard, seq).unwrap_or(0);
        assert_eq!(seq, previous + 1, "per-shard keys rise without gaps");
    }
    node.shutdown().await;
}

/// Emitting to an egress that was never added is an error the handler sees;
/// nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_egress_is_an_error_for_the_handler() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.jsonl");
    let node = start_node(|b| b.egress("records", FileSink::open(&path).unwrap())).await;
    let emitter = Address::of::<Emitter>("e");
    node.send(
        emitter.clone(),
        EmitTo {
            egress: "elsewhere".into(),
            value: 1,
        },
    )
    .unwrap();
    let failures: u64 = node.ask(emitter, Inspect).await.unwrap();
    assert_eq!(failures, 1);
    node.flush().await.unwrap();
    assert!(lines(&path).is_empty());
    node.shutdown().await;
}

/// Shutdown handles the messages already accepted and writes out every
/// record they emit before it returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_writes_pending_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.jsonl");
    let node = start_node(|b| b.egress("records", FileSink::open(&path).unwrap())).await;
    for value in 0..100 {
        node.send(
            Address::of::<Emitter>(value),
            EmitTo {
                egress: "records".into(),
                value,
            },
        )
        .unwrap();
    }
    node.shutdown().await;
    assert_eq!(lines(&path).len(), 100);
}
