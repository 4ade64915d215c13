//! Two runtimes in one process, each running half of the shards, their
//! channels carried by a transport (the cluster data plane), and a bank
//! workload whose final balances are known in advance.

use std::sync::Arc;
use std::time::Duration;

use cairn::dataplane::{DataPlane, ReceiveLoop};
use cairn::membership::ShardMap;
use cairn::transport::{
    Events, Generation, NodeId, Secret, TcpTransport, Transport, TransportConfig,
};
use cairn::{
    Address, HandoffPlan, Placement, Registry, Runtime, RuntimeConfig, ShardCount, ShardId,
    ShardSnapshot, ShardStats, SnapshotLink,
};
use tokio::sync::mpsc;

use crate::functions::{Account, Balance, Deposit, Transfer};

/// Shards of the test cluster: 0–3 run on the first node, 4–7 on the second.
pub const SHARDS: u32 = 8;

/// How long the cluster may take to go quiet or finish an epoch before a
/// test fails: a bound on liveness, far above what a run needs.
const PATIENCE: Duration = Duration::from_secs(60);

/// Two nodes' runtimes and what connects them.
pub struct TwoNodes {
    /// The runtimes, first node first.
    pub runtimes: [Runtime; 2],
    /// Each node's snapshot parts, when started with snapshots.
    pub parts: Vec<mpsc::UnboundedReceiver<ShardSnapshot>>,
    loops: Vec<ReceiveLoop>,
    /// Each node's placement under another shard map, over its transport.
    placements: Vec<PlacementOf>,
    nodes: Vec<NodeId>,
}

/// A node's placement under a shard map.
type PlacementOf = Box<dyn Fn(&ShardMap) -> Placement + Send + Sync>;

/// Two TCP transports of cluster `cluster_id` on 127.0.0.1, sharing a
/// secret, and their configuration.
pub async fn tcp_pair(
    cluster_id: &str,
) -> (
    (TcpTransport, Events),
    (TcpTransport, Events),
    TransportConfig,
) {
    tcp_pair_with(TransportConfig::new(cluster_id).with_secret(Some(Secret::new("test")))).await
}

/// Two TCP transports on 127.0.0.1 with `config`, and that configuration.
pub async fn tcp_pair_with(
    config: TransportConfig,
) -> (
    (TcpTransport, Events),
    (TcpTransport, Events),
    TransportConfig,
) {
    let first = TcpTransport::bind("127.0.0.1:0", config.clone())
        .await
        .expect("bind");
    let second = TcpTransport::bind("127.0.0.1:0", config.clone())
        .await
        .expect("bind");
    (first, second, config)
}

impl TwoNodes {
    /// Starts a runtime on each transport, the first running shards 0–3
    /// and the second 4–7, with `Account` registered, and their receive
    /// loops.
    pub fn start<T: Transport>(
        first: (T, Events),
        second: (T, Events),
        config: &TransportConfig,
        snapshots: bool,
    ) -> Self {
        Self::start_with(first, second, config, snapshots, |registry, _| {
            registry.register::<Account>().expect("register");
        })
    }

