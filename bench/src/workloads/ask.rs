//! Shared pieces of the `ask` workload: the timed request loop and its latency figures.

use std::{future::Future, time::Instant};

use anyhow::{ensure, Result};

use crate::measurement::Sample;

/// A client of one echo actor that answers `value + 1`.
pub(crate) trait Asker {
    /// Sends `value` as a request and waits for the reply.
    fn ask(&mut self, value: u64) -> impl Future<Output = Result<u64>> + Send;
}

/// Latency figures of an `ask` run.
#[derive(Clone, Debug)]
pub(crate) struct LatencySummary {
    /// Timed span divided by the number of asks.
    pub(crate) mean_ns: f64,
    /// Median of the per-ask round trips.
    pub(crate) p50_ns: u64,
    /// 99th percentile of the per-ask round trips.
    pub(crate) p99_ns: u64,
}

/// The outcome of [`measure`].
#[derive(Debug)]
pub(crate) struct AskRun {
    /// Wall-clock span of all asks.
    pub(crate) elapsed: std::time::Duration,
    /// Latency figures.
    pub(crate) latency: LatencySummary,
}

impl AskRun {
    /// The sample a system returns for `asks` requests.
    pub(crate) fn into_sample(self, asks: u64) -> Sample {
        Sample::throughput(asks, self.elapsed).with_latency(self.latency)
    }
}

/// Issues `asks` sequential requests, checks every reply, and times each one.
pub(crate) async fn measure<A: Asker>(asker: &mut A, asks: u64) -> Result<AskRun> {
    let mut samples = Vec::with_capacity(usize::try_from(asks)?);
    let start = Instant::now();
    for value in 0..asks {
        let sent = Instant::now();
        let reply = asker.ask(value).await?;
        samples.push(sent.elapsed().as_nanos() as u64);
        ensure!(reply == value + 1, "ask {value} got reply {reply}");
    }
    let elapsed = start.elapsed();
    let mean_ns = elapsed.as_nanos() as f64 / asks.max(1) as f64;
    Ok(AskRun {
        elapsed,
        latency: LatencySummary {
            mean_ns,
            p50_ns: percentile(&mut samples, 50),
            p99_ns: percentile(&mut samples, 99),
        },
    })
}

/// The `pct`-th percentile (nearest rank) of `samples`, reordering them.
fn percentile(samples: &mut [u64], pct: usize) -> u64 {
    if samples.is_empty() {
        return 0;
    }
    let rank = (samples.len() * pct).div_ceil(100).clamp(1, samples.len()) - 1;
    *samples.select_nth_unstable(rank).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_uses_nearest_rank() {
        let mut samples: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut samples, 50), 50);
        assert_eq!(percentile(&mut samples, 99), 99);
        assert_eq!(percentile(&mut [], 99), 0);
    }
}
