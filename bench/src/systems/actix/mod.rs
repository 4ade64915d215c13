//! `actix` 0.13: `do_send` for tells, `send().await` for asks.
//!
//! Each run is an `actix::System` with two arbiters (event-loop threads): the
//! system arbiter, which also runs the driver, and one extra arbiter. That is
//! two threads in all, like the 2-worker tokio runtime of the other systems.

mod activate;
mod arbiters;
mod ask;
mod fanout;
mod pingpong;

use anyhow::Result;

use crate::{measurement::Sample, workloads::Workload};

/// Runs one workload; the same-shard ping-pong keeps both actors on one arbiter.
pub(crate) fn run(workload: Workload, count: u64) -> Result<Sample> {
    match workload {
        Workload::Pingpong => pingpong::run(count, false),
        Workload::PingpongSameShard => pingpong::run(count, true),
        Workload::Fanout => fanout::run(count),
        Workload::Activate => activate::run(count),
        Workload::Ask => ask::run(count),
    }
}
