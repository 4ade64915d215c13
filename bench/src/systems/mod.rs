//! The registry of benchmarked systems.
//!
//! A system is one module exposing
//! `pub(crate) fn run(workload: Workload, count: u64) -> anyhow::Result<Sample>`,
//! where `count` is the scaled message, actor or ask count of the workload.
//! Registering it takes its `mod` line and one row in [`SYSTEMS`].

mod actix;
mod cairn;
mod kameo;
mod ractor;
mod tokio_mpsc;

use anyhow::{anyhow, Result};

use crate::{measurement::Sample, workloads::Workload};

/// One registered system.
#[derive(Clone, Copy, Debug)]
pub(crate) struct System {
    /// The name used on the command line and in reports.
    pub(crate) name: &'static str,
    /// Runs one workload with the given scaled count and returns its sample.
    pub(crate) run: fn(Workload, u64) -> Result<Sample>,
}

impl System {
    /// A registry row.
    const fn new(name: &'static str, run: fn(Workload, u64) -> Result<Sample>) -> Self {
        Self { name, run }
    }
}

/// Every registered system, in report order.
pub(crate) const SYSTEMS: &[System] = &[
    System::new("cairn", cairn::run),
    System::new("actix", actix::run),
    System::new("ractor", ractor::run),
    System::new("kameo", kameo::run),
    System::new("tokio-mpsc", tokio_mpsc::run),
];

/// Looks a system up by name.
pub(crate) fn find(name: &str) -> Result<&'static System> {
    SYSTEMS.iter().find(|s| s.name == name).ok_or_else(|| {
        let known: Vec<_> = SYSTEMS.iter().map(|s| s.name).collect();
        anyhow!("unknown system {name:?}; known: {}", known.join(", "))
    })
}
