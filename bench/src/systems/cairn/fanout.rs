//! Fanout from one driver actor to 1,000 sinks, then a flush and a check.

use std::time::Instant;

use anyhow::Result;
use cairn::prelude::*;

use super::functions::{start_node, FanoutDriver, GetSum, Sink, StartFanout};
use crate::{
    measurement::Sample,
    runtime,
    workloads::fanout::{check_total, RECEIVERS},
};

/// Sends `messages` values, waits until all are handled, and checks the sum.
pub(super) fn run(messages: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let node = start_node().await?;
        let start = Instant::now();
        node.send(
            Address::of::<FanoutDriver>("driver"),
            StartFanout {
                total: messages,
                receivers: RECEIVERS as u64,
            },
        )?;
        node.flush().await?;
        let mut total = 0u64;
        for receiver in 0..RECEIVERS as u64 {
            let sum: u64 = node.ask(Address::of::<Sink>(receiver), GetSum).await?;
            total = total.wrapping_add(sum);
        }
        let elapsed = start.elapsed();
        check_total(messages, total)?;
        node.shutdown().await;
        Ok(Sample::throughput(messages, elapsed))
    })
}