    /// [`TwoNodes::start`], with `setup` registering each node's functions
    /// and adjusting its runtime's configuration.
    pub fn start_with<T: Transport>(
        first: (T, Events),
        second: (T, Events),
        config: &TransportConfig,
        snapshots: bool,
        setup: impl Fn(&mut Registry, &mut RuntimeConfig),
    ) -> Self {
        let count = ShardCount::new(SHARDS).expect("not zero");
        let owners = (0..SHARDS)
            .map(|shard| {
                if shard < SHARDS / 2 {
                    first.0.local_node().clone()
                } else {
                    second.0.local_node().clone()
                }
            })
            .collect();
        let map = ShardMap {
            generation: Generation(1),
            owners,
        };
        let mut runtimes = Vec::new();
        let mut parts = Vec::new();
        let mut loops = Vec::new();
        let mut placements: Vec<PlacementOf> = Vec::new();
        let mut nodes = Vec::new();
        for (transport, events) in [first, second] {
            nodes.push(transport.local_node().clone());
            let replan = {
                let (transport, config) = (transport.clone(), config.clone());
                move |map: &ShardMap| {
                    DataPlane::new(transport.clone(), map, count, &config)
                        .expect("the map fits")
                        .placement()
                }
            };
            placements.push(Box::new(replan));
            let plane = DataPlane::new(transport, &map, count, config).expect("the map fits");
            let mut registry = Registry::new();
            let mut runtime_config = RuntimeConfig {
                shard_count: count,
                ..RuntimeConfig::default()
            };
            setup(&mut registry, &mut runtime_config);
            let link = snapshots.then(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                parts.push(rx);
                SnapshotLink {
                    parts: tx,
                    restore: Vec::new(),
                    pressure: Arc::new(tokio::sync::Notify::new()),
                }
            });
            let runtime = Runtime::start_with(
                runtime_config,
                registry,
                Vec::new(),
                link,
                Vec::new(),
                plane.placement(),
            )
            .expect("the runtime starts");
            loops.push(ReceiveLoop::start(
                runtime.clone(),
                map.generation,
                events,
                None,
            ));
            runtimes.push(runtime);
        }
        let runtimes: [Runtime; 2] = runtimes.try_into().expect("two runtimes");
        Self {
            runtimes,
            parts,
            loops,
            placements,
            nodes,
        }
    }

    /// [`TwoNodes::start`] over an in-memory network with `faults`, seeded
    /// with `seed`, the nodes named `node-a` and `node-b`.
    pub fn over_memory(
        seed: u64,
        faults: cairn::transport::Faults,
        config: &TransportConfig,
        snapshots: bool,
    ) -> Self {
        let network = cairn::transport::MemoryNetwork::new(seed, faults);
        let first = network.endpoint(NodeId::new("node-a"), config.clone());
        let second = network.endpoint(NodeId::new("node-b"), config.clone());
        Self::start(first, second, config, snapshots)
    }

    /// Prepares both runtimes to move shards at the cut of `epoch` so that
    /// shard `s` runs on node `owner(s)` (0 or 1) afterwards.
    pub fn prepare_handoff(&self, epoch: u64, owner: impl Fn(u32) -> usize) -> Vec<HandoffPlan> {
        let map = ShardMap {
            generation: Generation(1),
            owners: (0..SHARDS)
                .map(|shard| self.nodes[owner(shard)].clone())
                .collect(),
        };
        self.runtimes
            .iter()
            .zip(&self.placements)
            .map(|(runtime, placement)| {
                runtime
                    .prepare_handoff(epoch, placement(&map))
                    .expect("the handoff is prepared")
            })
            .collect()
    }

    /// Waits for every shard's part of `epoch`, whichever node sends it,
    /// and returns each with the index of the node that sent it, in shard
    /// order.
    pub async fn collect_parts_anywhere(&mut self, epoch: u64) -> Vec<(usize, ShardSnapshot)> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut collected = Vec::new();
        while collected.len() < SHARDS as usize {
            let mut idle = true;
            for (node, parts) in self.parts.iter_mut().enumerate() {
                if let Ok(part) = parts.try_recv() {
                    assert_eq!(part.epoch, epoch, "one epoch at a time");
                    collected.push((node, part));
                    idle = false;
                }
            }
            if idle {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "epoch {epoch} did not finish: {} parts",
                    collected.len()
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        collected.sort_by_key(|(_, part)| part.shard);
        let shards: Vec<ShardId> = collected.iter().map(|(_, part)| part.shard).collect();
        assert_eq!(shards, (0..SHARDS).map(ShardId).collect::<Vec<_>>());
        collected
    }

    /// The runtime that runs `address`'s shard.
    pub fn owner_of(&self, address: &Address) -> &Runtime {
        let shard = address.shard(ShardCount::new(SHARDS).expect("not zero"));
        self.runtimes
            .iter()
            .find(|runtime| runtime.owns(shard))
            .expect("every shard runs somewhere")
    }

    /// Waits until the two nodes together have handled `expected`
    /// messages and every message sent between shards has been received.
    /// Panics if that takes longer than a minute.
    pub async fn quiesce(&self, expected: u64) {
        quiesce(&self.runtimes, expected).await;
    }

    /// Waits for every shard's part of `epoch` from both nodes and
    /// returns them in shard order.
    pub async fn collect_parts(&mut self, epoch: u64) -> Vec<ShardSnapshot> {
        collect_parts(&mut self.parts, SHARDS, epoch).await
    }

    /// Every account's balance, asked of the node that runs it.
    pub async fn balances(&self, accounts: u64) -> Vec<i64> {
        let mut balances = Vec::new();
        for id in 0..accounts {
            let address = Address::of::<Account>(id);
            let balance: i64 = self
                .owner_of(&address)
                .ask(address.clone(), Balance)
                .await
                .expect("the account answers");
            balances.push(balance);
        }
        balances
    }

    /// Stops the receive loops and the runtimes.
    pub async fn shutdown(self) {
        for receive in self.loops {
            receive.stop().await;
        }
        for runtime in &self.runtimes {
            runtime.shutdown().await;
        }
    }
}

