//! The workloads, their counts, and helpers shared by every system.

pub(crate) mod ask;
pub(crate) mod fanout;

use clap::ValueEnum;

pub(crate) use cairn_bench::TURN;

/// One benchmark scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub(crate) enum Workload {
    /// Two actors placed as the framework places them pass one message back and forth.
    Pingpong,
    /// The same ping-pong with both actors on one shard (where the framework has shards).
    PingpongSameShard,
    /// One driver tells 1,000 receivers round-robin, then flushes and checks their sums.
    Fanout,
    /// Create many actors and deliver one message to each.
    Activate,
    /// Sequential request/response round trips to one actor.
    Ask,
}

impl Workload {
    /// Every workload, in report order.
    pub(crate) const ALL: [Self; 5] = [
        Self::Pingpong,
        Self::PingpongSameShard,
        Self::Fanout,
        Self::Activate,
        Self::Ask,
    ];

    /// The name used on the command line and in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Pingpong => "pingpong",
            Self::PingpongSameShard => "pingpong_same_shard",
            Self::Fanout => "fanout",
            Self::Activate => "activate",
            Self::Ask => "ask",
        }
    }

    /// Messages (pingpong, fanout), actors (activate) or asks (ask) at scale 1.0.
    fn base_count(self) -> u64 {
        match self {
            Self::Pingpong | Self::PingpongSameShard | Self::Activate | Self::Ask => 1_000_000,
            Self::Fanout => 10_000_000,
        }
    }

    /// The count for this run: the base count times `scale`, at least 1.
    pub(crate) fn count(self, scale: f64) -> u64 {
        ((self.base_count() as f64) * scale).round().max(1.0) as u64
    }

    /// Whether the median run is the one with the median latency rather than throughput.
    pub(crate) fn ranks_by_latency(self) -> bool {
        self == Self::Ask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_scale_and_never_reach_zero() {
        assert_eq!(Workload::Fanout.count(1.0), 10_000_000);
        assert_eq!(Workload::Ask.count(0.1), 100_000);
        assert_eq!(Workload::Activate.count(1e-9), 1);
    }
}
