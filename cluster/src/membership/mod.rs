//! Cluster membership and placement: who the members are, which of them
//! owns each shard, and which one coordinates snapshots.
//!
//! [`Membership`] gossips over UDP with chitchat (scuttlebutt
//! reconciliation and a phi-accrual failure detector) on the same address
//! and port number as the node's TCP cluster port. It joins through a seed
//! list, publishes this node's [`NodeMetadata`], and offers a stream of
//! [`MembershipView`]s: one [`Member`] per address, the newest incarnation
//! displacing older ones, with the coordinator the live members imply.
//! [`ShardRing`] maps shards to live members; [`ShardMap`] is one such
//! placement under a ring generation. Not yet used by [`Node`](crate::Node).
//!
//! # Layout
//! - `config`: [`MembershipConfig`] and [`FailureDetection`], with the
//!   default timings and why they declare a silent node dead within 5 s.
//! - `metadata`: [`NodeMetadata`] and the gossip keys that carry it.
//! - `view`: [`MembershipView`], [`Member`], [`MemberState`], and how a
//!   view is derived from chitchat's state (sans I/O).
//! - `coordinator`: [`choose_coordinator`], the deterministic rule.
//! - `ring`: [`ShardRing`], [`ShardMap`], [`ShardMove`].
//! - `agent`: [`Membership`], the running gossip server and view task.
//! - `network`: [`GossipNetwork`], the in-memory network for tests.
//! - `error`: [`MembershipError`].

mod agent;
mod config;
mod coordinator;
mod error;
mod metadata;
mod network;
mod ring;
mod view;

pub use agent::Membership;
pub use config::{
    FailureDetection, MembershipConfig, DEFAULT_GOSSIP_INTERVAL, DEFAULT_LEAVE_LINGER,
};
pub use coordinator::choose_coordinator;
pub use error::MembershipError;
pub use metadata::NodeMetadata;
pub use network::GossipNetwork;
pub use ring::{ShardMap, ShardMove, ShardRing, DEFAULT_VIRTUAL_NODES, LOAD_BOUND};
pub use view::{Member, MemberState, MembershipView};
