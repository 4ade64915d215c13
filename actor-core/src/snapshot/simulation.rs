//! A seeded simulation of shards exchanging money over FIFO channels while
//! snapshots are taken, driving only [`SnapshotProcess`]: every snapshot
//! must conserve the money (SNAPSHOTS §5 invariant 1) and satisfy the
//! consistent-cut identity on every channel (invariant 4).

use std::collections::VecDeque;

use proptest::prelude::*;

use super::process::{Epoch, SnapshotProcess};
use crate::address::ShardId;

/// What travels on a channel.
#[derive(Clone, Debug)]
enum Frame {
    /// A batch of transfers, each an amount.
    Batch {
        first_seq: u64,
        color: Epoch,
        amounts: Vec<u64>,
    },
    Marker {
        epoch: Epoch,
        cut_seq: u64,
    },
}

/// One simulated shard: a balance, its C-L process and what it recorded.
struct SimShard {
    balance: u64,
    process: SnapshotProcess,
    next_seq: Vec<u64>,
    /// The snapshot being assembled: (epoch, recorded balance, logged amounts).
    recording: Option<(Epoch, u64, u64)>,
    /// Finished snapshots: (epoch, balance, logged amounts, channel cuts ok).
    done: Vec<(Epoch, u64, u64)>,
}

struct Simulation {
    shards: Vec<SimShard>,
    /// `channels[from][to]`, FIFO.
    channels: Vec<Vec<VecDeque<Frame>>>,
}

impl Simulation {
    fn new(shards: usize, balance: u64) -> Self {
        Self {
            shards: (0..shards)
                .map(|index| SimShard {
                    balance,
                    process: SnapshotProcess::new(ShardId(index as u32), 0, vec![0; shards]),
                    next_seq: vec![1; shards],
                    recording: None,
                    done: Vec::new(),
                })
                .collect(),
            channels: vec![vec![VecDeque::new(); shards]; shards],
        }
    }

    /// Shard `at` records `epoch`: its balance, then markers on every
    /// outgoing channel before any further send (rule 5).
    fn record(&mut self, at: usize, epoch: Epoch) {
        let shard = &mut self.shards[at];
        shard.recording = Some((epoch, shard.balance, 0));
        for to in 0..self.channels.len() {
            if to != at {
                let cut_seq = shard.next_seq[to] - 1;
                self.channels[at][to].push_back(Frame::Marker { epoch, cut_seq });
            }
        }
        self.finish_if_complete(at);
    }

    fn finish_if_complete(&mut self, at: usize) {
        let shard = &mut self.shards[at];
        if !shard.process.is_recording() {
            if let Some(snapshot) = shard.recording.take() {
                for cut in shard.process.cuts() {
                    assert!(cut.cut_seq >= cut.delivered_at_snapshot);
                }
                shard.done.push(snapshot);
            }
        }
    }

    fn send(&mut self, from: usize, to: usize, amount: u64) {
        let shard = &mut self.shards[from];
        let amount = amount.min(shard.balance);
        shard.balance -= amount;
        let first_seq = shard.next_seq[to];
        shard.next_seq[to] += 1;
        let color = shard.process.color();
        self.channels[from][to].push_back(Frame::Batch {
            first_seq,
            color,
            amounts: vec![amount],
        });
    }

    fn start(&mut self, at: usize, epoch: Epoch) {
        if let Some(epoch) = self.shards[at].process.on_start(epoch) {
            self.record(at, epoch);
        }
    }

    /// Delivers the head frame of channel `from → to`, if any.
    fn deliver(&mut self, from: usize, to: usize) {
        let Some(frame) = self.channels[from][to].pop_front() else {
            return;
        };
        let source = ShardId(from as u32);
        match frame {
            Frame::Batch {
                first_seq,
                color,
                amounts,
            } => {
                let decision = self.shards[to]
                    .process
                    .on_batch(source, first_seq, amounts.len(), color)
                    .expect("protocol holds");
                if let Some(epoch) = decision.snapshot_first {
                    self.record(to, epoch);
                }
                let logged: u64 = amounts[..decision.log_count].iter().sum();
                let shard = &mut self.shards[to];
                if let Some((_, _, log)) = shard.recording.as_mut() {
                    *log += logged;
                } else {
                    assert_eq!(logged, 0, "logging only while recording");
                }
                shard.balance += amounts.iter().sum::<u64>();
                if decision.closes {
                    self.finish_if_complete(to);
                }
            }
            Frame::Marker { epoch, cut_seq } => {
                let decision = self.shards[to]
                    .process
                    .on_marker(source, epoch, cut_seq)
                    .expect("protocol holds");
                if let Some(epoch) = decision.snapshot_first {
                    self.record(to, epoch);
                }
                if decision.closes {
                    self.finish_if_complete(to);
                }
            }
        }
    }

    fn drain(&mut self) {
        let n = self.channels.len();
        while self.channels.iter().flatten().any(|c| !c.is_empty()) {
            for from in 0..n {
                for to in 0..n {
                    self.deliver(from, to);
                }
            }
        }
    }
}

/// A step of the simulation, drawn by proptest.
#[derive(Clone, Debug)]
enum Step {
    Send { from: usize, to: usize, amount: u64 },
    Deliver { from: usize, to: usize },
    Start { at: usize },
}

fn step(shards: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..shards, 0..shards, 1..50u64).prop_map(|(from, to, amount)| Step::Send { from, to, amount }),
        6 => (0..shards, 0..shards).prop_map(|(from, to)| Step::Deliver { from, to }),
        1 => (0..shards).prop_map(|at| Step::Start { at }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Every completed epoch, summed over all shards, holds exactly the
    /// money in the system: balances at each shard's cut plus the transfers
    /// logged as in flight on its incoming channels.
    #[test]
    fn every_snapshot_conserves_money(
        steps in prop::collection::vec(step(4), 1..400),
    ) {
        let shards = 4;
        let total = 1_000 * shards as u64;
        let mut sim = Simulation::new(shards, 1_000);
        let mut next_epoch = 1;
        for step in steps {
            match step {
                Step::Send { from, to, amount } if from != to => sim.send(from, to, amount),
                Step::Send { .. } => {}
                Step::Deliver { from, to } => sim.deliver(from, to),
                Step::Start { at } => {
                    // At most one epoch is open at a time (SNAPSHOTS §2): the
                    // coordinator starts the next only once all are done.
                    let all_done = sim.shards.iter().all(|s| s.recording.is_none());
                    let all_recorded = sim.shards.iter().all(|s| s.process.color() + 1 == next_epoch);
                    if all_done && (next_epoch == 1 || all_recorded) {
                        sim.start(at, next_epoch);
                        next_epoch += 1;
                    }
                }
            }
        }
        sim.drain();
        for epoch in 1..next_epoch {
            let parts: Vec<_> = sim
                .shards
                .iter()
                .map(|shard| shard.done.iter().find(|(e, _, _)| *e == epoch).copied())
                .collect();
            prop_assert!(parts.iter().all(Option::is_some), "epoch {} incomplete", epoch);
            let recorded: u64 = parts.iter().flatten().map(|(_, balance, log)| balance + log).sum();
            prop_assert_eq!(recorded, total, "epoch {} does not conserve money", epoch);
        }
        let live: u64 = sim.shards.iter().map(|s| s.balance).sum();
        prop_assert_eq!(live, total);
    }
}
