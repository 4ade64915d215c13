//! `tokio-mpsc`: a hand-rolled floor where each "actor" is a tokio task that
//! owns an unbounded channel, on a 2-worker multi-thread runtime.

mod activate;
mod ask;
mod fanout;
mod pingpong;

use anyhow::Result;

use crate::{measurement::Sample, workloads::Workload};

/// Runs one workload; tasks have no notion of shard, so both ping-pongs are the same.
pub(crate) fn run(workload: Workload, count: u64) -> Result<Sample> {
    match workload {
        Workload::Pingpong | Workload::PingpongSameShard => pingpong::run(count),
        Workload::Fanout => fanout::run(count),
        Workload::Activate => activate::run(count),
        Workload::Ask => ask::run(count),
    }
}
