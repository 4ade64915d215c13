//! End-to-end cluster tests' harness: `bank node` members as real
//! processes, each on an address of its own, sharing one `fs://` store;
//! faults sent as signals; progress and the final balances read from the
//! store as an operator would (`bank balances --store URL`).
//!
//! A test file using it declares `mod served; mod transfers; mod
//! cluster_support;` (it reuses their helpers).
//!
//! # Layout
//! - `cluster`: the cluster, its members' command lines and their start.
//! - `waits`: what scenarios wait for, from the store and `/v1/cluster`.
//! - `member`: one member's command line and its successive lives.
//! - `process`: one process, its log file, its HTTP address, its signals.
//! - `ports`: cluster ports free for both TCP and UDP.
//! - `store`: the shared store's committed epochs and balances.
//! - `view`: `GET /v1/cluster`, parsed.
#![allow(dead_code, unreachable_pub)]

mod cluster;
mod member;
mod ports;
mod process;
mod store;
mod view;
mod waits;

pub use cluster::{Cluster, Flags, Workload};
pub use member::Host;

/// The `bank` binary under test.
pub const BANK: &str = env!("CARGO_BIN_EXE_bank");
