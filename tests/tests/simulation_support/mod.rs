//! The harness of the cluster simulation: real members (`Node`s with their
//! coordinator, generations and store) on one in-memory network, a paced
//! bank workload, the faults a seed chooses, and the invariants checked
//! once everything is healed.
//!
//! - `schedule`: what a seed injects.
//! - `faults`: injecting each fault and waiting for the cluster to absorb it.
//! - `workload`: the bank files read as durable ingress.
//! - `invariants`: the store-side checks.
//! - `protocol_errors`: the shards' protocol-error counter.

mod faults;
mod invariants;
mod protocol_errors;
mod schedule;
mod workload;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use cairn::http::views::{ClusterView, MemberStatus};
use cairn::transport::MemoryNetwork;
use cairn::{Address, ClusterSettings, Node, SimulatedNetwork};
use cairn_persistence::{Store, StoreOptions};
use cairn_tests::functions::{Account, Balance};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::time::Instant;

use invariants::Zombie;
use schedule::Schedule;
use workload::{Workload, ACCOUNTS};

/// Shards of the simulated cluster.
const SHARDS: u32 = 8;
/// How long any wait may take before the run is declared hung: far above
/// what the cluster needs, not a performance bound.
const PATIENCE: Duration = Duration::from_secs(90);
/// Liveness (SNAPSHOTS §5 invariant 9): an epoch commits within this once
/// the faults stop. Far above need: recovery and a commit take seconds.
const LIVENESS_BOUND: Duration = Duration::from_secs(60);
/// How long each split of the workload waits before each record while
/// faults are injected.
const PACE: Duration = Duration::from_millis(80);

/// The address of member slot `slot` (1 to 4) on the simulated network.
fn address(slot: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, slot], 7000))
}

/// Every address a member may have: three founders and one joiner.
fn all_addresses() -> Vec<SocketAddr> {
    (1..=4).map(address).collect()
}

/// One seeded run.
pub(crate) struct Sim {
    seed: u64,
    network: SimulatedNetwork,
    store_url: String,
    store: Store,
    workload: Workload,
    members: BTreeMap<SocketAddr, Node>,
    zombies: Vec<Zombie>,
    rng: StdRng,
    started: Instant,
    _dir: tempfile::TempDir,
}

/// Runs `seed`'s schedule and checks every invariant; panics (after
/// printing the seed and schedule) on a violation.
pub(crate) async fn simulate(seed: u64) {
    protocol_errors::install_recorder();
    let schedule = Schedule::of(seed);
    println!("seed {seed}: {schedule:?}");
    let errors_before = protocol_errors::protocol_errors();
    let mut sim = Sim::start(seed, &schedule).await;
    for fault in &schedule.faults {
        sim.inject(*fault).await;
    }
    sim.finish().await;
    let errors = protocol_errors::protocol_errors() - errors_before;
    assert_eq!(
        errors, 0,
        "seed {seed}: shards found {errors} protocol errors (FIFO or markers); see the log"
    );
    sim.stop().await;
    println!("seed {seed}: passed in {:?}", sim.started.elapsed());
}