/// Waits until `runtimes` together have handled `expected` messages and
/// every message sent between shards has been received. Panics if that
/// takes longer than a minute.
pub async fn quiesce(runtimes: &[Runtime], expected: u64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut handled = 0;
        let mut sent = 0;
        let mut received = 0;
        for runtime in runtimes {
            for stats in runtime.shard_stats().await.expect("stats") {
                handled += stats.messages_handled;
                sent += stats.messages_sent_to_shards;
                received += stats.messages_received_from_shards;
            }
        }
        assert!(handled <= expected, "handled {handled} > {expected}");
        if handled == expected && sent == received {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not quiet: handled {handled} of {expected}, sent {sent}, received {received}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits for every part of `epoch` of `shards` shards, run in equal halves
/// by the nodes whose parts come on `parts`, and returns them in shard
/// order.
pub async fn collect_parts(
    parts: &mut [mpsc::UnboundedReceiver<ShardSnapshot>],
    shards: u32,
    epoch: u64,
) -> Vec<ShardSnapshot> {
    let per_node = shards / parts.len() as u32;
    let mut collected = Vec::new();
    for (node, parts) in parts.iter_mut().enumerate() {
        for _ in 0..per_node {
            let part = tokio::time::timeout(PATIENCE, parts.recv())
                .await
                .unwrap_or_else(|_| panic!("node {node}: epoch {epoch} did not finish"))
                .expect("the runtime is up");
            assert_eq!(part.epoch, epoch, "one epoch at a time");
            collected.push(part);
        }
    }
    collected.sort_by_key(|part| part.shard);
    let ids: Vec<ShardId> = collected.iter().map(|part| part.shard).collect();
    assert_eq!(ids, (0..shards).map(ShardId).collect::<Vec<_>>());
    collected
}

/// A bank: accounts with an initial deposit each, and transfers between
/// them whose outcome does not depend on their order.
pub struct Bank {
    /// How many accounts.
    pub accounts: u64,
    /// Each account's first deposit.
    pub initial: i64,
    /// The transfers `(from, to, amount)`.
    pub transfers: Vec<(u64, u64, i64)>,
}

impl Bank {
    /// `count` transfers between `accounts` accounts, drawn from `seed`.
    pub fn new(accounts: u64, initial: i64, count: usize, seed: u64) -> Self {
        let mut state = seed | 1;
        let mut next = move || {
            // xorshift64*: deterministic and good enough to spread transfers.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let transfers = (0..count)
            .map(|_| {
                let from = next() % accounts;
                let to = (from + 1 + next() % (accounts - 1)) % accounts;
                let amount = 1 + (next() % 50) as i64;
                (from, to, amount)
            })
            .collect();
        Self {
            accounts,
            initial,
            transfers,
        }
    }

    /// The money in the bank.
    pub fn total(&self) -> i64 {
        self.initial * self.accounts as i64
    }

    /// The balances once every transfer is done.
    pub fn expected_balances(&self) -> Vec<i64> {
        let mut balances = vec![self.initial; self.accounts as usize];
        for (from, to, amount) in &self.transfers {
            balances[*from as usize] -= amount;
            balances[*to as usize] += amount;
        }
        balances
    }

    /// Sends every deposit, alternating the node sent from, so that half
    /// of them are forwarded to the other node.
    pub fn deposit(&self, nodes: &TwoNodes) {
        for id in 0..self.accounts {
            nodes.runtimes[id as usize % 2]
                .send(Address::of::<Account>(id), Deposit(self.initial))
                .expect("send a deposit");
        }
    }

    /// Sends the transfers in `range`, alternating the node sent from.
    pub fn transfer(&self, nodes: &TwoNodes, range: std::ops::Range<usize>) {
        for index in range {
            let (from, to, amount) = self.transfers[index];
            nodes.runtimes[index % 2]
                .send(Address::of::<Account>(from), Transfer { to, amount })
                .expect("send a transfer");
        }
    }

    /// Messages handled once every deposit and transfer is done: a
    /// deposit each, and a debit plus a credit per transfer.
    pub fn messages(&self) -> u64 {
        self.accounts + 2 * self.transfers.len() as u64
    }
}

/// Shard `shard`'s counters, from the runtime that runs it.
pub async fn stats_of(runtime: &Runtime, shard: u32) -> ShardStats {
    runtime
        .shard_stats()
        .await
        .expect("stats")
        .into_iter()
        .find(|stats| stats.shard == shard)
        .expect("the runtime runs the shard")
}
