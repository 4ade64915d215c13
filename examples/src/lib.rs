//! Runnable Cairn applications, as a library so that tests can drive them.
//!
//! Each application's functions and messages live in a module here; each
//! has one binary in `src/bin/` that runs it:
//!
//! ```text
//! cargo run --release -p cairn-examples --bin counter
//! cargo run --release -p cairn-examples --bin bank -- simulate --accounts 100 --transfers 10000 --initial-balance 1000
//! cargo run --release -p cairn-examples --bin ridesharing -- --drivers 100 --passengers 300 --rides 2000
//! ```
//!
//! # Layout
//! - `counter`: the smallest application, one function with `Add` and `Get`.
//! - `bank`: accounts and transfers as a debit that sends a credit.
//! - `ridesharing`: drivers, passengers, rides and a geo index, after the
//!   Flink Forward 2019 Stateful Functions keynote, with its simulator.
//! - `egress`: emitting to an egress the node may not have.
//! - `launch`: logging and node start-up shared by the binaries.
//! - `rng`: a tiny seeded PRNG, so simulations replay from a seed.

/// Every binary of this crate allocates with mimalloc: under glibc's
/// malloc, messages allocated on one shard's thread and freed on another
/// made actors on one node three times slower (`docs/design.md`,
/// "Allocator"). A binary gets it by naming this crate, as each does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod bank;
pub mod counter;
mod egress;
pub mod launch;
pub mod ridesharing;
mod rng;

pub use rng::Rng;
