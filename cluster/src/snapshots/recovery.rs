//! Recovery: the latest committed manifest, read back into one restore per
//! shard (SNAPSHOTS §3.7).
//!
//! Corrupt state is never loaded. An object of the chosen epoch that is
//! missing, fails its checksum, does not decode, or is not the object its
//! manifest records stops recovery with [`NodeError::CorruptSnapshot`],
//! naming the object. Only with `allow_fallback` does recovery go on to the
//! next-lower committed epoch whose objects all read cleanly, and it says
//! loudly what that costs: the egress released after that epoch may be
//! published again.

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_core::{Epoch, ShardCount, ShardSnapshot};
use cairn_persistence::{
    decode_object, parse_envelope, Manifest, ManifestStatus, ObjectRef, Store,
};

use super::schema::SchemaCheck;
use crate::error::NodeError;

/// What the node resumes from: the committed manifest, if any, and each
/// shard's folded state.
pub(crate) struct Recovered {
    pub(crate) manifest: Option<Manifest>,
    pub(crate) restore: Vec<Option<ShardSnapshot>>,
    /// The highest epoch number the store has a MANIFEST for, of any kind
    /// (commit, tombstone, torn, fenced, or a damaged commit skipped by a
    /// fallback): new epochs are numbered above it, never reusing one.
    pub(crate) highest_used: Option<Epoch>,
}

/// Reads the latest committed epoch. A store with none gives an empty
/// recovery; one written with another shard count is refused; state stored
/// under another schema is migrated or refused (`schemas`).
///
/// An object that is missing or damaged stops recovery with an error naming
/// it, unless `allow_fallback`: then recovery tries each lower committed
/// epoch in turn and restores the newest one whose objects all read
/// cleanly, logging an error that exactly-once is lost for the egress
/// released since it. Errors that are not damage (the store unreachable, a
/// schema refused) never cause a fallback.
pub(super) async fn recover(
    store: &Store,
    shards: ShardCount,
    schemas: &Arc<SchemaCheck>,
    allow_fallback: bool,
) -> Result<Recovered, NodeError> {
    let history = store.manifests().await?;
    let highest_used = history.last().map(|(epoch, _)| *epoch);
    let committed: Vec<Manifest> = history
        .into_iter()
        .rev()
        .filter_map(|(_, status)| match status {
            ManifestStatus::Committed(manifest) => Some(manifest),
            _ => None,
        })
        .collect();
    // The damaged epochs skipped so far, newest first.
    let mut skipped: Vec<Epoch> = Vec::new();
    for manifest in committed {
        if manifest.shard_count != shards.get() {
            return Err(NodeError::ShardCountMismatch {
                stored: manifest.shard_count,
                configured: shards.get(),
            });
        }
        match load(store, &manifest, shards, schemas, None).await {
            Ok(restore) => {
                if let Some(&newest) = skipped.first() {
                    tracing::error!(
                        restored = manifest.epoch,
                        newest_committed = newest,
                        skipped = ?skipped,
                        "FALLBACK: restored epoch {} instead of the newest committed epoch {} \
                         because it is damaged. Exactly-once is LOST: egress released after \
                         epoch {} (up to epoch {}) may be published again, and durable replies \
                         and acknowledgements given for those epochs are undone",
                        manifest.epoch,
                        newest,
                        manifest.epoch,
                        newest,
                    );
                }
                tracing::info!(
                    epoch = manifest.epoch,
                    "recovered from a committed snapshot"
                );
                return Ok(Recovered {
                    manifest: Some(manifest),
                    restore,
                    highest_used,
                });
            }
            Err(NodeError::CorruptSnapshot {
                epoch,
                object,
                reason,
            }) if allow_fallback => {
                tracing::error!(
                    epoch,
                    %object,
                    %reason,
                    "committed snapshot epoch {epoch} is damaged: object {object} {reason}; \
                     falling back to an earlier committed epoch"
                );
                skipped.push(epoch);
            }
            Err(error) => return Err(error),
        }
    }
    if !skipped.is_empty() {
        return Err(NodeError::NoIntactSnapshot { tried: skipped });
    }
    Ok(Recovered {
        manifest: None,
        restore: Vec::new(),
        highest_used,
    })
}

/// Reads committed epoch `epoch` for the shards `owned` marks (by index)
/// — a cluster member's share of a generation — and folds each one's
/// chain. A member never falls back: every member must restore the same
/// epoch. `None` restores nothing (the cluster has no commit yet).
pub(crate) async fn restore_owned(
    store: &Store,
    epoch: Option<Epoch>,
    shards: ShardCount,
    schemas: &Arc<SchemaCheck>,
    owned: &[bool],
) -> Result<Vec<Option<ShardSnapshot>>, NodeError> {
    let Some(epoch) = epoch else {
        return Ok(Vec::new());
    };
    // A member joining a running generation owns nothing yet; the epoch
    // that generation started from may be long collected.
    if !owned.contains(&true) {
        return Ok(Vec::new());
    }
    let manifest = store
        .read_manifest(epoch)
        .await?
        .filter(|manifest| !manifest.aborted)
        .ok_or_else(|| NodeError::CorruptSnapshot {
            epoch,
            object: cairn_persistence::manifest_key(epoch),
            reason: "is missing or an ABORTED tombstone, but the coordinator chose it".into(),
        })?;
    if manifest.shard_count != shards.get() {
        return Err(NodeError::ShardCountMismatch {
            stored: manifest.shard_count,
            configured: shards.get(),
        });
    }
    load(store, &manifest, shards, schemas, Some(owned)).await
}

