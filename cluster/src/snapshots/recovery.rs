//! Recovery: the latest committed manifest, read back into one restore per
//! shard (SNAPSHOTS §3.7).

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_core::{ShardCount, ShardSnapshot};
use cairn_persistence::{decode_object, Manifest, ObjectRef, Store};

use super::schema::SchemaCheck;
use crate::error::NodeError;

/// What the node resumes from: the committed manifest, if any, and each
/// shard's folded state.
pub(crate) struct Recovered {
    pub(crate) manifest: Option<Manifest>,
    pub(crate) restore: Vec<Option<ShardSnapshot>>,
}

/// Reads the latest committed epoch. A store with none gives an empty
/// recovery; one written with another shard count is refused; an object
/// that fails its checksum or decoding stops recovery with an error naming
/// it (corrupt state is never loaded); state stored under another schema is
/// migrated or refused (`schemas`).
pub(super) async fn recover(
    store: &Store,
    shards: ShardCount,
    schemas: &Arc<SchemaCheck>,
) -> Result<Recovered, NodeError> {
    let Some(manifest) = store.latest_committed().await? else {
        return Ok(Recovered {
            manifest: None,
            restore: Vec::new(),
        });
    };
    if manifest.shard_count != shards.get() {
        return Err(NodeError::ShardCountMismatch {
            stored: manifest.shard_count,
            configured: shards.get(),
        });
    }
    // Shards' chains are independent: read and decode them all at once, so
    // recovery uses every core and overlaps the store's latency.
    let mut reads = tokio::task::JoinSet::new();
    for (shard, entry) in &manifest.shards {
        let (store, chain, schemas) = (store.clone(), entry.chain.clone(), schemas.clone());
        let shard = *shard as usize;
        reads.spawn(async move {
            let parts = read_chain(&store, &chain, &schemas).await?;
            Ok::<_, NodeError>((shard, ShardSnapshot::fold(parts)))
        });
    }
    let mut restore = vec![None; shards.get() as usize];
    while let Some(read) = reads.join_next().await {
        let (shard, folded) = read.expect("a recovery read task panicked; this is a bug")?;
        restore[shard] = folded;
    }
    tracing::info!(
        epoch = manifest.epoch,
        "recovered from the latest committed snapshot"
    );
    Ok(Recovered {
        manifest: Some(manifest),
        restore,
    })
}

async fn read_chain(
    store: &Store,
    chain: &[ObjectRef],
    schemas: &SchemaCheck,
) -> Result<Vec<ShardSnapshot>, NodeError> {
    let mut parts = Vec::with_capacity(chain.len());
    for reference in chain {
        let bytes = store.read_object(&reference.key).await?;
        let mut object = decode_object::<ShardSnapshot>(&reference.key.to_string(), &bytes)?;
        schemas.admit(&object.types, &mut object.body)?;
        parts.push(object.body);
    }
    Ok(parts)
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
