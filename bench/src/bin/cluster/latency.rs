//! Ask round trips from this node to an actor whose shard runs on the
//! other member, beside raw TCP echo round trips to that member's
//! process and round trips over the node-to-node transport alone, one of
//! each in turn so all three see the same machine.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use cairn::{Address, Node};
use cairn_bench::percentile;

use crate::functions::{Echo, Echoed, Echoer};
use crate::raw::RawEcho;
use crate::transport_echo::TransportEcho;
use crate::PAYLOAD;

/// How many blocks each side's round trips are split into.
const BLOCKS: usize = 10;

/// Round trips done and dropped before measuring, on each side.
const WARM_UP: usize = 1_000;

/// p50 and p99 of each, in microseconds.
pub(crate) struct Latency {
    pub(crate) round_trips: usize,
    pub(crate) raw: (f64, f64),
    pub(crate) transport: (f64, f64),
    pub(crate) ask: (f64, f64),
}

/// Where the other member's baselines listen.
pub(crate) struct Baselines {
    pub(crate) raw: SocketAddr,
    pub(crate) transport: SocketAddr,
}

/// `round_trips` asks of the echo `echo_id` (on the other member) through
/// `node`, and as many raw and transport echoes to that member.
pub(crate) async fn measure(
    node: &Node,
    echo_id: u64,
    baselines: &Baselines,
    round_trips: usize,
) -> Result<Latency> {
    let echo = Address::of::<Echoer>(echo_id);
    let mut raw = RawEcho::connect(baselines.raw, PAYLOAD).await?;
    let mut transport = TransportEcho::connect(baselines.transport, PAYLOAD).await?;
    let block = round_trips.div_ceil(BLOCKS);
    for _ in 0..WARM_UP {
        raw.round_trip().await?;
        transport.round_trip().await?;
        ask(node, &echo).await?;
    }
    let (mut raw_samples, mut transport_samples, mut ask_samples) =
        (Vec::new(), Vec::new(), Vec::new());
    for index in 0..BLOCKS {
        // One of each in turn, so that all three see the same placement
        // of threads on vCPUs, which drifts on a scale of milliseconds.
        let (mut block_raw, mut block_transport, mut block_ask) = (
            Vec::with_capacity(block),
            Vec::with_capacity(block),
            Vec::with_capacity(block),
        );
        for _ in 0..block {
            block_raw.push(raw.round_trip().await?);
            block_transport.push(transport.round_trip().await?);
            block_ask.push(ask(node, &echo).await?);
        }
        eprintln!(
            "  block {index}: p50 raw {:.0} µs, transport {:.0} µs, ask {:.0} µs",
            p50_p99(block_raw.clone()).0,
            p50_p99(block_transport.clone()).0,
            p50_p99(block_ask.clone()).0,
        );
        raw_samples.extend(block_raw);
        transport_samples.extend(block_transport);
        ask_samples.extend(block_ask);
    }
    transport.shutdown().await;
    Ok(Latency {
        round_trips: block * BLOCKS,
        raw: p50_p99(raw_samples),
        transport: p50_p99(transport_samples),
        ask: p50_p99(ask_samples),
    })
}

/// One ask with a 64-byte body: how long it took.
async fn ask(node: &Node, echo: &Address) -> Result<Duration> {
    let started = Instant::now();
    let reply: Echoed = node.ask(echo.clone(), Echo(vec![7; PAYLOAD])).await?;
    let took = started.elapsed();
    ensure!(
        reply.0.len() == PAYLOAD,
        "the echo answered {} bytes",
        reply.0.len()
    );
    Ok(took)
}

fn p50_p99(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort_unstable();
    let micros = |at: Duration| at.as_secs_f64() * 1e6;
    (
        micros(percentile(&samples, 0.50)),
        micros(percentile(&samples, 0.99)),
    )
}