impl Sim {
    async fn start(seed: u64, schedule: &Schedule) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store_dir = dir.path().join("store");
        std::fs::create_dir_all(&store_dir).expect("store dir");
        let store_url = format!("fs://{}", store_dir.display());
        let network = SimulatedNetwork {
            transport: MemoryNetwork::new(seed, schedule.network.clone()),
            gossip: cairn::membership::GossipNetwork::new(),
        };
        let mut sim = Self {
            seed,
            network,
            store: Store::open(&store_url, StoreOptions::default()).expect("open the store"),
            store_url,
            workload: Workload::write(dir.path(), seed, PACE),
            members: BTreeMap::new(),
            zombies: Vec::new(),
            rng: StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            started: Instant::now(),
            _dir: dir,
        };
        let founders = [address(1), address(2), address(3)];
        let nodes = futures_join(founders.map(|at| sim.member(at))).await;
        sim.members.extend(founders.into_iter().zip(nodes));
        sim.step("three members started");
        sim.settle().await;
        sim
    }

    /// Prints a step of the run with the time since the start.
    fn step(&self, what: &str) {
        println!(
            "seed {} +{:.1}s: {what}",
            self.seed,
            self.started.elapsed().as_secs_f64()
        );
    }

    /// Starts a member at `at`, joining through the founders.
    fn member(&self, at: SocketAddr) -> impl std::future::Future<Output = Node> {
        let seeds: Vec<String> = (1..=3).map(|slot| address(slot).to_string()).collect();
        let mut builder = Node::builder()
            .register::<Account>()
            .shards(SHARDS)
            .store(self.store_url.clone())
            .snapshot_interval(Some(Duration::from_millis(300)))
            // Keep every commit, so the checker audits them all.
            .keep_snapshots(100_000, Duration::from_secs(3600))
            .cluster(
                ClusterSettings::new(at, seeds)
                    .with_cluster_id("simulation")
                    .with_simulated_network(self.network.clone()),
            );
        for ingress in self.workload.ingresses() {
            builder = builder.ingress(ingress);
        }
        async move { builder.start().await.expect("the member joins") }
    }

    /// `at`'s view of the cluster.
    fn view(&self, at: SocketAddr) -> ClusterView {
        self.members[&at].cluster_view().expect("a member")
    }

    /// Whether every member runs one generation spanning exactly the
    /// members, sees them all alive and agrees on the coordinator.
    fn converged(&self) -> bool {
        let names: std::collections::BTreeSet<String> =
            self.members.keys().map(ToString::to_string).collect();
        let views: Vec<ClusterView> = self.members.keys().map(|at| self.view(*at)).collect();
        let first = &views[0];
        views.iter().all(|view| {
            let owners: std::collections::BTreeSet<String> =
                view.shard_owners.iter().cloned().collect();
            let alive: std::collections::BTreeSet<String> = view
                .members
                .iter()
                .filter(|member| member.status == MemberStatus::Alive)
                .map(|member| member.id.clone())
                .collect();
            view.generation.is_some()
                && view.generation == first.generation
                && view.shard_owners == first.shard_owners
                && view.coordinator == first.coordinator
                && owners == names
                && alive == names
        })
    }

    /// Waits until the members converge.
    async fn settle(&mut self) {
        self.wait_for("the members to converge", |sim| sim.converged())
            .await;
        self.step(&format!(
            "converged: coordinator {}, generation {:?}",
            self.coordinator(),
            self.view(self.coordinator()).generation
        ));
    }

    /// The coordinator, as the first member sees it.
    fn coordinator(&self) -> SocketAddr {
        let at = *self.members.keys().next().expect("a member");
        self.view(at).coordinator.parse().expect("an address")
    }

    /// `of`'s incarnation as another member (or itself) sees it.
    fn incarnation(&self, of: SocketAddr) -> Option<u64> {
        self.members.keys().find_map(|at| {
            self.view(*at)
                .members
                .into_iter()
                .find(|member| member.id == of.to_string())
                .and_then(|member| member.incarnation)
        })
    }

    /// Polls `condition` until it holds; panics after [`PATIENCE`].
    async fn wait_for(&self, what: &str, mut condition: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !condition(self) {
            assert!(
                Instant::now() < deadline,
                "seed {}: hung waiting for {what}",
                self.seed
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first epoch number without a manifest.
    async fn next_epoch(&self) -> u64 {
        self.store.next_epoch().await.expect("list the epochs")
    }

    /// Waits until an epoch at or above `epoch` is committed, up to `bound`.
    async fn committed_from(&self, epoch: u64, bound: Duration) -> u64 {
        let deadline = Instant::now() + bound;
        loop {
            let latest = self.store.latest_committed().await.expect("read the store");
            if let Some(manifest) = latest.filter(|manifest| manifest.epoch >= epoch) {
                return manifest.epoch;
            }
            assert!(
                Instant::now() < deadline,
                "seed {}: no epoch from {epoch} on committed within {bound:?} (liveness)",
                self.seed
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every balance, asked through `via`; `None` if an ask failed (the
    /// cluster was moving to a new generation: ask again).
    async fn balances(&self, via: &Node) -> Option<Vec<i64>> {
        let mut balances = Vec::with_capacity(ACCOUNTS as usize);
        for account in 0..ACCOUNTS {
            balances.push(
                via.ask(Address::of::<Account>(account), Balance)
                    .await
                    .ok()?,
            );
        }
        Some(balances)
    }

    /// Heals everything, then checks liveness, the balances and the store.
    async fn finish(&mut self) {
        self.network
            .transport
            .set_faults(cairn::transport::Faults::none());
        let healed = Instant::now();
        let from = self.next_epoch().await;
        let committed = self.committed_from(from, LIVENESS_BOUND).await;
        self.step(&format!(
            "faults stopped; epoch {committed} committed {:?} later",
            healed.elapsed()
        ));
        self.workload.unpace();
        let deadline = Instant::now() + PATIENCE;
        let via = self.members.values().next().expect("a member").clone();
        loop {
            let balances = self.balances(&via).await;
            if balances.as_deref() == Some(&self.workload.expected[..]) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "seed {}: balances {balances:?} never became {:?} (live conservation, exactly-once)",
                self.seed,
                self.workload.expected
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        self.step("every balance exact");
        // A commit begun once every record took effect holds all of them.
        let from = self.next_epoch().await;
        let last = self.committed_from(from, LIVENESS_BOUND).await;
        let epochs = invariants::check_store(&self.store_url, &self.workload, &self.zombies).await;
        let audit = cairn_tests::checker::audit(&self.store_url)
            .await
            .into_iter()
            .find(|audit| audit.epoch == last)
            .expect("the last commit is audited");
        assert_eq!(
            (audit.balances, audit.in_flight, audit.queued_deposits),
            (self.workload.total_deposits(), 0, 0),
            "seed {}: epoch {last} does not hold the finished workload",
            self.seed
        );
        self.step(&format!("{epochs} committed epochs checked"));
    }

    /// Stops every member.
    async fn stop(&mut self) {
        for (_, node) in std::mem::take(&mut self.members) {
            node.crash().await;
        }
    }
}

/// Awaits three futures at once.
async fn futures_join<F: std::future::Future>([a, b, c]: [F; 3]) -> [F::Output; 3] {
    let (a, b, c) = tokio::join!(a, b, c);
    [a, b, c]
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .field("members", &self.members.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
