//! Stateful functions shared by Cairn's integration tests.
//!
//! # Layout
//! - `functions`: small functions whose handlers record what they saw, so
//!   tests can assert on activation, ordering, timers and replies.
//! - `flow`: a producer, a slow consumer and bouncers, for the flow-control
//!   tests.
//! - `checker`: an offline checker of a store's committed snapshots.
//! - `cluster`: two runtimes sharing the shards over a transport, and a
//!   bank workload for them.
//! - `loopback`: two runtimes whose remote sinks call into each other,
//!   counting the frames an epoch costs.
//! - `stores`: fresh stores on a local folder or on a real S3 server
//!   (moto), and [`on_both_backends!`] to run a scenario on each.
//! - `gate`: gates that hold a shard inside a handler until the test opens
//!   them, to keep an epoch open without relying on timing.

pub mod checker;
pub mod cluster;
pub mod flow;
pub mod functions;
pub mod gate;
pub mod loopback;
pub mod stores;
