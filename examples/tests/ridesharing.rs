//! The ride-sharing example, in process and as the `ridesharing` binary.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn::{EgressRecord, EgressSink, Node};
use cairn_examples::ridesharing::{
    driver, passenger, register, DriverStatus, DriverView, GetDriver, GetPassenger, Grid, Params,
    PassengerStatus, PassengerView, RideRecord, SimConfig, Simulator, RIDES_EGRESS,
};

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

fn small(drivers: u64, passengers: u64, rides: u64, timeout: Duration) -> SimConfig {
    SimConfig {
        drivers,
        passengers,
        rides,
        seed: 11,
        params: Params {
            grid: Grid {
                side: 4,
                cell_size: 10,
            },
            micros_per_unit: 50,
            think_micros: 2_000,
            roam_micros: 5_000,
            retry_micros: 1_000,
        },
        timeout,
    }
}

/// Fewer drivers than passengers: every ride is matched and completed, each
/// passenger gets its share, every driver is free at the end, and each ride
/// is emitted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ride_completes_and_drivers_end_free() -> anyhow::Result<()> {
    let sink = Collect::default();
    let node = register(Node::builder())
        .egress(RIDES_EGRESS, sink.clone())
        .start()
        .await?;
    let config = small(4, 10, 40, Duration::from_secs(20));
    let summary = Simulator::new(node.clone(), config)?.run(|_| {}).await?;
    assert!(summary.all_completed(), "{summary:?}");
    assert_eq!(summary.unmatched, 0);
    assert!(summary.messages_handled > 0 && summary.active_actors > 0);

    let mut driven = 0;
    for id in 0..config.drivers {
        let view: DriverView = node.ask(driver(id), GetDriver).await?;
        assert_eq!(view.status, DriverStatus::Free, "driver {id}: {view:?}");
        driven += view.rides_completed;
    }
    assert_eq!(driven, 40);
    for id in 0..config.passengers {
        let view: PassengerView = node.ask(passenger(id), GetPassenger).await?;
        assert_eq!(view.status, PassengerStatus::Idle, "passenger {id}");
        assert_eq!(view.completed, config.rides_of(id), "passenger {id}");
        assert_eq!((view.requested, view.remaining), (view.completed, 0));
    }
    let shards = node.shard_stats().await?;
    assert_eq!(shards.iter().map(|s| s.dead_letters).sum::<u64>(), 0);
    node.shutdown().await;

    let records: Vec<RideRecord> = sink
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|json| serde_json::from_str(json))
        .collect::<Result<_, _>>()?;
    let mut rides: Vec<&str> = records.iter().map(|record| record.ride.as_str()).collect();
    rides.sort_unstable();
    rides.dedup();
    assert_eq!(rides.len(), 40);
    Ok(())
}

/// With no drivers at all, the run times out and reports every requested
/// ride as unmatched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_drivers_rides_are_reported_unmatched() -> anyhow::Result<()> {
    let node = register(Node::builder()).start().await?;
    let config = small(0, 3, 6, Duration::from_millis(500));
    let summary = Simulator::new(node.clone(), config)?.run(|_| {}).await?;
    node.shutdown().await;
    assert!(summary.timed_out && !summary.all_completed(), "{summary:?}");
    assert_eq!(
        summary.stats.requested, 3,
        "one ride per passenger at a time"
    );
    assert_eq!((summary.stats.completed, summary.unmatched), (0, 3));
    Ok(())
}

/// The binary prints a summary with every ride completed, writes one egress
/// line per ride, and exits 0.
#[test]
fn binary_completes_every_ride() {
    let dir = tempfile::tempdir().unwrap();
    let egress = dir.path().join("rides.jsonl");
    let output = Command::new(env!("CARGO_BIN_EXE_ridesharing"))
        .args(["--drivers", "5", "--passengers", "8", "--rides", "30"])
        .args(["--grid", "4", "--micros-per-unit", "50", "--egress-file"])
        .arg(&egress)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the ridesharing binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("rides requested:  30"), "{stdout}");
    assert!(stdout.contains("rides completed:  30"), "{stdout}");
    assert!(stdout.contains("messages/s:"), "{stdout}");
    let lines = std::fs::read_to_string(&egress).unwrap();
    assert_eq!(lines.lines().count(), 30);
}

/// The binary exits non-zero when the rides cannot complete in time.
#[test]
fn binary_fails_on_timeout() {
    let output = Command::new(env!("CARGO_BIN_EXE_ridesharing"))
        .args(["--drivers", "0", "--passengers", "2", "--rides", "4"])
        .args(["--timeout-secs", "1"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("the ridesharing binary runs");
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("rides unmatched:  2"), "{stdout}");
}
