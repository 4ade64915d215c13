//! One-way tells from a driver actor on this node to sinks whose shards
//! run on the other member (the data plane: shard-to-shard channels,
//! batched frames), beside raw length-prefixed frames to that member's
//! process, and beside the same tells to sinks on this node's other shards
//! (no network: what the same actors do without the data plane).
//! Alternating runs; all are counted at the receiver.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use cairn::{Address, Node, ShardCount};

use crate::functions::{Driver, GetCount, GetDone, Sink, StartTells, Tally};
use crate::placement::ids_on;
use crate::PAYLOAD;

/// Sinks the driver spreads its items over.
const SINKS: usize = 64;

/// How often the tally is asked whether every sink is done.
const POLL: Duration = Duration::from_millis(1);

/// How long one run may take: a deadline against hangs.
const DEADLINE: Duration = Duration::from_secs(300);

/// Messages per second, one entry per run.
pub(crate) struct Throughput {
    pub(crate) messages: u64,
    pub(crate) raw_messages: u64,
    pub(crate) raw: Vec<f64>,
    pub(crate) tells: Vec<f64>,
    /// The same tells to sinks on this node's other shards.
    pub(crate) local: Vec<f64>,
}

/// Where the run's actors live.
pub(crate) struct Layout<'a> {
    /// The shard owners of the running generation.
    pub(crate) owners: &'a [String],
    /// The member the driver runs on (this node).
    pub(crate) here: &'a str,
    /// The member the sinks and the tally run on.
    pub(crate) there: &'a str,
}

/// `runs` alternating runs: `raw_messages` raw frames to `raw`, then
/// `messages` tells from a driver here to sinks there, then as many to
/// sinks here.
pub(crate) async fn measure(
    node: &Node,
    layout: &Layout<'_>,
    raw: SocketAddr,
    messages: u64,
    raw_messages: u64,
    runs: u64,
) -> Result<Throughput> {
    let mut result = Throughput {
        messages,
        raw_messages,
        raw: Vec::new(),
        tells: Vec::new(),
        local: Vec::new(),
    };
    for run in 0..runs {
        let raw_rate = crate::raw::tell(raw, raw_messages, PAYLOAD).await?;
        eprintln!("  run {run}: raw TCP {:.2} M msgs/s", raw_rate / 1e6);
        result.raw.push(raw_rate);
        let rate = tells(node, layout, layout.there, 2 * run, messages).await?;
        eprintln!("  run {run}: data plane {:.2} M msgs/s", rate / 1e6);
        result.tells.push(rate);
        let rate = tells(node, layout, layout.here, 2 * run + 1, messages).await?;
        eprintln!(
            "  run {run}: one member, no network {:.2} M msgs/s",
            rate / 1e6
        );
        result.local.push(rate);
    }
    Ok(result)
}

/// One run of `messages` tells from a driver here to sinks on `sinks_on`,
/// never on the driver's shard, with actors of their own (ids offset by
/// `run`): messages per second until every sink has counted its share.
async fn tells(
    node: &Node,
    layout: &Layout<'_>,
    sinks_on: &str,
    run: u64,
    messages: u64,
) -> Result<f64> {
    let base = 1_000_000 * (run + 1);
    let driver = ids_on::<Driver>(layout.owners, layout.here, base, 1)[0];
    let shards = ShardCount::new(layout.owners.len() as u32).expect("a cluster has shards");
    let mut others = layout.owners.to_vec();
    others[Address::of::<Driver>(driver).shard(shards).index()] = String::new();
    ensure!(
        others.iter().any(|owner| owner == sinks_on),
        "{sinks_on} runs no shard but the driver's: no room for sinks"
    );
    let sinks = ids_on::<Sink>(&others, sinks_on, base, SINKS);
    let tally = ids_on::<Tally>(&others, sinks_on, base, 1)[0];
    let start = StartTells {
        total: messages,
        payload: PAYLOAD,
        sinks: sinks.clone(),
        tally,
    };
    let started = Instant::now();
    node.send(Address::of::<Driver>(driver), start)?;
    let tally = Address::of::<Tally>(tally);
    loop {
        let done: u64 = node.ask(tally.clone(), GetDone).await?;
        if done == SINKS as u64 {
            break;
        }
        ensure!(
            started.elapsed() < DEADLINE,
            "only {done} of {SINKS} sinks got all their items within {DEADLINE:?}"
        );
        tokio::time::sleep(POLL).await;
    }
    let rate = messages as f64 / started.elapsed().as_secs_f64();
    let mut received = 0;
    for sink in sinks {
        let count: u64 = node.ask(Address::of::<Sink>(sink), GetCount).await?;
        received += count;
    }
    ensure!(
        received == messages,
        "the sinks received {received} items, not {messages}"
    );
    Ok(rate)
}
