//! Cairn: stateful functions on virtual actors.
//!
//! Write plain structs, mark them `#[stateful_function]`, give them handlers
//! with `#[handlers]`, register them on a [`Node`], and send them messages.
//! Each actor is activated on its first message and passivated when idle;
//! handlers are synchronous and run one message at a time per actor.
//!
//! ```
//! use cairn::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[stateful_function(name = "example/counter")]
//! #[derive(Default, Serialize, Deserialize)]
//! struct Counter {
//!     count: u64,
//! }
//!
//! #[derive(Serialize, Deserialize)]
//! struct Add(u64);
//!
//! #[derive(Serialize, Deserialize)]
//! struct Get;
//!
//! #[handlers]
//! impl Counter {
//!     fn add(&mut self, _ctx: &mut Context, msg: Add) {
//!         self.count += msg.0;
//!     }
//!
//!     fn get(&self, ctx: &mut Context, _msg: Get) {
//!         ctx.reply(self.count);
//!     }
//! }
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let node = Node::builder().register::<Counter>().start().await?;
//! let counter = Address::of::<Counter>("visits");
//! node.send(counter.clone(), Add(2))?;
//! let count: u64 = node.ask(counter, Get).await?;
//! assert_eq!(count, 2);
//! node.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//! - `node`: [`Node`] and [`NodeBuilder`], the handle to a running node.
//! - `control`: a node as a cluster member ([`ClusterSettings`]): the
//!   generations of the shard map, asks between nodes and the cluster-wide
//!   snapshot coordinator.
//! - `node_args`: [`NodeArgs`], the standard flags of a node's binary
//!   (`--bind`, `--seeds`, `--store`, …), for clap (feature `cli`).
//! - `snapshots`: the snapshot coordinator and recovery from the store.
//! - `error`: [`NodeError`], why a node could not start, snapshot or recover.
//! - `prelude`: the names an application imports.
//! - [`http`]: the node's HTTP endpoint (metrics, JSON views, ingress) and
//!   the JSON bodies it speaks.
//! - [`dataplane`]: a runtime running only this node's shards, its
//!   channels to the others carried by a transport.
//! - [`transport`]: the node-to-node transport (TCP and in-memory).
//! - [`membership`]: gossip membership from a seed list, the shard ring
//!   and the coordinator rule.
//!
//! The `cairn` binary (feature `cli`, on by default) reads that endpoint:
//! `cairn inspect --http 127.0.0.1:9090 shards`.
//!
//! The actor model itself (addresses, messages, contexts, shards) lives in
//! `cairn-core` and the attributes in `cairn-macros`; both are re-exported
//! here, so an application adds only this crate.

mod committed;
mod control;
pub mod dataplane;
pub mod error;
pub mod http;
pub mod membership;
mod node;
#[cfg(feature = "cli")]
mod node_args;
mod snapshots;
pub mod transport;

pub use cairn_core::{
    is_full_epoch, ShardSnapshot, StoredActor, StoredChannel, StoredCursor, StoredEgress,
    StoredMessage, StoredTimer, FULL_SNAPSHOT_EVERY,
};
pub use cairn_core::{
    Access, ActorId, ActorStatus, ActorSummary, ActorView, Address, AskError, AskReply, CodecError,
    Context, EgressKey, EgressRecord, EgressSink, Epoch, Error, FileSink, FunctionCount,
    FunctionDescriptor, FunctionTraffic, FunctionType, Handlers, HandoffPlan, MarkerBatchError,
    Message, MessageType, Payload, Placement, Registry, RemoteChannel, RemoteShards, Result,
    Runtime, RuntimeConfig, ShardCount, ShardId, ShardStats, SnapshotLink, StatefulFunction,
    StdoutSink, TimerId, EXTERNAL_SOURCE, PROTOCOL_ERRORS,
};
pub use cairn_core::{
    FileSource, Ingress, IngressSource, RouteError, SplitReader, DEFAULT_MAX_IN_FLIGHT,
    INGRESS_IN_FLIGHT, INGRESS_RECORDS, INGRESS_REJECTED,
};
pub use cairn_macros::{handlers, stateful_function};
pub use cairn_persistence as persistence;
pub use committed::CommittedSnapshot;
pub use control::{
    ClusterSettings, SimulatedNetwork, DEFAULT_CLUSTER_ID, MAX_MAX_FRAME, MIN_MAX_FRAME,
    STALE_FRAMES,
};
pub use error::NodeError;
pub use node::{Node, NodeBuilder, LEAVE_PATIENCE};
#[cfg(feature = "cli")]
pub use node_args::{FlagError, NodeArgs};
pub use snapshots::EpochRecord;

/// The names an application imports: `use cairn::prelude::*;`.
pub mod prelude {
    pub use crate::{
        handlers, stateful_function, ActorId, Address, AskError, Context, Node, StatefulFunction,
    };
}

/// The README's code sample, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
