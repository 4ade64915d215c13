//! The manifest: the commit record of one epoch (SNAPSHOTS rule 9).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{CorruptReason, Error, Result};
use crate::format::{decode_kind, encode_object, ObjectKind};
use crate::keys::{manifest_key, ShardObjectKey, ShardObjectKind};

/// A reference from a manifest to a stored shard object, with what is needed to check it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// Where the object is.
    pub key: ShardObjectKey,
    /// Its length in bytes.
    pub len: u64,
    /// Its CRC32C, as stored in its last four bytes.
    pub crc32c: u32,
}

impl ObjectRef {
    /// What the object holds (from its key).
    pub fn kind(&self) -> ShardObjectKind {
        self.key.kind
    }
}

/// What one shard contributed to an epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// The objects to load, in order: the base state first, then its deltas (SNAPSHOTS rule 33),
    /// then the channel logs. Earlier entries may live in earlier epochs' folders.
    pub chain: Vec<ObjectRef>,
}

/// The commit record of an epoch, or an ABORTED tombstone that uses up its number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The epoch E.
    pub epoch: u64,
    /// The coordinator generation g that wrote it.
    pub generation: u64,
    /// The cluster incarnation R.
    pub incarnation: u64,
    /// The epoch this one follows, if any.
    pub parent: Option<u64>,
    /// The number of shards of the cluster.
    pub shard_count: u32,
    /// What each shard contributed, by shard id.
    pub shards: BTreeMap<u32, ShardEntry>,
    /// An ABORTED tombstone (SNAPSHOTS rule 29): not a commit, but the epoch number is used up.
    pub aborted: bool,
    /// Opaque data of the layers above: ingress offsets, egress references, shard maps,
    /// application parameters.
    pub metadata: BTreeMap<String, Vec<u8>>,
}

impl Manifest {
    /// An ABORTED tombstone for `epoch`, written by generation `generation`.
    pub fn tombstone(epoch: u64, generation: u64, incarnation: u64) -> Self {
        Self {
            epoch,
            generation,
            incarnation,
            parent: None,
            shard_count: 0,
            shards: BTreeMap::new(),
            aborted: true,
            metadata: BTreeMap::new(),
        }
    }

    /// Every object the manifest references, across all shards.
    pub fn objects(&self) -> impl Iterator<Item = &ObjectRef> {
        self.shards.values().flat_map(|entry| entry.chain.iter())
    }

    /// Checks that the manifest does not contradict itself.
    pub fn validate(&self) -> Result<()> {
        let fail = |reason: String| {
            Err(Error::InvalidManifest {
                epoch: self.epoch,
                reason,
            })
        };
        if let Some(parent) = self.parent {
            if parent >= self.epoch {
                return fail(format!(
                    "parent epoch {parent} is not before {}",
                    self.epoch
                ));
            }
        }
        if self.aborted && !self.shards.is_empty() {
            return fail("an ABORTED tombstone references objects".into());
        }
        for (&shard, entry) in &self.shards {
            if shard >= self.shard_count {
                return fail(format!(
                    "shard {shard} is not below shard count {}",
                    self.shard_count
                ));
            }
            for object in &entry.chain {
                if object.key.shard != shard {
                    return fail(format!(
                        "shard {shard} lists {} of shard {}",
                        object.key, object.key.shard
                    ));
                }
                if object.key.epoch > self.epoch {
                    return fail(format!("references {} of a later epoch", object.key));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        encode_object(ObjectKind::Manifest, &[], self)
    }

    /// Decodes a stored manifest and checks that it belongs where it was found.
    pub(crate) fn decode(epoch: u64, bytes: &[u8]) -> Result<Self> {
        let key = manifest_key(epoch);
        let manifest: Self = decode_kind(&key, bytes, ObjectKind::Manifest)?;
        if manifest.epoch != epoch {
            return Err(Error::corrupt(
                key,
                CorruptReason::Inconsistent(format!(
                    "manifest of epoch {} stored at epoch {epoch}",
                    manifest.epoch
                )),
            ));
        }
        manifest
            .validate()
            .map_err(|e| Error::corrupt(&key, CorruptReason::Inconsistent(e.to_string())))?;
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_manifest() -> impl Strategy<Value = Manifest> {
        let entry = |epoch: u64, shard: u32| {
            prop::collection::vec((0..=epoch, any::<u64>(), any::<u32>(), any::<bool>()), 0..4)
                .prop_map(move |refs| ShardEntry {
                    chain: refs
                        .into_iter()
                        .map(|(e, len, crc32c, state)| {
                            let kind = if state {
                                ShardObjectKind::State
                            } else {
                                ShardObjectKind::ChanLog
                            };
                            ObjectRef {
                                key: ShardObjectKey::new(e, shard, 1, 1, kind),
                                len,
                                crc32c,
                            }
                        })
                        .collect(),
                })
        };
        (
            1u64..1000,
            any::<u64>(),
            any::<u64>(),
            1u32..8,
            any::<bool>(),
        )
            .prop_flat_map(
                move |(epoch, generation, incarnation, shard_count, aborted)| {
                    let shards = if aborted {
                        Just(BTreeMap::new()).boxed()
                    } else {
                        let all: Vec<u32> = (0..shard_count).collect();
                        prop::sample::subsequence(all, 0..=shard_count as usize)
                            .prop_flat_map(move |ids| {
                                ids.into_iter()
                                    .map(|s| entry(epoch, s).prop_map(move |e| (s, e)))
                                    .collect::<Vec<_>>()
                            })
                            .prop_map(|v| v.into_iter().collect())
                            .boxed()
                    };
                    (
                        shards,
                        prop::option::of(0..epoch),
                        prop::collection::btree_map(
                            ".{0,10}",
                            prop::collection::vec(any::<u8>(), 0..20),
                            0..4,
                        ),
                    )
                        .prop_map(move |(shards, parent, metadata)| Manifest {
                            epoch,
                            generation,
                            incarnation,
                            parent,
                            shard_count,
                            shards,
                            aborted,
                            metadata,
                        })
                },
            )
    }

    proptest! {
        /// Any valid manifest encodes and decodes back to itself.
        #[test]
        fn round_trip(manifest in any_manifest()) {
            manifest.validate().unwrap();
            let bytes = manifest.encode().unwrap();
            prop_assert_eq!(Manifest::decode(manifest.epoch, &bytes).unwrap(), manifest);
        }
    }

    /// A manifest found under another epoch's name is corrupt, not a commit of that epoch.
    #[test]
    fn misplaced_manifest_is_corrupt() {
        let bytes = Manifest::tombstone(4, 1, 1).encode().unwrap();
        assert!(matches!(
            Manifest::decode(5, &bytes),
            Err(Error::Corrupt { .. })
        ));
    }

    /// Self-contradicting manifests are refused.
    #[test]
    fn invalid_manifests_are_refused() {
        let mut m = Manifest::tombstone(4, 1, 1);
        m.parent = Some(4);
        assert!(m.validate().is_err());
        let mut m = Manifest::tombstone(4, 1, 1);
        m.aborted = false;
        m.shard_count = 2;
        let chain = vec![ObjectRef {
            key: ShardObjectKey::new(5, 1, 1, 1, ShardObjectKind::State),
            len: 1,
            crc32c: 0,
        }];
        m.shards.insert(
            1,
            ShardEntry {
                chain: chain.clone(),
            },
        );
        assert!(m.validate().is_err(), "later epoch accepted");
        m.shards.clear();
        m.shards.insert(0, ShardEntry { chain });
        assert!(m.validate().is_err(), "foreign shard accepted");
    }
}
