//! A committed snapshot read back from a store outside any node: for tools
//! and batch jobs that report what the last committed epoch holds (such as
//! the bank example's `balances`).

use cairn_core::{ActorId, Epoch, ShardSnapshot, StatefulFunction};
use cairn_persistence::{decode_object, Store};

use crate::error::NodeError;

/// Every shard's state as of one committed epoch, each chain folded.
#[derive(Debug)]
pub struct CommittedSnapshot {
    epoch: Epoch,
    shards: Vec<ShardSnapshot>,
    /// `(function type, schema hash)` of every state in the parts.
    schemas: Vec<(String, u64)>,
}

impl CommittedSnapshot {
    /// The latest committed epoch of `store`, or `None` if it has none. An
    /// object that is missing or fails its checksum is an error naming it.
    pub async fn latest(store: &Store) -> Result<Option<Self>, NodeError> {
        let Some(manifest) = store.latest_committed().await? else {
            return Ok(None);
        };
        let mut shards = Vec::with_capacity(manifest.shards.len());
        let mut schemas = Vec::new();
        for entry in manifest.shards.values() {
            let mut chain = Vec::with_capacity(entry.chain.len());
            for reference in &entry.chain {
                let key = reference.key.to_string();
                let bytes = store.read_object(&reference.key).await?;
                let object = decode_object::<ShardSnapshot>(&key, &bytes)?;
                schemas.extend(
                    object
                        .types
                        .into_iter()
                        .map(|schema| (schema.type_name, schema.schema_hash)),
                );
                chain.push(object.body);
            }
            shards.extend(ShardSnapshot::fold(chain));
        }
        schemas.sort_unstable();
        schemas.dedup();
        Ok(Some(Self {
            epoch: manifest.epoch,
            shards,
            schemas,
        }))
    }

    /// The epoch.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// Every actor of function `F` the epoch holds, with its state, in no
    /// particular order. `F` must be registered in this process (a
    /// `Registry` or a node) for its addresses to decode; state stored under
    /// another schema hash is refused.
    pub fn states<F: StatefulFunction>(&self) -> Result<Vec<(ActorId, F)>, NodeError> {
        if let Some((_, stored)) = self
            .schemas
            .iter()
            .find(|(name, hash)| name == F::TYPE_NAME && *hash != F::SCHEMA_HASH)
        {
            return Err(NodeError::SchemaMismatch {
                function: F::TYPE_NAME.to_owned(),
                stored: *stored,
                current: F::SCHEMA_HASH,
            });
        }
        let mut states = Vec::new();
        for actor in self.shards.iter().flat_map(|shard| &shard.actors) {
            if actor.address.function().name() != F::TYPE_NAME {
                continue;
            }
            let state = rmp_serde::from_slice::<F>(&actor.state).map_err(|error| {
                NodeError::Runtime(cairn_core::Error::Codec(cairn_core::CodecError::Decode(
                    format!("state of {}: {error}", actor.address),
                )))
            })?;
            states.push((actor.address.id().clone(), state));
        }
        Ok(states)
    }
}
