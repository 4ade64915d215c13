//! `cairn`: the workloads as stateful functions on a single Cairn node with
//! its default 64 shards, on the same 2-worker tokio runtime as the others.
//!
//! Drivers are actors too: they send through `ctx.send`, the public API a
//! Cairn application uses, in handler turns of at most [`TURN`] messages.
//!
//! [`TURN`]: crate::workloads::TURN

mod activate;
mod ask;
mod fanout;
mod functions;
mod pingpong;

use anyhow::Result;

use crate::{measurement::Sample, workloads::Workload};

/// Runs one workload.
pub(crate) fn run(workload: Workload, count: u64) -> Result<Sample> {
    match workload {
        Workload::Pingpong => pingpong::run(count, pingpong::Placement::DifferentShards),
        Workload::PingpongSameShard => pingpong::run(count, pingpong::Placement::SameShard),
        Workload::Fanout => fanout::run(count),
        Workload::Activate => activate::run(count),
        Workload::Ask => ask::run(count),
    }
}
