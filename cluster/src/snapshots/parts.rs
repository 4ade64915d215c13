//! Shards' parts of an epoch: uploading each as an object, and folding the
//! uploads into the shards' chains and a manifest. Shared by the single
//! node's coordinator and the cluster's, whose members upload their own
//! shards' parts.

use std::collections::BTreeMap;

use cairn_core::{Epoch, Registry, ShardSnapshot};
use cairn_persistence::{
    encode_object, Manifest, ObjectRef, ShardEntry, ShardObjectKey, ShardObjectKind, Store,
    TypeSchema,
};
use serde::{Deserialize, Serialize};

use crate::error::NodeError;

/// One shard's part of an epoch, uploaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PartUpload {
    /// The shard.
    pub(crate) shard: u32,
    /// Whether the part is a new base of the shard's chain.
    pub(crate) full: bool,
    /// The stored object.
    pub(crate) reference: ObjectRef,
    /// Bytes of message bodies in its channel logs.
    pub(crate) channel_log_bytes: u64,
}

/// The shards' chains of parts since their bases, by shard.
pub(crate) type Chains = BTreeMap<u32, Vec<ObjectRef>>;

/// Encodes `part` and stores it under a unique key of `generation` and
/// `incarnation` (the writer's fencing numbers).
pub(crate) async fn upload(
    store: &Store,
    types: &[TypeSchema],
    part: ShardSnapshot,
    generation: u64,
    incarnation: u64,
) -> Result<PartUpload, NodeError> {
    let bytes = encode_object(ShardObjectKind::State.object_kind(), types, &part)?;
    let key = ShardObjectKey::new(
        part.epoch,
        part.shard.0,
        generation,
        incarnation,
        ShardObjectKind::State,
    );
    Ok(PartUpload {
        shard: part.shard.0,
        full: part.full,
        reference: store.put_object(&key, bytes).await?,
        channel_log_bytes: part
            .channels
            .iter()
            .flat_map(|channel| &channel.log)
            .map(|message| message.body.len() as u64)
            .sum(),
    })
}

/// `chains` extended with `uploads`: a full part starts its shard's chain
/// anew (garbage collection reclaims the parts before it once no kept
/// epoch references them).
pub(crate) fn extend_chains(chains: &Chains, mut uploads: Vec<PartUpload>) -> Chains {
    let mut chains = chains.clone();
    uploads.sort_unstable_by_key(|upload| upload.shard);
    for upload in uploads {
        let chain = chains.entry(upload.shard).or_default();
        if upload.full {
            chain.clear();
        }
        chain.push(upload.reference);
    }
    chains
}

/// What a committed epoch's manifest records.
pub(crate) struct ManifestOf<'a> {
    pub(crate) epoch: Epoch,
    pub(crate) generation: u64,
    pub(crate) incarnation: u64,
    pub(crate) parent: Option<Epoch>,
    pub(crate) shard_count: u32,
    pub(crate) chains: &'a Chains,
}

impl ManifestOf<'_> {
    /// The manifest.
    pub(crate) fn build(&self) -> Manifest {
        Manifest {
            epoch: self.epoch,
            generation: self.generation,
            incarnation: self.incarnation,
            parent: self.parent,
            shard_count: self.shard_count,
            shards: self
                .chains
                .iter()
                .map(|(shard, chain)| {
                    (
                        *shard,
                        ShardEntry {
                            chain: chain.clone(),
                        },
                    )
                })
                .collect(),
            aborted: false,
            metadata: BTreeMap::new(),
        }
    }
}

/// The schema hash of every registered function type.
pub(crate) fn schemas(registry: &Registry) -> Vec<TypeSchema> {
    registry
        .functions()
        .into_iter()
        .map(|function| TypeSchema::new(function.function_type().name(), function.schema_hash()))
        .collect()
}
