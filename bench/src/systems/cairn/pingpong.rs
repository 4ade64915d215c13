//! Ping-pong between two players, on two shards or on one.

use std::time::Instant;

use anyhow::{Context, Result};
use cairn::prelude::*;

use super::functions::{set_completion, start_node, Ball, Partner, Player};
use crate::{completion::Completion, measurement::Sample, runtime};

/// Where the two players live.
#[derive(Clone, Copy, Debug)]
pub(super) enum Placement {
    DifferentShards,
    SameShard,
}

/// Passes the ball `messages` times between two players.
pub(super) fn run(messages: u64, placement: Placement) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let node = start_node().await?;
        let a = Address::of::<Player>("a");
        let b = partner_of(&node, &a, placement)?;
        node.send(a.clone(), Partner(b.clone()))?;
        node.send(b.clone(), Partner(a.clone()))?;
        node.flush().await?;

        let done = Completion::new(1);
        set_completion(done.clone());
        let start = Instant::now();
        node.send(a, Ball(messages))?;
        done.wait().await?;
        let elapsed = start.elapsed();
        node.shutdown().await;
        Ok(Sample::throughput(messages, elapsed))
    })
}

/// The first player id `b0`, `b1`, … placed as asked relative to `a`.
fn partner_of(node: &Node, a: &Address, placement: Placement) -> Result<Address> {
    let shards = node.shard_count();
    (0..10_000u32)
        .map(|n| Address::of::<Player>(format!("b{n}")))
        .find(|b| match placement {
            Placement::DifferentShards => b.shard(shards) != a.shard(shards),
            Placement::SameShard => b.shard(shards) == a.shard(shards),
        })
        .context("no partner id lands where asked")
}
