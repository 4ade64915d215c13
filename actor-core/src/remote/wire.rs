//! The frames a runtime sends to shards on other nodes, as MessagePack
//! (`rmp-serde`). A channel's frames travel in order on one transport
//! channel, so a batch's sequence numbers keep the order the sending shard
//! gave them. Markers travel apart, batched per node link (`markers`).

use serde::{Deserialize, Serialize};

use crate::address::{Address, ShardId};
use crate::envelope::Envelope;
use crate::error::CodecError;
use crate::message::Payload;
use crate::registry::Registry;
use crate::snapshot::{decode_payload, Epoch, StoredMessage};

/// One frame on a channel to a shard on another node. Sent with owned
/// [`StoredMessage`]s (or views that serialize the same, see `batch`);
/// read with [`IncomingMessage`]s borrowing from the frame's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Frame<M = StoredMessage> {
    /// Messages on the channel `from → to`; the `i`th has sequence
    /// `first_seq + i`. `color` is the sender's epoch.
    Batch {
        from: ShardId,
        to: ShardId,
        first_seq: u64,
        color: Epoch,
        messages: Vec<M>,
    },
    /// Messages sent from outside the actor system to actors of `to`.
    External { to: ShardId, messages: Vec<M> },
}

impl Frame {
    pub(crate) fn encode(&self) -> Result<Vec<u8>, CodecError> {
        rmp_serde::to_vec(self).map_err(|error| CodecError::Encode(error.to_string()))
    }

    #[cfg(test)]
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        rmp_serde::from_slice(bytes).map_err(|error| CodecError::Decode(error.to_string()))
    }
}

impl<'a> Frame<IncomingMessage<'a>> {
    /// Reads a frame, its messages' names and bodies borrowed from `bytes`.
    pub(crate) fn read(bytes: &'a [u8]) -> Result<Self, CodecError> {
        rmp_serde::from_slice(bytes).map_err(|error| CodecError::Decode(error.to_string()))
    }
}

/// A [`StoredMessage`] as it arrives, its name and body borrowed from the
/// frame: reading a frame allocates nothing per message for them.
#[derive(Debug, Deserialize)]
pub(crate) struct IncomingMessage<'a> {
    pub(crate) to: Address,
    pub(crate) from: Option<Address>,
    pub(crate) message: &'a str,
    pub(crate) body: &'a serde_bytes::Bytes,
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

/// Decodes a message from the wire, typed through its destination's
/// function in `registry`; one that does not decode becomes an
/// [`Undeliverable`] for the same actor.
pub(crate) fn decode_message(registry: &Registry, message: IncomingMessage<'_>) -> Envelope {
    let IncomingMessage {
        to,
        from,
        message,
        body,
    } = message;
    match decode_payload(registry, &to, message, body) {
        Ok(payload) => Envelope::new(to, from, payload),
        Err(error) => {
            tracing::warn!(%to, %error, "message from another node does not decode; dead letter");
            let undeliverable = Undeliverable {
                message: message.to_owned(),
            };
            Envelope::new(to, from, Payload::new(undeliverable))
        }
    }
}