/// Reads and folds the chain of every shard of `manifest`, or of those
/// `owned` marks.
async fn load(
    store: &Store,
    manifest: &Manifest,
    shards: ShardCount,
    schemas: &Arc<SchemaCheck>,
    owned: Option<&[bool]>,
) -> Result<Vec<Option<ShardSnapshot>>, NodeError> {
    // Shards' chains are independent: read and decode them all at once, so
    // recovery uses every core and overlaps the store's latency.
    let mut reads = tokio::task::JoinSet::new();
    for (shard, entry) in &manifest.shards {
        if owned.is_some_and(|owned| !owned.get(*shard as usize).copied().unwrap_or(false)) {
            continue;
        }
        let (store, chain, schemas) = (store.clone(), entry.chain.clone(), schemas.clone());
        let (shard, epoch) = (*shard as usize, manifest.epoch);
        reads.spawn(async move {
            let parts = read_chain(&store, epoch, &chain, &schemas).await?;
            Ok::<_, NodeError>((shard, ShardSnapshot::fold(parts)))
        });
    }
    let mut restore = vec![None; shards.get() as usize];
    while let Some(read) = reads.join_next().await {
        let (shard, folded) = read.expect("a recovery read task panicked; this is a bug")?;
        restore[shard] = folded;
    }
    Ok(restore)
}

async fn read_chain(
    store: &Store,
    epoch: Epoch,
    chain: &[ObjectRef],
    schemas: &SchemaCheck,
) -> Result<Vec<ShardSnapshot>, NodeError> {
    let mut parts = Vec::with_capacity(chain.len());
    for reference in chain {
        let key = reference.key.to_string();
        let damaged = |reason: String| NodeError::CorruptSnapshot {
            epoch,
            object: key.clone(),
            reason,
        };
        let bytes = store
            .read_object(&reference.key)
            .await
            .map_err(|error| damage(error, &damaged))?;
        // The envelope's own checksum passed; it must also be the object the
        // manifest committed, not another intact one under the same name.
        let crc32c = parse_envelope(&key, &bytes)
            .map_err(|error| damage(error, &damaged))?
            .crc32c;
        if bytes.len() as u64 != reference.len || crc32c != reference.crc32c {
            return Err(damaged(format!(
                "is not the object the manifest records: {} bytes with checksum {crc32c:#010x} \
                 where the manifest records {} bytes with checksum {:#010x}",
                bytes.len(),
                reference.len,
                reference.crc32c
            )));
        }
        let mut object = decode_object::<ShardSnapshot>(&key, &bytes)
            .map_err(|error| damage(error, &damaged))?;
        schemas.admit(&object.types, &mut object.body)?;
        parts.push(object.body);
    }
    Ok(parts)
}

/// A store error reading a committed object, as damage to the snapshot if
/// it is damage (missing or corrupt), or as it is otherwise (a store that
/// cannot be reached is not a reason to fall back).
fn damage(error: cairn_persistence::Error, damaged: &impl Fn(String) -> NodeError) -> NodeError {
    match error {
        cairn_persistence::Error::NotFound { .. } => damaged("is missing".to_owned()),
        cairn_persistence::Error::Corrupt { reason, .. } => {
            damaged(format!("is corrupt ({reason})"))
        }
        other => other.into(),
    }
}

/// The chains of a recovered manifest, to extend with the next parts.
pub(crate) fn chains_of(manifest: Option<&Manifest>) -> BTreeMap<u32, Vec<ObjectRef>> {
    manifest
        .map(|manifest| {
            manifest
                .shards
                .iter()
                .map(|(shard, entry)| (*shard, entry.chain.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_persistence::StoreOptions;

    /// A member that owns no shard reads nothing, so it can join a
    /// generation whose starting epoch has since been collected; one that
    /// owns a shard is told the epoch is missing.
    #[tokio::test]
    async fn owning_nothing_reads_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(
            &format!("fs://{}", dir.path().display()),
            StoreOptions::default(),
        )
        .expect("opens");
        let shards = ShardCount::new(4).expect("not zero");
        let schemas = Arc::new(SchemaCheck::new(
            &cairn_core::Registry::new(),
            Default::default(),
        ));
        let nothing = restore_owned(&store, Some(7), shards, &schemas, &[false; 4])
            .await
            .expect("nothing to read");
        assert!(nothing.is_empty());
        let missing = restore_owned(
            &store,
            Some(7),
            shards,
            &schemas,
            &[true, false, false, false],
        )
        .await
        .expect_err("epoch 7 was never committed");
        assert!(
            matches!(missing, NodeError::CorruptSnapshot { epoch: 7, .. }),
            "{missing:?}"
        );
    }
}
