//! The bank example, in process and as the `bank` binary.

use std::process::Command;
use std::sync::{Arc, Mutex};

use cairn::{EgressRecord, EgressSink, Node};
use cairn_examples::bank::{Account, Simulation, TransferRecord, TRANSFERS_EGRESS};

/// An egress sink that keeps the records' JSON in memory.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<String>>>);

impl EgressSink for Collect {
    fn publish(&mut self, records: &[EgressRecord]) -> std::io::Result<()> {
        let mut kept = self.0.lock().unwrap();
        kept.extend(records.iter().map(|record| record.json().to_owned()));
        Ok(())
    }
}

fn small() -> Simulation {
    Simulation {
        accounts: 10,
        transfers: 500,
        initial_balance: 100,
        max_amount: 60,
        seed: 7,
    }
}

/// Random transfers end with exactly the balances computed from the list,
/// conserve the total, and emit one record per transfer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_end_with_the_computed_balances() -> anyhow::Result<()> {
    let sink = Collect::default();
    let node = Node::builder()
        .register::<Account>()
        .egress(TRANSFERS_EGRESS, sink.clone())
        .start()
        .await?;
    let simulation = small();
    let outcome = simulation.run(&node).await?;
    let shards = node.shard_stats().await?;
    node.shutdown().await;
    assert_eq!(shards.iter().map(|s| s.dead_letters).sum::<u64>(), 0);

    outcome.check()?;
    assert_eq!(
        outcome.balances,
        simulation.expected_balances(&simulation.plan())
    );
    assert_eq!(outcome.total(), 1_000);
    assert!(
        outcome.balances.iter().any(|&b| b != 100),
        "the transfers moved money"
    );

    let records: Vec<TransferRecord> = sink
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|json| serde_json::from_str(json))
        .collect::<Result<_, _>>()?;
    let mut ids: Vec<u64> = records.iter().map(|record| record.transfer).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..500).collect::<Vec<_>>());
    for record in &records {
        let planned = simulation.plan()[record.transfer as usize];
        assert_eq!(record.from.as_str(), planned.from.to_string());
        assert_eq!(record.to.as_str(), planned.to.to_string());
        assert_eq!(record.amount, planned.amount);
    }
    Ok(())
}

/// A node without the transfers egress still completes every transfer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_complete_without_an_egress() -> anyhow::Result<()> {
    let node = Node::builder().register::<Account>().start().await?;
    let outcome = small().run(&node).await?;
    node.shutdown().await;
    outcome.check()
}

/// `bank simulate` prints the balances and the conserved total, writes one
/// egress line per transfer, and exits 0.
#[test]
fn binary_simulates_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let egress = dir.path().join("transfers.jsonl");
    let output = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["simulate", "--accounts", "5", "--transfers", "200"])
        .args(["--initial-balance", "100", "--seed", "3", "--egress-file"])
        .arg(&egress)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the bank binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("account ")).count(),
        5
    );
    assert!(stdout.contains("total: 500 (expected 500)"), "{stdout}");
    let lines = std::fs::read_to_string(&egress).unwrap();
    assert_eq!(lines.lines().count(), 200);
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert!(first["record"]["amount"].as_i64().unwrap() >= 1, "{first}");
}

/// `bank simulate --egress-stdout` prints one JSON line per transfer before
/// the balances.
#[test]
fn binary_prints_transfers_to_stdout() {
    let output = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["simulate", "--accounts", "3", "--transfers", "20"])
        .args(["--initial-balance", "10", "--egress-stdout"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("the bank binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with('{')).count(), 20);
    assert!(stdout.contains("total: 30 (expected 30)"), "{stdout}");
}

/// The bank binary refuses contradictory egress flags.
#[test]
fn binary_rejects_two_egress_targets() {
    let status = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["simulate", "--egress-stdout", "--egress-file", "x.jsonl"])
        .output()
        .expect("the bank binary runs")
        .status;
    assert!(!status.success());
}
