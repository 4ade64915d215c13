//! What snapshots cost, measured on a single Cairn node.
//!
//! Run: `cargo run --release -p cairn-bench --bin snapshots -- [--scale F]`
//!
//! Prints one JSON object per measurement on stdout (progress on stderr):
//! - `fanout_epochs`: the fanout workload (one driver actor, 30 M u64 tells
//!   to 1,000 actors in turns of 1,000, several seconds) with no store and
//!   with an fs store and an epoch every second, alternating, medians of
//!   three; `ratio` = with / without.
//! - `full_snapshot`: 1 M actors with 64 bytes of state each, activated, then
//!   the first snapshot to an fs store: seconds to commit and bytes written.
//! - `delta_snapshot`: 1% of those actors changed, then a snapshot: bytes
//!   written, and that as a fraction of the full snapshot.
//! - `recovery`: a new node started on that store: seconds until it serves
//!   (states load lazily, on each actor's first message).
//!
//! `--scale F` multiplies every count. The store is a fresh temporary folder.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use cairn::prelude::*;
use cairn_bench::fanout::{FanoutDriver, GetSum, Sink, StartFanout};
use serde::{Deserialize, Serialize};

/// Sets a cell's 64 bytes.
#[derive(Serialize, Deserialize)]
struct Fill(u8);

/// An actor with 64 bytes of state.
#[stateful_function(name = "bench/cell64")]
#[derive(Default, Serialize, Deserialize)]
struct Cell64 {
    #[serde(with = "serde_bytes")]
    bytes: Vec<u8>,
}

#[handlers]
impl Cell64 {
    fn fill(&mut self, _ctx: &mut Context, msg: Fill) {
        self.bytes = vec![msg.0; 64];
    }
}

fn main() -> Result<()> {
    let scale = parse_scale()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move { tokio::spawn(measure_all(scale)).await? })
}

fn parse_scale() -> Result<f64> {
    let mut args = std::env::args().skip(1);
    let mut scale = 1.0;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scale" => {
                scale = args
                    .next()
                    .context("--scale takes a number")?
                    .parse()
                    .context("--scale takes a number")?;
            }
            other => anyhow::bail!("unknown argument {other:?}; usage: snapshots [--scale F]"),
        }
    }
    ensure!(scale > 0.0, "--scale must be positive");
    Ok(scale)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn scaled(count: u64, scale: f64) -> u64 {
    ((count as f64 * scale).round() as u64).max(1)
}

async fn measure_all(scale: f64) -> Result<()> {
    // Long enough for several epochs; runs alternate, medians of three.
    let messages = scaled(30_000_000, scale);
    let mut plain = Vec::new();
    let mut with_epochs = Vec::new();
    for _ in 0..3 {
        plain.push(fanout(messages, None).await?);
        let dir = tempfile::tempdir()?;
        let store = format!("fs://{}", dir.path().display());
        with_epochs.push(fanout(messages, Some(store)).await?);
    }
    let (plain, with_epochs) = (median(plain), median(with_epochs));
    println!(
        "{}",
        serde_json::json!({
            "measurement": "fanout_epochs",
            "messages": messages,
            "msgs_per_sec_without_epochs": plain,
            "msgs_per_sec_with_epochs_every_1s": with_epochs,
            "ratio": with_epochs / plain,
        })
    );
    snapshot_costs(scaled(1_000_000, scale)).await
}

/// Fanout throughput, with epochs every second to `store` if given.
async fn fanout(messages: u64, store: Option<String>) -> Result<f64> {
    let mut builder = Node::builder()
        .register::<Sink>()
        .register::<FanoutDriver>();
    if let Some(store) = store {
        builder = builder
            .store(store)
            .snapshot_interval(Some(Duration::from_secs(1)));
    }
    let node = builder.start().await?;
    let start = Instant::now();
    node.send(
        Address::of::<FanoutDriver>("driver"),
        StartFanout {
            total: messages,
            receivers: 1_000,
        },
    )?;
    node.flush().await?;
    let mut total = 0u64;
    for receiver in 0..1_000u64 {
        let sum: u64 = node.ask(Address::of::<Sink>(receiver), GetSum).await?;
        total = total.wrapping_add(sum);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let expected = (u128::from(messages) * u128::from(messages - 1) / 2) as u64;
    ensure!(
        total == expected,
        "fanout total {total}, expected {expected}"
    );
    let history = node.snapshot_history();
    let bytes: u64 = history.iter().map(|epoch| epoch.bytes).sum();
    let logged: u64 = history.iter().map(|epoch| epoch.channel_log_bytes).sum();
    let busy_ms: u64 = history.iter().map(|epoch| epoch.duration_ms).sum();
    eprintln!(
        "fanout {messages} msgs in {elapsed:.2} s ({} epochs: {bytes} bytes uploaded, \
         {logged} bytes of channel logs, {busy_ms} ms from start to commit in all)",
        history.len()
    );
    node.shutdown().await;
    Ok(messages as f64 / elapsed)
}

/// The first full snapshot of `actors` 64-byte actors, a 1% delta, and a
/// recovery.
async fn snapshot_costs(actors: u64) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = format!("fs://{}", dir.path().display());
    let node = cell_node(&store).await?;
    for cell in 0..actors {
        node.send(Address::of::<Cell64>(cell), Fill(1))?;
    }
    node.flush().await?;
    let start = Instant::now();
    node.snapshot_now().await?;
    let full_seconds = start.elapsed().as_secs_f64();
    let full = node
        .snapshot_history()
        .last()
        .context("a committed epoch")?
        .clone();
    println!(
        "{}",
        serde_json::json!({
            "measurement": "full_snapshot",
            "actors": actors,
            "state_bytes_per_actor": 64,
            "seconds_to_commit": full_seconds,
            "bytes_written": full.bytes,
            "objects": full.objects,
        })
    );

    let changed = (actors / 100).max(1);
    for cell in (0..actors).step_by((actors / changed) as usize) {
        node.send(Address::of::<Cell64>(cell), Fill(2))?;
    }
    node.flush().await?;
    node.snapshot_now().await?;
    let delta = node
        .snapshot_history()
        .last()
        .context("a committed epoch")?
        .clone();
    println!(
        "{}",
        serde_json::json!({
            "measurement": "delta_snapshot",
            "actors_changed": changed,
            "bytes_written": delta.bytes,
            "fraction_of_full": delta.bytes as f64 / full.bytes as f64,
        })
    );
    node.shutdown().await;

    let start = Instant::now();
    let recovered = cell_node(&store).await?;
    let seconds = start.elapsed().as_secs_f64();
    ensure!(
        recovered.recovered_from().is_some(),
        "the node did not recover"
    );
    println!(
        "{}",
        serde_json::json!({
            "measurement": "recovery",
            "actors": actors,
            "seconds_to_serving": seconds,
        })
    );
    recovered.shutdown().await;
    Ok(())
}

async fn cell_node(store: &str) -> Result<Node> {
    Ok(Node::builder()
        .register::<Cell64>()
        .store(store)
        .snapshot_interval(None)
        .start()
        .await?)
}
