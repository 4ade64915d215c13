//! `kameo` 0.22: `tell` for tells, `ask` for asks, on a 2-worker tokio runtime.
//!
//! Actors get unbounded mailboxes, like every other system here, so a tell is
//! kameo's synchronous `try_send` fast path and never waits for capacity.

mod activate;
mod ask;
mod fanout;
mod pingpong;

use anyhow::Result;

use crate::{measurement::Sample, workloads::Workload};

/// Runs one workload; kameo has no notion of shard, so both ping-pongs are the same.
pub(crate) fn run(workload: Workload, count: u64) -> Result<Sample> {
    match workload {
        Workload::Pingpong | Workload::PingpongSameShard => pingpong::run(count),
        Workload::Fanout => fanout::run(count),
        Workload::Activate => activate::run(count),
        Workload::Ask => ask::run(count),
    }
}
