//! What a membership agent is configured with: who this node is, where it
//! gossips, whom it asks first, and how quickly it gives up on a silent
//! peer.

use std::net::SocketAddr;
use std::time::Duration;

use chitchat::{ChitchatConfig, ChitchatId, FailureDetectorConfig, ProtocolVersion};

use super::metadata::NodeMetadata;
use crate::transport::{Incarnation, NodeId};

/// The default pause between two gossip rounds.
pub const DEFAULT_GOSSIP_INTERVAL: Duration = Duration::from_millis(200);

/// The default time a leaving node keeps gossiping after announcing its
/// leave, so that the announcement reaches its peers before it goes quiet.
pub const DEFAULT_LEAVE_LINGER: Duration = Duration::from_secs(1);

/// How a membership agent joins and watches the cluster. Every node of a
/// cluster must agree on `cluster_id`.
#[derive(Clone, Debug)]
pub struct MembershipConfig {
    /// The cluster's name; gossip from another cluster is refused.
    pub cluster_id: String,
    /// This node: the `host:port` its cluster port is reached at (its
    /// `--bind` address as peers see it).
    pub node: NodeId,
    /// This process's life; a node restarted at the same address must
    /// have a larger one, and then displaces the old one.
    pub incarnation: Incarnation,
    /// The local UDP address gossip listens on: the same address and port
    /// number as the cluster's TCP bind.
    pub listen: SocketAddr,
    /// The UDP address peers gossip to; usually `listen`, unless that is
    /// a wildcard such as `0.0.0.0`.
    pub advertise: SocketAddr,
    /// Members' addresses to contact first (`HOST:PORT`, names are
    /// resolved). This node's own address may be among them.
    pub seeds: Vec<String>,
    /// The pause between two gossip rounds.
    pub gossip_interval: Duration,
    /// When a silent peer is declared dead.
    pub failure_detection: FailureDetection,
    /// How long a leaving node keeps gossiping after announcing its leave.
    pub leave_linger: Duration,
    /// What this node publishes about itself.
    pub metadata: NodeMetadata,
}

impl MembershipConfig {
    /// A configuration for the node bound at `bind`, named after it, with
    /// a clock-based incarnation, no seeds and the default timings.
    pub fn new(cluster_id: impl Into<String>, bind: SocketAddr, metadata: NodeMetadata) -> Self {
        Self {
            cluster_id: cluster_id.into(),
            node: NodeId::new(bind.to_string()),
            incarnation: Incarnation::from_clock(),
            listen: bind,
            advertise: bind,
            seeds: Vec::new(),
            gossip_interval: DEFAULT_GOSSIP_INTERVAL,
            failure_detection: FailureDetection::default(),
            leave_linger: DEFAULT_LEAVE_LINGER,
            metadata,
        }
    }

    /// The same configuration with these seeds.
    pub fn with_seeds<S: Into<String>>(mut self, seeds: impl IntoIterator<Item = S>) -> Self {
        self.seeds = seeds.into_iter().map(Into::into).collect();
        self
    }

    /// The same configuration with this incarnation.
    pub fn with_incarnation(mut self, incarnation: Incarnation) -> Self {
        self.incarnation = incarnation;
        self
    }

    /// The longest time after a peer falls silent before this node
    /// declares it dead, given these settings (see
    /// [`FailureDetection::detection_bound`]).
    pub fn detection_bound(&self) -> Duration {
        self.failure_detection.detection_bound(self.gossip_interval)
    }

    pub(crate) fn chitchat_id(&self) -> ChitchatId {
        ChitchatId::new(self.node.as_str(), self.incarnation.0, self.advertise)
    }

    pub(crate) fn to_chitchat(&self) -> ChitchatConfig {
        ChitchatConfig {
            chitchat_id: self.chitchat_id(),
            cluster_id: self.cluster_id.clone(),
            gossip_interval: self.gossip_interval,
            listen_addr: self.listen,
            seed_nodes: self.seeds.clone(),
            failure_detector_config: self.failure_detection.to_chitchat(),
            // Cairn never deletes keys; tombstones only come from a future
            // format change, and are kept as long as dead nodes are.
            marked_for_deletion_grace_period: self.failure_detection.dead_node_grace_period,
            catchup_callback: None,
            extra_liveness_predicate: None,
            protocol_version: ProtocolVersion::V0,
        }
    }
}

