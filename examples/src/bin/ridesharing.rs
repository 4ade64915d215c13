//! Ride sharing, after the Flink Forward 2019 Stateful Functions keynote:
//! drivers, passengers, rides and a geo index, simulated in one process.
//!
//! ```text
//! cargo run --release -p cairn-examples --bin ridesharing -- \
//!     --drivers 100 --passengers 300 --rides 2000 [--seed 42] [--egress-file rides.jsonl] \
//!     [--http 127.0.0.1:9090] [--keep-serving]
//! ```
//!
//! Passengers share out `--rides` ride requests and make them one after the
//! other; drivers roam the map while free. A progress line goes to stderr
//! every second, and a summary to stdout at the end. Exits 0 once every ride
//! has completed, non-zero if `--timeout-secs` passes first. Completed rides
//! go to the `rides` egress when `--egress-file` is given. The node serves its
//! HTTP endpoint (metrics, JSON views, ingress) while the simulation runs,
//! on `--http HOST:PORT`: by default a free port on loopback, logged at
//! start as `serving HTTP addr=…`. With `--keep-serving` it stays up after
//! the summary, until SIGINT or SIGTERM, for a scrape or `cairn inspect`;
//! the exit status is still the simulation's.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use cairn::{FileSink, Node};
use cairn_examples::launch;
use cairn_examples::ridesharing::{
    register, Grid, Params, SimConfig, Simulator, Summary, RIDES_EGRESS,
};
use clap::Parser;

/// Simulates ride sharing on Cairn.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// How many drivers.
    #[arg(long, default_value_t = 100)]
    drivers: u64,
    /// How many passengers.
    #[arg(long, default_value_t = 300)]
    passengers: u64,
    /// How many rides the passengers request in all.
    #[arg(long, default_value_t = 2_000)]
    rides: u64,
    /// The seed of every random choice.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Cells per side of the square map.
    #[arg(long, default_value_t = 8)]
    grid: u32,
    /// The width of a cell, in distance units.
    #[arg(long, default_value_t = 10)]
    cell_size: u32,
    /// Simulated travel time per distance unit, in microseconds.
    #[arg(long, default_value_t = 1_000)]
    micros_per_unit: u64,
    /// How often a free driver moves, in microseconds (0: never).
    #[arg(long, default_value_t = 25_000)]
    roam_micros: u64,
    /// Gives up after this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    /// Writes completed rides to this file, one JSON line each.
    #[arg(long)]
    egress_file: Option<PathBuf>,
    /// Serves the node's HTTP endpoint on HOST:PORT (an IP address and a
    /// port; default: a free port on loopback, logged at start).
    #[arg(long, value_name = "HOST:PORT", default_value = launch::DEFAULT_HTTP)]
    http: SocketAddr,
    /// After the summary, keeps the node and its HTTP endpoint up until
    /// SIGINT or SIGTERM.
    #[arg(long)]
    keep_serving: bool,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    launch::init_logging();
    let cli = Cli::parse();
    let mut builder = register(Node::builder());
    if let Some(path) = &cli.egress_file {
        builder = builder.egress(RIDES_EGRESS, FileSink::open(path)?);
    }
    let node = launch::start(builder, Some(cli.http)).await?;
    let config = SimConfig {
        drivers: cli.drivers,
        passengers: cli.passengers,
        rides: cli.rides,
        seed: cli.seed,
        params: Params {
            grid: Grid {
                side: cli.grid,
                cell_size: cli.cell_size,
            },
            micros_per_unit: cli.micros_per_unit,
            roam_micros: cli.roam_micros,
            ..Params::default()
        },
        timeout: Duration::from_secs(cli.timeout_secs),
    };
    let simulator = Simulator::new(node.clone(), config)?;
    let summary = simulator
        .run(|progress| {
            eprintln!(
                "[{:6.1}s] rides requested {} completed {} | {:.0} msgs/s | {} active actors",
                progress.elapsed.as_secs_f64(),
                progress.stats.requested,
                progress.stats.completed,
                progress.messages_per_sec,
                progress.active_actors,
            );
        })
        .await;
    if let Ok(summary) = &summary {
        print_summary(summary);
    }
    launch::keep_serving(&node, cli.keep_serving).await;
    node.shutdown().await;
    let summary = summary?;
    if !summary.all_completed() {
        bail!(
            "gave up after {} s: {} of {} rides completed, {} never matched",
            cli.timeout_secs,
            summary.stats.completed,
            summary.rides,
            summary.unmatched
        );
    }
    Ok(())
}

/// Prints the summary on stdout.
fn print_summary(summary: &Summary) {
    println!("rides requested:  {}", summary.stats.requested);
    println!("rides completed:  {}", summary.stats.completed);
    println!("rides unmatched:  {}", summary.unmatched);
    println!("declined bids:    {}", summary.stats.declined_bids);
    println!("messages handled: {}", summary.messages_handled);
    println!("messages/s:       {:.0}", summary.messages_per_sec());
    println!("active actors:    {}", summary.active_actors);
    println!("elapsed:          {:.3} s", summary.elapsed.as_secs_f64());
}
