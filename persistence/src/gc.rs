//! Garbage collection of old epochs and crash debris (SNAPSHOTS rule 12).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};
use crate::fs_read::ListedFile;
use crate::history::ManifestStatus;
use crate::keys::{epoch_prefix, Key, COORD_DIR, EPOCHS_DIR};
use crate::manifest::Manifest;
use crate::store::Store;

/// What GC keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcPolicy {
    /// How many of the newest committed epochs to keep, with everything they reference. At
    /// least 1.
    pub keep: usize,
    /// Anything younger than this is kept, so a reader of an epoch that is just being dropped
    /// and a writer of the open epoch are never cut off.
    pub min_age: Duration,
}

impl Default for GcPolicy {
    fn default() -> Self {
        Self {
            keep: 3,
            min_age: Duration::from_secs(60),
        }
    }
}

/// What a GC pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// The committed epochs kept, ascending.
    pub kept_epochs: Vec<u64>,
    /// The keys deleted, in the order they were deleted (manifests first).
    pub deleted: Vec<String>,
}

impl Store {
    /// Keeps the newest `policy.keep` committed epochs and every object they reference (older
    /// delta-chain objects included), keeps every object of an epoch above the newest MANIFEST
    /// (the open epoch) and everything younger than `policy.min_age`; deletes the rest: older
    /// manifests and tombstones, unreferenced objects, stale commit temporaries. Generation
    /// claims are never deleted: they fence zombie coordinators.
    pub async fn gc(&self, policy: GcPolicy) -> Result<GcReport> {
        if policy.keep == 0 {
            return Err(Error::InvalidArgument(
                "GcPolicy::keep must be at least 1: GC never deletes the latest commit".into(),
            ));
        }
        // Only the newest `keep` committed manifests are held, not the whole history: a store
        // with a minute of 100 ms epochs holds hundreds of manifests of a few hundred KB each.
        let mut kept: VecDeque<Manifest> = VecDeque::with_capacity(policy.keep + 1);
        // Folders above the newest MANIFEST belong to the open epoch.
        let mut frontier = None;
        self.scan_manifests(|epoch, status| {
            frontier = Some(epoch);
            if let ManifestStatus::Committed(manifest) = status {
                if kept.len() == policy.keep {
                    kept.pop_front();
                }
                kept.push_back(manifest);
            }
        })
        .await?;
        let oldest_kept = kept.front().map(|manifest| manifest.epoch);
        let referenced: HashSet<String> = kept
            .iter()
            .flat_map(|manifest| manifest.objects().map(|object| object.key.to_string()))
            .collect();

        let now = self.inner.clock.now();
        let mut listed = self.list_entries(EPOCHS_DIR).await?;
        listed.extend(self.list_entries(COORD_DIR).await?);
        let mut manifests = Vec::new();
        let mut others = Vec::new();
        for (path, modified) in &listed {
            let (deletable, bucket) = match Key::parse(path) {
                // Deleting only below the oldest kept commit keeps rule 29's fence stable: the
                // oldest kept manifest carries a generation at least as high as any below it.
                Ok(Key::Manifest { epoch }) => (
                    oldest_kept.is_some_and(|oldest| epoch < oldest),
                    &mut manifests,
                ),
                Ok(Key::ShardObject(key)) => (
                    !referenced.contains(path) && frontier.is_some_and(|f| key.epoch <= f),
                    &mut others,
                ),
                Ok(Key::Temp { .. }) => (true, &mut others),
                Ok(Key::Generation { .. } | Key::Parameters { .. }) | Err(_) => {
                    (false, &mut others)
                }
            };
            if deletable && self.age(path, *modified, now).await? >= policy.min_age {
                bucket.push(path.clone());
            }
        }
        // Manifests go first, so an interrupted GC never leaves a commit without its objects.
        manifests.sort_unstable();
        let mut report = GcReport {
            kept_epochs: kept.iter().map(|manifest| manifest.epoch).collect(),
            deleted: Vec::new(),
        };
        for path in manifests.into_iter().chain(others) {
            self.inner
                .op
                .delete(&path)
                .await
                .map_err(|e| Error::storage("delete", &path, e))?;
            self.inner.cache.remove(&path);
            report.deleted.push(path);
        }
        self.remove_emptied_folders(&listed, &report.deleted).await;
        let listed: HashSet<&String> = listed.iter().map(|(path, _)| path).collect();
        self.inner
            .first_seen
            .lock()
            .retain(|path, _| listed.contains(path));
        Ok(report)
    }

    /// How long ago the object was written: from the backend's modification time, or, where the
    /// backend keeps none (memory), from when this process first saw it — a lower bound.
    async fn age(
        &self,
        path: &str,
        listed: Option<SystemTime>,
        now: SystemTime,
    ) -> Result<Duration> {
        let modified = match listed {
            Some(t) => Some(t),
            None => self
                .inner
                .op
                .stat(path)
                .await
                .map_err(|e| Error::storage("stat", path, e))?
                .last_modified()
                .map(SystemTime::from),
        };
        let since = match modified {
            Some(t) => t,
            None => *self
                .inner
                .first_seen
                .lock()
                .entry(path.to_owned())
                .or_insert(now),
        };
        Ok(now.duration_since(since).unwrap_or(Duration::ZERO))
    }

    /// On fs, folders do not vanish with their last file: remove epoch folders GC emptied.
    async fn remove_emptied_folders(&self, listed: &[ListedFile], deleted: &[String]) {
        if self.inner.fs_root.is_none() {
            return;
        }
        let deleted: HashSet<&String> = deleted.iter().collect();
        let mut emptied: BTreeMap<u64, bool> = BTreeMap::new();
        for (path, _) in listed {
            if let Some(epoch) = Key::parse(path).ok().and_then(|key| key.epoch()) {
                *emptied.entry(epoch).or_insert(true) &= deleted.contains(path);
            }
        }
        for epoch in emptied
            .into_iter()
            .filter_map(|(epoch, empty)| empty.then_some(epoch))
        {
            // A writer may have put something there since the listing; then the folder stays.
            if let Err(e) = self.inner.op.delete(&epoch_prefix(epoch)).await {
                tracing::debug!(epoch, error = %e, "epoch folder not removed");
            }
        }
    }
}
