//! Reading an actor's state as of a committed snapshot epoch, straight from
//! the node's store (`GET /v1/actors/TYPE/ID?epoch=E`).
//!
//! It reads through the node's own store handle, like the offline checker:
//! the epoch's manifest, the actor's shard's chain of parts, folded. Decoding the parts needs every
//! function type registered in-process, which is true inside the node. The
//! state is transcoded from MessagePack to JSON without the Rust type, so
//! state stored under an older schema still shows.

use cairn_core::{Address, ShardCount, ShardSnapshot};
use cairn_persistence::{decode_object, Store};

use super::error::ApiError;

/// An actor as a committed epoch holds it.
pub(crate) struct StoredState {
    /// Its state, MessagePack-encoded.
    pub(crate) state: Vec<u8>,
    /// Messages to it in its shard's mailbox at the cut.
    pub(crate) queued_messages: u64,
}

/// Reads `address`'s state at committed `epoch` from `store`.
pub(crate) async fn read_at_epoch(
    store: &Store,
    address: &Address,
    epoch: u64,
) -> Result<StoredState, ApiError> {
    let unreadable = |error: cairn_persistence::Error| {
        ApiError::Internal(format!("cannot read epoch {epoch} from the store: {error}"))
    };
    let manifest = store
        .read_manifest(epoch)
        .await
        .map_err(unreadable)?
        .filter(|manifest| !manifest.aborted)
        .ok_or(ApiError::EpochNotFound(epoch))?;
    let not_in_snapshot = || ApiError::NotInSnapshot {
        address: address.to_string(),
        epoch,
    };
    let shard_count = ShardCount::new(manifest.shard_count).ok_or_else(|| {
        ApiError::Internal(format!(
            "epoch {epoch}'s manifest has no shards: this is a bug"
        ))
    })?;
    let shard = address.shard(shard_count);
    let entry = manifest.shards.get(&shard.0).ok_or_else(not_in_snapshot)?;
    let mut chain = Vec::with_capacity(entry.chain.len());
    for reference in &entry.chain {
        let bytes = store
            .read_object(&reference.key)
            .await
            .map_err(unreadable)?;
        let part = decode_object::<ShardSnapshot>(&reference.key.to_string(), &bytes)
            .map_err(unreadable)?;
        chain.push(part.body);
    }
    let folded = ShardSnapshot::fold(chain).ok_or_else(not_in_snapshot)?;
    let queued_messages = folded
        .mailbox
        .iter()
        .filter(|message| message.to == *address)
        .count() as u64;
    let actor = folded
        .actors
        .into_iter()
        .find(|actor| actor.address == *address)
        .ok_or_else(not_in_snapshot)?;
    Ok(StoredState {
        state: actor.state,
        queued_messages,
    })
}

/// MessagePack state as JSON, without its Rust type.
pub(crate) fn state_json(state: &[u8]) -> Result<serde_json::Value, String> {
    let mut decoder = rmp_serde::Deserializer::from_read_ref(state);
    serde_transcode::transcode(&mut decoder, serde_json::value::Serializer)
        .map_err(|error| format!("cannot show the stored state as JSON: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Account {
        owner: String,
        balance: i64,
        tags: Vec<u8>,
    }

    #[test]
    fn named_messagepack_becomes_a_json_object() {
        let bytes = rmp_serde::to_vec_named(&Account {
            owner: "ada".into(),
            balance: -3,
            tags: vec![1, 2],
        })
        .unwrap();
        assert_eq!(
            state_json(&bytes).unwrap(),
            serde_json::json!({ "owner": "ada", "balance": -3, "tags": [1, 2] })
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(state_json(&[0xc1]).is_err());
    }
}