/// The phi-accrual failure detector's settings.
///
/// chitchat's detector computes `phi = elapsed / mean`, where `elapsed`
/// is the time since a peer's heartbeat last went up and `mean` is the
/// mean of the recent intervals between heartbeat increases, smoothed
/// with five samples of `initial_interval` and ignoring intervals longer
/// than `max_interval`. A peer is dead once `phi > phi_threshold`, checked
/// after each gossip round. So `mean ≤ max(initial_interval,
/// max_interval)`, and a silent peer is declared dead at most
/// `phi_threshold × max(initial_interval, max_interval)` after its last
/// heartbeat was seen, plus a gossip round to notice and one for a relayed
/// heartbeat to arrive: [`detection_bound`](Self::detection_bound).
///
/// The defaults (threshold 10, both intervals 400 ms, gossip every
/// 200 ms) bound that by 10 × 0.4 s + 2 × 0.2 s = 4.4 s, inside the
/// cluster's 5 s target. In steady state a peer's heartbeat is seen to go
/// up every ~0.1 s (it reaches a node directly and relayed through the
/// others), so over a long window `mean` would be ~0.1 s and a live peer
/// stalled for ~1 s — a loaded machine — would be declared dead. The
/// window is therefore short (5 samples) against the prior's weight of 5
/// samples at 400 ms: `mean ≥ (5 × 0.1 + 5 × 0.4) / 10 = 0.25 s`, so a
/// silent peer is declared dead after 2.5–4.4 s, and a stall under ~2.5 s
/// goes unpunished (`membership_failure.rs` checks both).
#[derive(Clone, Debug, PartialEq)]
pub struct FailureDetection {
    /// How many mean heartbeat intervals of silence make a peer dead.
    pub phi_threshold: f64,
    /// The prior mean interval, which dominates while few samples exist.
    pub initial_interval: Duration,
    /// Intervals longer than this are left out of the mean.
    pub max_interval: Duration,
    /// How many recent intervals the mean is taken over; few, so that the
    /// prior keeps the mean from collapsing to the (short) interval of
    /// relayed heartbeats.
    pub sampling_window: usize,
    /// How long a dead peer's state is kept (so that its higher
    /// incarnation still displaces older ones) before it is forgotten.
    pub dead_node_grace_period: Duration,
}

impl Default for FailureDetection {
    fn default() -> Self {
        Self {
            phi_threshold: 10.0,
            initial_interval: Duration::from_millis(400),
            max_interval: Duration::from_millis(400),
            sampling_window: 5,
            dead_node_grace_period: Duration::from_secs(60 * 60),
        }
    }
}

impl FailureDetection {
    /// The longest time between a peer falling silent and this node
    /// declaring it dead: `phi_threshold × max(initial_interval,
    /// max_interval) + 2 × gossip_interval`.
    pub fn detection_bound(&self, gossip_interval: Duration) -> Duration {
        let mean = self.initial_interval.max(self.max_interval);
        mean.mul_f64(self.phi_threshold) + gossip_interval * 2
    }

    fn to_chitchat(&self) -> FailureDetectorConfig {
        FailureDetectorConfig::new(
            self.phi_threshold,
            self.sampling_window,
            self.max_interval,
            self.initial_interval,
            self.dead_node_grace_period,
        )
    }
}

#[cfg(test)]
mod tests {
    use cairn_core::ShardCount;

    use super::*;

    /// A node of cluster `c` bound at `bind`, with 8 shards.
    fn config_at(bind: SocketAddr) -> MembershipConfig {
        MembershipConfig::new(
            "c",
            bind,
            NodeMetadata::new(
                bind.to_string(),
                "127.0.0.1:9090",
                ShardCount::new(8).unwrap(),
            ),
        )
    }

    /// The defaults declare a silent peer dead within the cluster's 5 s
    /// target.
    #[test]
    fn default_detection_bound_is_within_five_seconds() {
        let bind: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let config = config_at(bind);
        assert_eq!(config.detection_bound(), Duration::from_millis(4_400));
        assert!(config.detection_bound() <= Duration::from_secs(5));
    }

    /// A node is named after its bind address, and gossips there.
    #[test]
    fn new_names_the_node_after_its_bind_address() {
        let bind: SocketAddr = "127.0.0.1:7001".parse().unwrap();
        let config = config_at(bind);
        let id = config.chitchat_id();
        assert_eq!(&*id.node_id, "127.0.0.1:7001");
        assert_eq!(id.gossip_advertise_addr, bind);
        assert_eq!(id.generation_id, config.incarnation.0);
    }
}
