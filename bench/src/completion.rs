//! A count-down latch that tells the driver when the last message was handled.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use anyhow::{anyhow, Result};
use tokio::sync::Notify;

/// How long a driver waits for a workload before giving up loudly.
const WAIT_LIMIT: Duration = Duration::from_secs(600);

/// Counts down to zero; the driver awaits zero.
///
/// Works on any tokio-based executor (tokio workers and actix arbiters alike).
#[derive(Debug)]
pub(crate) struct Completion {
    remaining: AtomicU64,
    notify: Notify,
}

impl Completion {
    /// A latch that opens after `count` calls to [`Completion::complete_one`].
    pub(crate) fn new(count: u64) -> Arc<Self> {
        Arc::new(Self {
            remaining: AtomicU64::new(count),
            notify: Notify::new(),
        })
    }

    /// Counts one event down; the last one wakes the driver.
    pub(crate) fn complete_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.notify.notify_one();
        }
    }

    /// Waits until the count reaches zero, failing after [`WAIT_LIMIT`].
    pub(crate) async fn wait(&self) -> Result<()> {
        tokio::time::timeout(WAIT_LIMIT, self.notify.notified())
            .await
            .map_err(|_| {
                anyhow!(
                    "timed out with {} events outstanding",
                    self.remaining.load(Ordering::Acquire)
                )
            })
    }
}
