//! The actix system and the two arbiters every actix run uses.

use std::future::Future;

use actix::{Arbiter, ArbiterHandle, System};
use anyhow::Result;

/// The two arbiters of a run, addressed by index 0 (the system arbiter, which
/// runs the driver) and 1 (an extra arbiter thread).
pub(super) struct Arbiters {
    handles: [ArbiterHandle; 2],
}

impl Arbiters {
    /// The arbiter with index `i % 2`.
    pub(super) fn get(&self, i: usize) -> &ArbiterHandle {
        &self.handles[i % 2]
    }
}

/// Runs `driver` on the system arbiter of a fresh `actix::System`, with an
/// extra arbiter started beside it.
pub(super) fn run_in_system<F, Fut, T>(driver: F) -> Result<T>
where
    F: FnOnce(Arbiters) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let system = System::new();
    let (result, extra) = system.block_on(async move {
        let extra = Arbiter::new();
        let arbiters = Arbiters {
            handles: [Arbiter::current(), extra.handle()],
        };
        (driver(arbiters).await, extra)
    });
    // Not joined: its actors (maybe a million) die with the process.
    extra.stop();
    result
}
