//! Which epochs are committed (SNAPSHOTS rules 10 and 29).

use crate::error::{Error, Result};
use crate::keys::manifest_key;
use crate::manifest::Manifest;
use crate::store::Store;

/// What the MANIFEST of an epoch amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestStatus {
    /// A valid manifest: the epoch is committed.
    Committed(Manifest),
    /// An ABORTED tombstone: not a commit; the epoch number is used up.
    Aborted(Manifest),
    /// A valid manifest written by a generation lower than that of a manifest or tombstone at a
    /// lower epoch: a zombie coordinator's, ignored by recovery (SNAPSHOTS rule 29).
    Fenced {
        /// The ignored manifest.
        manifest: Manifest,
        /// The higher generation seen below it.
        by_generation: u64,
    },
    /// Bytes under the MANIFEST name that fail their checksum or do not decode: not a commit.
    Torn {
        /// Why it is not a manifest.
        reason: String,
    },
}

impl ManifestStatus {
    /// The manifest, if the epoch is committed.
    pub fn committed(&self) -> Option<&Manifest> {
        match self {
            Self::Committed(manifest) => Some(manifest),
            _ => None,
        }
    }
}

impl Store {
    /// Every epoch that has a MANIFEST, ascending, with what that MANIFEST amounts to.
    pub async fn manifests(&self) -> Result<Vec<(u64, ManifestStatus)>> {
        let mut history = Vec::new();
        self.scan_manifests(|epoch, status| history.push((epoch, status)))
            .await?;
        Ok(history)
    }

    /// Reads every MANIFEST in ascending epoch order and hands each to `visit` with what it
    /// amounts to, one at a time, so a caller keeps only what it needs (GC: the newest committed
    /// ones).
    pub(crate) async fn scan_manifests(
        &self,
        mut visit: impl FnMut(u64, ManifestStatus),
    ) -> Result<()> {
        // The highest generation of a valid manifest or tombstone so far (rule 29).
        let mut fence = 0;
        for epoch in self.epoch_folders().await? {
            let status = match self.read_manifest(epoch).await {
                Ok(None) => continue,
                Ok(Some(manifest)) if manifest.generation < fence => ManifestStatus::Fenced {
                    manifest,
                    by_generation: fence,
                },
                Ok(Some(manifest)) => {
                    fence = manifest.generation;
                    if manifest.aborted {
                        ManifestStatus::Aborted(manifest)
                    } else {
                        ManifestStatus::Committed(manifest)
                    }
                }
                Err(Error::Corrupt { reason, .. }) => ManifestStatus::Torn {
                    reason: reason.to_string(),
                },
                // A newer format might be a real commit: refuse to guess.
                Err(e) => return Err(e),
            };
            visit(epoch, status);
        }
        Ok(())
    }

    /// The committed epochs, ascending.
    pub async fn committed_epochs(&self) -> Result<Vec<u64>> {
        Ok(self
            .manifests()
            .await?
            .into_iter()
            .filter(|(_, status)| status.committed().is_some())
            .map(|(epoch, _)| epoch)
            .collect())
    }

    /// The manifest of the highest committed epoch: it exists, passes its checksum, is not an
    /// ABORTED tombstone and is not fenced (SNAPSHOTS rule 10). Recovery restores from it.
    pub async fn latest_committed(&self) -> Result<Option<Manifest>> {
        Ok(self
            .manifests()
            .await?
            .into_iter()
            .rev()
            .find_map(|(_, status)| match status {
                ManifestStatus::Committed(manifest) => Some(manifest),
                _ => None,
            }))
    }

    /// The first epoch number above every MANIFEST of any kind (SNAPSHOTS rule 23: tombstones,
    /// torn and fenced manifests use up numbers, and so does one of a format this build cannot
    /// read).
    ///
    /// Cheap whatever the store's history: one listing of the epoch folders and an existence
    /// check per folder from the top down, stopping at the first with a MANIFEST (usually the
    /// first or second: only the open epoch, and epochs whose tombstone could not be written,
    /// lie above the newest MANIFEST). No manifest is read.
    pub async fn next_epoch(&self) -> Result<u64> {
        for epoch in self.epoch_folders().await?.into_iter().rev() {
            if self.has_manifest(epoch).await? {
                return Ok(epoch + 1);
            }
        }
        Ok(1)
    }

    /// Whether `epoch` has a MANIFEST, whatever it holds.
    async fn has_manifest(&self, epoch: u64) -> Result<bool> {
        let key = manifest_key(epoch);
        self.inner
            .op
            .exists(&key)
            .await
            .map_err(|e| Error::storage("stat", key, e))
    }
}
