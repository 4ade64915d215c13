//! Shards on other nodes: what a runtime that owns only some shards sends
//! them, and how frames from them come in.
//!
//! The outgoing side of every channel is chosen once, at start: an
//! [`Outlet`] is either a local shard's inbox (a plain `mpsc` send, as on a
//! single node) or a remote shard, whose batches and markers are encoded
//! into a [`frame`](wire) and handed to the [`RemoteShards`] the cluster
//! layer implements over its transport. The incoming side decodes frames
//! back into the inbox items a local shard takes, so the shard's
//! Chandy–Lamport process checks sequences and runs the marker rules
//! exactly as it does for local channels.
//!
//! # Layout
//! - `placement`: [`Placement`] (which shards run here) and the
//!   [`RemoteShards`] trait with its [`RemoteChannel`]s.
//! - `wire`: the frame format (MessagePack).
//! - `outlet`: [`Outlet`], one per destination shard, and the encoding of
//!   batches, markers and external messages.
//! - `batch`: encoding a batch's frames straight from its envelopes.
//! - `inbound`: decoding a frame into a local shard's inbox item.
//! - `markers`: markers for other nodes' shards, batched per node link.

mod batch;
mod inbound;
mod markers;
mod outlet;
mod placement;
mod wire;

#[cfg(test)]
mod tests;

pub(crate) use inbound::decode_frame;
pub(crate) use markers::{Expanded, LinkCuts, MarkerBatch, NodeMarkers, Role};
pub(crate) use outlet::{Outlet, RemoteOutlet};
pub use placement::{Placement, RemoteChannel, RemoteShards, EXTERNAL_SOURCE};
