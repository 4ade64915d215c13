//! The tokio runtime shared by every tokio-based system.

use std::future::Future;

use anyhow::{Context, Result};

/// Worker threads of every tokio runtime (the machine has 2 cores).
pub(crate) const WORKERS: usize = 2;

/// Runs `driver` as a task on a fresh multi-thread runtime with [`WORKERS`]
/// workers, so the driver competes for the same threads as the actors.
pub(crate) fn run_on_workers<F, T>(driver: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    let result = runtime.block_on(async move { tokio::spawn(driver).await });
    // Actors still alive (e.g. a million activated ones) are not our concern
    // any more: let the workers drop them without waiting.
    runtime.shutdown_background();
    result.context("the driver task panicked")?
}
