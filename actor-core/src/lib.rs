//! The Cairn actor model: addresses, messages, the handler [`Context`], the
//! [`StatefulFunction`] trait, and the shards that run actors.
//!
//! Application code does not use this crate directly: it adds `cairn`, which
//! re-exports what is public here together with the `#[stateful_function]`
//! macro.
//!
//! # Layout
//! - `address`: [`Address`] = (function type, id), and placement on shards.
//! - `message`: [`Payload`], a type-erased message; encoded only when it
//!   leaves the process.
//! - `function`: the traits the macros implement, and the erased actor.
//! - `registry`: the function types a node runs.
//! - `context`: what a handler may do besides changing its state.
//! - `envelope`: a message with its routing, and [`AskReply`], the caller
//!   of an ask that goes on to another node.
//! - `timers`: a shard's delayed messages.
//! - `egress`: sinks for records leaving the system.
//! - `shard`: the single-threaded executor of one key range.
//! - `snapshot`: the shard as a Chandy–Lamport process, and what its
//!   snapshot parts hold.
//! - `remote`: shards on other nodes: [`Placement`], the [`RemoteShards`]
//!   the cluster layer implements, and the frames between nodes.
//! - `runtime`: a node's shards, and sending and asking from outside.
//! - `error`: the error types.

mod address;
mod context;
mod egress;
mod envelope;
mod error;
mod function;
mod ingress;
mod message;
mod registry;
mod remote;
mod runtime;
mod shard;
mod snapshot;
#[cfg(test)]
mod test_support;
mod timers;

pub use address::{ActorId, Address, FunctionType, ShardCount, ShardId};
pub use context::Context;
pub use egress::{EgressKey, EgressRecord, EgressSink, FileSink, StdoutSink};
pub use envelope::AskReply;
pub use error::{AskError, CodecError, Error, MarkerBatchError, Result};
pub use function::{Access, FunctionDescriptor, Handlers, MessageType, StatefulFunction};
pub use ingress::{
    FileSource, Ingress, IngressSource, RouteError, SplitReader, StoredCursor,
    DEFAULT_MAX_IN_FLIGHT, INGRESS_IN_FLIGHT, INGRESS_RECORDS, INGRESS_REJECTED,
};
pub use message::{Message, Payload};
pub use registry::Registry;
pub use remote::{Placement, RemoteChannel, RemoteShards, EXTERNAL_SOURCE};
pub use runtime::{HandoffPlan, Runtime, RuntimeConfig, SnapshotLink};
pub use shard::{
    ActorStatus, ActorSummary, ActorView, FunctionCount, FunctionTraffic, ShardStats,
    HANDLER_DURATION, PROTOCOL_ERRORS,
};
pub use snapshot::{
    is_full_epoch, Epoch, ShardSnapshot, StoredActor, StoredChannel, StoredEgress, StoredMessage,
    StoredTimer, FULL_SNAPSHOT_EVERY,
};
pub use timers::TimerId;
