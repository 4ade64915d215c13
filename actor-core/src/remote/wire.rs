//! The frames a runtime sends to shards on other nodes, as MessagePack
//! (`rmp-serde`). A channel's frames travel in order on one transport
//! channel, so a batch's sequence numbers keep the order the sending shard
//! gave them. Markers travel apart, batched per node link (`markers`).

use serde::{Deserialize, Serialize};

use crate::address::ShardId;
use crate::envelope::Envelope;
use crate::error::CodecError;
use crate::message::Payload;
use crate::registry::Registry;
use crate::snapshot::{Epoch, StoredMessage};

/// One frame on a channel to a shard on another node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Frame {
    /// Messages on the channel `from → to`; the `i`th has sequence
    /// `first_seq + i`. `color` is the sender's epoch.
    Batch {
        from: ShardId,
        to: ShardId,
        first_seq: u64,
        color: Epoch,
        messages: Vec<StoredMessage>,
    },
    /// Messages sent from outside the actor system to actors of `to`.
    External {
        to: ShardId,
        messages: Vec<StoredMessage>,
    },
}

impl Frame {
    pub(crate) fn encode(&self) -> Result<Vec<u8>, CodecError> {
        rmp_serde::to_vec(self).map_err(|error| CodecError::Encode(error.to_string()))
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        rmp_serde::from_slice(bytes).map_err(|error| CodecError::Decode(error.to_string()))
    }
}

/// What a message that could not cross between nodes becomes at its
/// destination: a payload no function takes, so the destination shard
/// counts it as a dead letter, as it would have counted the original. It
/// keeps the channel's sequence numbers intact.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Undeliverable {
    /// The original message's name or type.
    pub(crate) message: String,
}

/// Decodes a message from the wire; one that does not decode becomes an
/// [`Undeliverable`] for the same actor.
pub(crate) fn decode_message(registry: &Registry, message: &StoredMessage) -> Envelope {
    match message.decode(registry) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::warn!(to = %message.to, %error, "message from another node does not decode; dead letter");
            Envelope::new(
                message.to.clone(),
                message.from.clone(),
                Payload::new(Undeliverable {
                    message: message.message.clone(),
                }),
            )
        }
    }
}
