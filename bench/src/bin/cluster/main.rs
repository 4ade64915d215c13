//! What a Cairn cluster costs beside raw TCP, with its members in real
//! processes on loopback, and how fast it recovers from a member killed
//! with SIGKILL.
//!
//! Run: `cargo run --release -p cairn-bench --bin cluster -- [--scale F] [--recoveries N]`
//!
//! This process is member A (127.0.0.1, the coordinator: it starts
//! first); it re-runs itself with the hidden `--member` arguments for
//! member B (127.0.0.2) and later C (127.0.0.3), on ports at which the
//! hash ring gives every member at least one shard. Every member has 8
//! shards, shares one `fs://` store in a temporary folder and takes an
//! epoch every second (the default). Each child also serves raw
//! length-prefixed TCP frames, so the baseline crosses the same two
//! processes the cluster does.
//!
//! - **ask**: round trips of 64-byte asks from A to an echo actor whose
//!   shard runs on B (A forwards each ask to its owner), against raw TCP
//!   echoes of 64-byte frames to B's process; p50 and p99. A third
//!   series, the node-to-node transport alone (`TcpTransport` to an echo
//!   in B's process), tells what the transport costs and what the node
//!   adds. Each block takes one of each in turn, so that all three see
//!   the same placement of threads on vCPUs.
//! - **one-way tells**: a driver actor on A sends 64-byte items with
//!   `ctx.send`, round-robin to 64 sink actors whose shards run on B (the
//!   data plane: shard-to-shard channels, batched frames); the sinks
//!   count what they receive and tell a tally on B once complete; A asks
//!   the tally every millisecond. Against raw 64-byte frames through a
//!   buffered writer to B's process, counted by the reader there. And
//!   the same tells to sinks on A's other shards: no network, what the
//!   same actors do without the data plane. Alternating runs, medians of
//!   3.
//! - **recovery**: C joins; under steady tells from A, C is killed with
//!   SIGKILL; A records when it declared C dead, when a generation
//!   without C ran, when an echo on every shard C ran answered an ask
//!   again, and when the first epoch after the kill committed. Reported
//!   beside the membership's failure-detection bound.
//!
//! Prints a Markdown table on stdout, progress on stderr. Members' logs
//! (level `warn`, or `RUST_LOG`) go to files in the temporary folder.

mod functions;
mod latency;
mod member;
mod placement;
mod raw;
mod recovery;
mod table;
mod throughput;
mod transport_echo;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context as _, Result};
use cairn::membership::{FailureDetection, DEFAULT_GOSSIP_INTERVAL};
use cairn::Node;
use clap::Parser;

use member::{free_addr, start_node, MemberProcess};

/// The size of every ask body, tell body and raw frame.
const PAYLOAD: usize = 64;

/// What a Cairn cluster costs beside raw TCP, and how fast it recovers.
#[derive(Debug, Parser)]
#[command(name = "cluster")]
struct Options {
    /// Multiplies every round-trip and message count (at least 1,000 each).
    #[arg(long, default_value_t = 1.0, value_parser = positive, allow_negative_numbers = true)]
    scale: f64,

    /// Members killed with SIGKILL, one after another, to time recovery.
    #[arg(long, default_value_t = 3)]
    recoveries: usize,

    /// Internal: run as a member child (B or C) at BIND, seeded by SEED,
    /// on STORE.
    #[arg(long, hide = true, num_args = 3, value_names = ["BIND", "SEED", "STORE"])]
    member: Option<Vec<String>>,
}

fn main() -> Result<()> {
    let options = Options::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if let Some(member) = &options.member {
        return runtime.block_on(member::run_child(member));
    }
    runtime.block_on(async move { tokio::spawn(measure(options)).await? })
}

fn positive(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(scale) if scale > 0.0 && scale.is_finite() => Ok(scale),
        _ => Err(format!("`{value}` is not a positive number")),
    }
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

fn scaled(count: u64, scale: f64) -> u64 {
    ((count as f64 * scale).round() as u64).max(1_000)
}

async fn measure(options: Options) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = format!("fs://{}", dir.path().join("store").display());
    let a_bind = free_addr(loopback(1))?;
    let b_bind = member::free_addr(loopback(2))?;
    let (a_id, b_id) = (a_bind.to_string(), b_bind.to_string());

    eprintln!("starting member A (this process) at {a_bind} and B at {b_bind}");
    let starting = {
        let store = store.clone();
        tokio::spawn(async move { start_node(a_bind, a_bind, &store).await })
    };
    // A's incarnation is older: A coordinates.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let b = spawn_member(b_bind, a_bind, &store, dir.path()).await?;
    let node = starting.await??;
    let owners = placement::wait_formed(&node, &[a_id.clone(), b_id.clone()]).await?;
    let coordinator = node.cluster_view().context("a member")?.coordinator;
    ensure!(coordinator == a_id, "B ({b_id}) coordinates, not A");
    eprintln!("formed: shards {owners:?}");

    let round_trips = scaled(20_000, options.scale) as usize;
    eprintln!("ask round trips: {round_trips} asks, as many raw and transport echoes");
    let echo = placement::ids_on::<functions::Echoer>(&owners, &b_id, 0, 1)[0];
    let baselines = latency::Baselines {
        raw: b.raw,
        transport: b.transport,
    };
    let latency = latency::measure(&node, echo, &baselines, round_trips).await?;

    let (messages, raw_messages) = (
        scaled(2_000_000, options.scale),
        scaled(10_000_000, options.scale),
    );
    eprintln!("one-way tells: {messages} through the cluster, {raw_messages} raw, 3 runs each");
    let layout = throughput::Layout {
        owners: &owners,
        here: &a_id,
        there: &b_id,
    };
    let throughput = throughput::measure(&node, &layout, b.raw, messages, raw_messages, 3).await?;

    let mut recoveries = Vec::new();
    for run in 0..options.recoveries {
        let c_bind = member::free_addr(loopback(3))?;
        let mut c = spawn_member(c_bind, a_bind, &store, dir.path()).await?;
        placement::wait_formed(&node, &[a_id.clone(), b_id.clone(), c_bind.to_string()]).await?;
        // Let the generation of three commit an epoch or two first.
        tokio::time::sleep(Duration::from_secs(2)).await;
        eprintln!("recovery {}: killing C ({c_bind}) with SIGKILL", run + 1);
        let recovery = recovery::kill_and_recover(&node, &mut c).await?;
        eprintln!(
            "  dead after {:?}, serving after {:?}; the slowest failed probe (timeout {:?}) took {:?}",
            recovery.detected,
            recovery.serving,
            recovery::PROBE_TIMEOUT,
            recovery.slowest_failure
        );
        recoveries.push(recovery);
    }

    table::print(&table::Figures {
        latency,
        throughput,
        recoveries,
        detection_bound: FailureDetection::default().detection_bound(DEFAULT_GOSSIP_INTERVAL),
    });

    eprintln!("stopping the members");
    tokio::task::spawn_blocking(move || b.leave()).await??;
    stop(&node).await;
    Ok(())
}

/// Spawns a member child without blocking the runtime's workers.
async fn spawn_member(
    bind: SocketAddr,
    seed: SocketAddr,
    store: &str,
    logs: &Path,
) -> Result<MemberProcess> {
    let (store, logs) = (store.to_owned(), logs.to_owned());
    tokio::task::spawn_blocking(move || MemberProcess::spawn(bind, seed, &store, &logs)).await?
}

async fn stop(node: &Node) {
    if tokio::time::timeout(Duration::from_secs(30), node.shutdown())
        .await
        .is_err()
    {
        eprintln!("member A did not stop within 30 s");
    }
}
