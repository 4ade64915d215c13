//! Two runtimes in one process whose remote sinks call straight into each
//! other, counting every frame: what an epoch costs on the wire, without
//! a transport in the way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use cairn::{
    Address, Placement, Registry, RemoteChannel, RemoteShards, Runtime, RuntimeConfig, ShardCount,
    ShardId, ShardSnapshot, SnapshotLink,
};
use tokio::sync::mpsc;

use crate::functions::Account;

/// The frames one node has handed its sink.
#[derive(Debug, Default)]
pub struct FrameCounts {
    /// Frames on a channel between two shards (batches) or from outside.
    pub channel_frames: AtomicU64,
    /// Marker batches to another node.
    pub marker_frames: AtomicU64,
}

impl FrameCounts {
    /// The counts now: (channel frames, marker frames).
    pub fn read(&self) -> (u64, u64) {
        (
            self.channel_frames.load(Ordering::Relaxed),
            self.marker_frames.load(Ordering::Relaxed),
        )
    }
}

/// A node's sink: hands each frame to the other node's runtime at once.
/// A call from a shard's turn delivers in that order, so each channel and
/// each node link stays FIFO.
struct Direct {
    /// This node's name, as the other node knows it.
    name: String,
    /// The other node's name.
    peer_name: String,
    /// The other node's runtime, set once both are started.
    peer: Arc<OnceLock<Runtime>>,
    /// Which shards run here.
    local: Vec<bool>,
    counts: Arc<FrameCounts>,
}

impl RemoteShards for Direct {
    fn send(&self, channel: RemoteChannel, frame: Vec<u8>) {
        self.counts.channel_frames.fetch_add(1, Ordering::Relaxed);
        if let Some(peer) = self.peer.get() {
            if let Err(error) = peer.deliver_remote(channel, frame.into()) {
                assert!(peer.is_shutting_down(), "frame refused: {error}");
            }
        }
    }

    fn max_frame(&self) -> usize {
        1 << 20
    }

    fn node_of(&self, shard: u32) -> Option<&str> {
        match self.local.get(shard as usize) {
            Some(false) => Some(&self.peer_name),
            _ => None,
        }
    }

    fn send_markers(&self, node: &str, frame: Vec<u8>) {
        assert_eq!(node, self.peer_name, "markers go to the other node");
        self.counts.marker_frames.fetch_add(1, Ordering::Relaxed);
        if let Some(peer) = self.peer.get() {
            if let Err(error) = peer.deliver_markers(&self.name, &frame) {
                assert!(peer.is_shutting_down(), "marker batch refused: {error}");
            }
        }
    }

    fn send_credit(&self, channel: RemoteChannel, through_seq: u64) {
        if let Some(peer) = self.peer.get() {
            if let Err(error) = peer.deliver_credit(channel, through_seq) {
                assert!(peer.is_shutting_down(), "credit refused: {error}");
            }
        }
    }
}

/// Two runtimes sharing `shards` shards, the first half on the first.
pub struct LinkedPair {
    /// The runtimes, first node first.
    pub runtimes: [Runtime; 2],
    /// What each node's sink was handed.
    pub counts: [Arc<FrameCounts>; 2],
    parts: Vec<mpsc::UnboundedReceiver<ShardSnapshot>>,
    shards: ShardCount,
}

impl LinkedPair {
    /// Starts both runtimes with snapshots and `Account` registered.
    pub fn start(shards: u32) -> Self {
        let count = ShardCount::new(shards).expect("not zero");
        let names = ["node-a", "node-b"];
        let cells: [Arc<OnceLock<Runtime>>; 2] = Default::default();
        let mut runtimes = Vec::new();
        let mut counts = Vec::new();
        let mut parts = Vec::new();
        for node in 0..2 {
            let owned: Vec<ShardId> = count
                .ids()
                .filter(|shard| usize::from(shard.0 >= shards / 2) == node)
                .collect();
            let mut local = vec![false; shards as usize];
            for shard in &owned {
                local[shard.index()] = true;
            }
            let node_counts = Arc::new(FrameCounts::default());
            let sink = Direct {
                name: names[node].to_owned(),
                peer_name: names[1 - node].to_owned(),
                peer: cells[1 - node].clone(),
                local,
                counts: node_counts.clone(),
            };
            let mut registry = Registry::new();
            registry.register::<Account>().expect("register");
            let (tx, rx) = mpsc::unbounded_channel();
            let link = SnapshotLink {
                parts: tx,
                restore: Vec::new(),
                pressure: Arc::new(tokio::sync::Notify::new()),
            };
            let config = RuntimeConfig {
                shard_count: count,
                ..RuntimeConfig::default()
            };
            let runtime = Runtime::start_with(
                config,
                registry,
                Vec::new(),
                Some(link),
                Vec::new(),
                Placement::partial(owned, Arc::new(sink)),
            )
            .expect("the runtime starts");
            runtimes.push(runtime);
            counts.push(node_counts);
            parts.push(rx);
        }
        for (cell, runtime) in cells.iter().zip(&runtimes) {
            let _ = cell.set(runtime.clone());
        }
        Self {
            runtimes: runtimes.try_into().expect("two runtimes"),
            counts: counts.try_into().expect("two counters"),
            parts,
            shards: count,
        }
    }

    /// The runtime that runs `address`'s shard.
    pub fn owner_of(&self, address: &Address) -> &Runtime {
        let shard = address.shard(self.shards);
        &self.runtimes[usize::from(shard.0 >= self.shards.get() / 2)]
    }

    /// Waits until the two nodes together have handled `expected`
    /// messages and every message sent between shards has been received.
    pub async fn quiesce(&self, expected: u64) {
        crate::cluster::quiesce(&self.runtimes, expected).await;
    }

    /// Waits for every shard's part of `epoch` from both nodes and
    /// returns them in shard order.
    pub async fn collect_parts(&mut self, epoch: u64) -> Vec<ShardSnapshot> {
        crate::cluster::collect_parts(&mut self.parts, self.shards.get(), epoch).await
    }

    /// Stops both runtimes.
    pub async fn shutdown(self) {
        for runtime in &self.runtimes {
            runtime.shutdown().await;
        }
    }
}
