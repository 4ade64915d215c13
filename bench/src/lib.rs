//! What the benchmark binaries share: the stateful functions of the fanout
//! workload, which both the comparison (`cairn-bench`) and the snapshot
//! costs (`snapshots`) run, and the percentile of latency samples that
//! `transport` and `cluster` report.

/// Every binary of this crate allocates with mimalloc: under glibc's
/// malloc, messages allocated on one shard's thread and freed on another
/// made actors on one node three times slower (`docs/design.md`,
/// "Allocator"). A binary gets it by naming this crate, as each does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Duration;

/// How many messages a sender sends per handler call (or between yields, for
/// the systems without handlers).
pub const TURN: u64 = 1_000;

/// The `q`-quantile (`0.0..=1.0`) of `sorted` samples, the nearest rank.
///
/// # Panics
/// If `sorted` is empty.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index]
}

/// The fanout workload's functions: one driver sends values round-robin to
/// many sinks.
pub mod fanout {
    use cairn::prelude::*;
    use serde::{Deserialize, Serialize};

    use super::TURN;

    /// A value for a sink to fold in.
    #[derive(Serialize, Deserialize)]
    pub struct Value(pub u64);

    /// Asks a sink for its sum.
    #[derive(Serialize, Deserialize)]
    pub struct GetSum;

    /// A fanout receiver: folds every value into its sum.
    #[stateful_function(name = "bench/sink")]
    #[derive(Default, Serialize, Deserialize)]
    pub struct Sink {
        sum: u64,
    }

    #[handlers]
    impl Sink {
        fn value(&mut self, _ctx: &mut Context, msg: Value) {
            self.sum = self.sum.wrapping_add(msg.0);
        }

        fn sum(&self, ctx: &mut Context, _msg: GetSum) {
            ctx.reply(self.sum);
        }
    }

    /// Starts a fanout driver: `total` values over `receivers` sinks.
    #[derive(Serialize, Deserialize)]
    pub struct StartFanout {
        /// How many values to send.
        pub total: u64,
        /// How many sinks, addressed `0..receivers`.
        pub receivers: u64,
    }

    /// A driver's next turn.
    #[derive(Serialize, Deserialize)]
    pub struct NextTurn;

    /// Sends values `0..total` round-robin to its sinks, [`TURN`] per handler call.
    #[stateful_function(name = "bench/fanout-driver")]
    #[derive(Default, Serialize, Deserialize)]
    pub struct FanoutDriver {
        next: u64,
        total: u64,
        receivers: Vec<Address>,
    }

    #[handlers]
    impl FanoutDriver {
        fn start(&mut self, ctx: &mut Context, msg: StartFanout) {
            self.total = msg.total;
            self.receivers = (0..msg.receivers).map(Address::of::<Sink>).collect();
            self.turn(ctx, NextTurn);
        }

        fn turn(&mut self, ctx: &mut Context, _msg: NextTurn) {
            let end = (self.next + TURN).min(self.total);
            let receivers = self.receivers.len() as u64;
            for value in self.next..end {
                let receiver = self.receivers[(value % receivers) as usize].clone();
                ctx.send(receiver, Value(value));
            }
            self.next = end;
            if self.next < self.total {
                let me = ctx.self_address().clone();
                ctx.send(me, NextTurn);
            }
        }
    }
}
