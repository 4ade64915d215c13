//! When a coordinator collects garbage: after every [`GC_EVERY`]th commit,
//! and no sooner than half of the policy's `min_age` after the previous
//! pass. A pass lists the store and reads its manifests, yet can delete
//! nothing younger than `min_age`: at 100 ms epochs and the default
//! minute, passing every ten commits read ~600 manifests a second for
//! nothing. The store then holds at most about `min_age × 1.5` of epochs
//! beyond the kept ones.

use cairn_persistence::{GcPolicy, Store};
use tokio::time::Instant;

/// Garbage collection runs after every this many commits at most.
const GC_EVERY: u64 = 10;

/// The fraction of `min_age` that must also have passed since the
/// previous pass.
const GC_PERIOD_DIVISOR: u32 = 2;

/// A coordinator's commits and garbage-collection passes.
#[derive(Debug, Default)]
pub(crate) struct GcCadence {
    commits: u64,
    last: Option<Instant>,
}

impl GcCadence {
    /// Counts a commit and, if a pass is due, collects what the kept
    /// epochs of `store` no longer reference (SNAPSHOTS §3.4 rule 12). A
    /// failure is logged: the next pass tries again.
    pub(crate) async fn committed(&mut self, store: &Store, policy: GcPolicy) {
        self.commits += 1;
        let period = policy.min_age / GC_PERIOD_DIVISOR;
        let due = self.last.is_none_or(|last| last.elapsed() >= period);
        if !self.commits.is_multiple_of(GC_EVERY) || !due {
            return;
        }
        self.last = Some(Instant::now());
        match store.gc(policy).await {
            Ok(report) if !report.deleted.is_empty() => {
                tracing::debug!(deleted = report.deleted.len(), "snapshot garbage collected")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "snapshot garbage collection failed"),
        }
    }
}
