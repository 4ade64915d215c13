//! Injecting each fault of a schedule, and waiting until the cluster has
//! absorbed it: the others moved on without the faulty member, and it came
//! back as a new incarnation.

use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::invariants::Zombie;
use super::schedule::Fault;
use super::{all_addresses, Sim};

/// How a member is cut off briefly.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// Transport and gossip, both ways.
    Both,
    /// Only the gossip it sends: it still hears the others, and the
    /// transport stays up.
    GossipFromIt,
}

/// How long a cut member stays cut at least: past the others' failure
/// detection (at most 4.4 s) and then past its own finding that it lost
/// the majority (as long again), so it rejoins as a new incarnation.
const CUT_AT_LEAST: Duration = Duration::from_secs(10);

impl Sim {
    /// Injects `fault` and waits until the cluster has absorbed it.
    pub(super) async fn inject(&mut self, fault: Fault) {
        // Let the workload run a little between faults.
        let pause = Duration::from_millis(self.rng.random_range(500..2_000));
        tokio::time::sleep(pause).await;
        match fault {
            Fault::Partition => {
                let coordinator = self.coordinator();
                let target = self.pick(|at| at != coordinator);
                self.cut_off(target, "partitioned").await;
            }
            Fault::CrashAndReplace => {
                let target = self.pick(|_| true);
                let before = self.incarnation(target);
                self.step(&format!("crashing {target} (incarnation {before:?})"));
                let node = self.members.remove(&target).expect("a member");
                node.crash().await;
                self.wait_for("the others to move on without the crashed member", |sim| {
                    sim.runs_without(target)
                })
                .await;
                self.step(&format!("the others moved on; starting a new {target}"));
                let node = self.member(target).await;
                self.members.insert(target, node);
                self.settle().await;
                self.assert_newer(target, before);
            }
            Fault::IsolateCoordinator => {
                let target = self.coordinator();
                let zombie = Zombie {
                    incarnation: self
                        .incarnation(target)
                        .expect("the coordinator's incarnation"),
                    generation: self.view(target).generation.expect("a generation"),
                    after_epoch: self.next_epoch().await,
                };
                self.step(&format!("cutting off the coordinator: {zombie:?}"));
                self.zombies.push(zombie);
                self.cut_off(target, "isolated coordinator").await;
            }
            Fault::ShortPartition => {
                let coordinator = self.coordinator();
                let target = self.pick(|at| at != coordinator);
                self.cut_briefly(target, Cut::Both).await;
            }
            Fault::UnheardMember => {
                let coordinator = self.coordinator();
                let target = self.pick(|at| at != coordinator);
                self.cut_briefly(target, Cut::GossipFromIt).await;
            }
            Fault::JoinThenLeave => {
                let joiner = *all_addresses()
                    .iter()
                    .find(|at| !self.members.contains_key(at))
                    .expect("a free address");
                self.step(&format!("{joiner} joins"));
                let node = self.member(joiner).await;
                self.members.insert(joiner, node);
                self.settle().await;
                let leaver = self.pick(|at| at != joiner);
                self.step(&format!("{leaver} leaves gracefully"));
                let node = self.members.remove(&leaver).expect("a member");
                node.shutdown().await;
                self.settle().await;
            }
        }
    }

    /// A member for which `eligible` holds, chosen by the seed.
    fn pick(&mut self, eligible: impl Fn(SocketAddr) -> bool) -> SocketAddr {
        let candidates: Vec<SocketAddr> = self
            .members
            .keys()
            .copied()
            .filter(|at| eligible(*at))
            .collect();
        candidates[self.rng.random_range(0..candidates.len())]
    }

    /// Cuts `target` off from every other address, transport and gossip,
    /// until the others run without it and at least [`CUT_AT_LEAST`] plus
    /// a seeded margin has passed; then heals it and waits until it is back
    /// as a new incarnation.
    async fn cut_off(&mut self, target: SocketAddr, why: &str) {
        let before = self.incarnation(target);
        let hold = CUT_AT_LEAST + Duration::from_millis(self.rng.random_range(0..2_000));
        let cut_at = Instant::now();
        self.isolate(target, true).await;
        self.step(&format!(
            "{why}: {target} cut off for {hold:?} (incarnation {before:?})"
        ));
        self.wait_for("the others to move on without the cut-off member", |sim| {
            sim.runs_without(target)
        })
        .await;
        self.step("the others moved on");
        tokio::time::sleep_until(cut_at + hold).await;
        self.isolate(target, false).await;
        self.step(&format!("{target} healed"));
        self.settle().await;
        self.assert_newer(target, before);
    }

    /// Cuts `target` off from every other address (`how`) until the
    /// others run without it, then heals it at once and waits until the
    /// cluster has converged with it back, in the same incarnation or a
    /// newer one.
    async fn cut_briefly(&mut self, target: SocketAddr, how: Cut) {
        let before = self.incarnation(target);
        match how {
            Cut::Both => self.isolate(target, true).await,
            Cut::GossipFromIt => {
                for other in all_addresses().into_iter().filter(|at| *at != target) {
                    self.network.gossip.cut_one_way(target, other);
                }
            }
        }
        self.step(&format!(
            "briefly partitioned ({how:?}): {target} cut off (incarnation {before:?})"
        ));
        self.wait_for("the others to move on without the cut-off member", |sim| {
            sim.runs_without(target)
        })
        .await;
        self.isolate(target, false).await;
        self.step(&format!("the others moved on; {target} healed at once"));
        self.settle().await;
        let after = self.incarnation(target);
        assert!(
            after >= before,
            "seed {}: {target} is back as incarnation {after:?}, older than {before:?}",
            self.seed
        );
        let life = if after == before { "the same" } else { "a new" };
        self.step(&format!("{target} is back in {life} incarnation {after:?}"));
    }

    /// Cuts `target` off from every other address (`cut`), or heals it
    /// (both ways, whichever way it was cut).
    async fn isolate(&self, target: SocketAddr, cut: bool) {
        for other in all_addresses().into_iter().filter(|at| *at != target) {
            if cut {
                self.network.cut(target, other).await;
            } else {
                self.network.heal(target, other).await;
            }
        }
    }

    /// Whether every member but `target` runs a generation that gives
    /// `target` no shard.
    fn runs_without(&self, target: SocketAddr) -> bool {
        let name = target.to_string();
        self.members.keys().filter(|at| **at != target).all(|at| {
            let view = self.view(*at);
            view.generation.is_some() && !view.shard_owners.contains(&name)
        })
    }

    /// Checks that `target` came back as a newer incarnation than `before`.
    fn assert_newer(&self, target: SocketAddr, before: Option<u64>) {
        let after = self.incarnation(target);
        assert!(
            after > before,
            "seed {}: {target} is back as incarnation {after:?}, not newer than {before:?}",
            self.seed
        );
        self.step(&format!("{target} is back as incarnation {after:?}"));
    }
}
