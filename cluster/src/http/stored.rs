//! Reading an actor's state as of a committed snapshot epoch, straight from
//! the node's store (`GET /v1/actors/TYPE/ID?epoch=E`).
//!
//! The endpoint opens its own handle on the store from the node's URL, on
//! first use, and reads like the offline checker: the epoch's manifest, the
//! actor's shard's chain of parts, folded. Decoding the parts needs every
//! function type registered in-process, which is true inside the node. The
//! state is transcoded from MessagePack to JSON without the Rust type, so
//! state stored under an older schema still shows.

use std::sync::OnceLock;

use cairn_core::{Address, ShardCount, ShardSnapshot};
use cairn_persistence::{decode_object, Store, StoreOptions};

use super::error::ApiError;

/// The node's store as the endpoint reads it, opened on first use.
#[derive(Debug, Default)]
pub(crate) struct StoreCell(OnceLock<Result<Store, String>>);

impl StoreCell {
    /// The store at `url`, opened now if it was not yet. A `memory://`
    /// store is private to the handle the node opened, so it cannot be
    /// read from here.
    fn open(&self, url: &str) -> Result<&Store, ApiError> {
        if url.starts_with("memory:") {
            return Err(ApiError::StoreUnreadable(format!(
                "the node's store is `{url}`, private to its snapshot machinery: \
                 past epochs can be read only from an fs:// or s3:// store"
            )));
        }
        self.0
            .get_or_init(|| Store::open(url, StoreOptions::default()).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|error| ApiError::Internal(format!("cannot open the store {url}: {error}")))
    }
}

/// An actor as a committed epoch holds it.
pub(crate) struct StoredState {
    /// Its state, MessagePack-encoded.
    pub(crate) state: Vec<u8>,
    /// Messages to it in its shard's mailbox at the cut.
    pub(crate) queued_messages: u64,
}

/// Reads `address`'s state at committed `epoch` from the store at `url`.
pub(crate) async fn read_at_epoch(
    cell: &StoreCell,
    url: &str,
    address: &Address,
    epoch: u64,
) -> Result<StoredState, ApiError> {
    let store = cell.open(url)?;
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
