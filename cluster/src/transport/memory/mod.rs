//! The in-memory transport, for simulation tests of the protocol: the same
//! [`Link`](super::link) layer as TCP over a seeded, unreliable network.

mod endpoint;
mod network;

pub use endpoint::MemoryTransport;
pub use network::{Faults, MemoryNetwork};
