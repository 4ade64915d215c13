//! The frames a runtime sends to shards on other nodes, as MessagePack
//! (`rmp-serde`). A channel's frames travel in order on one transport
//! channel, so a batch's sequence numbers keep the order the sending shard
//! gave them. Markers travel apart, batched per node link (`markers`).

use serde::{Deserialize, Serialize};

use crate::address::{Address, FunctionType, ShardId};
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

/// A [`StoredMessage`] as it arrives, borrowed from the frame: reading a
/// frame allocates nothing per message and looks nothing up; the
/// addresses are made when the message is decoded ([`decode_message`]).
#[derive(Debug, Deserialize)]
pub(crate) struct IncomingMessage<'a> {
    #[serde(borrow)]
    pub(crate) to: IncomingAddress<'a>,
    #[serde(borrow)]
    pub(crate) from: Option<IncomingAddress<'a>>,
    pub(crate) message: &'a str,
    pub(crate) body: &'a serde_bytes::Bytes,
}

/// An [`Address`] as it arrives: its function type's name and its id,
/// borrowed from the frame. It reads what an `Address` writes.
#[derive(Debug, Deserialize)]
pub(crate) struct IncomingAddress<'a> {
    #[serde(borrow)]
    function: Text<'a>,
    #[serde(borrow)]
    id: Text<'a>,
}

/// A string borrowed from the frame, sent as MessagePack `str` or as UTF-8
/// `bin`, as names and ids are accepted elsewhere.
#[derive(Debug)]
struct Text<'a>(&'a str);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

/// Takes strings and UTF-8 bytes borrowed from the input.
struct TextVisitor;

impl<'de> serde::de::Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a string borrowed from the frame")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(text))
    }

    fn visit_borrowed_bytes<E: serde::de::Error>(self, text: &'de [u8]) -> Result<Text<'de>, E> {
        std::str::from_utf8(text)
            .map(Text)
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(text), &self))
    }
}

/// The function types one frame names, each looked up in the process-wide
/// table once per frame rather than once per address.
#[derive(Default)]
pub(crate) struct FrameFunctions {
    known: Vec<FunctionType>,
}

impl FrameFunctions {
    /// The address `incoming` names; an unknown function type is an error.
    fn address(&mut self, incoming: &IncomingAddress<'_>) -> Result<Address, CodecError> {
        let name = incoming.function.0;
        let function = match self.known.iter().find(|known| known.name() == name) {
            Some(known) => *known,
            None => {
                let function = FunctionType::lookup(name)
                    .ok_or_else(|| CodecError::Decode(format!("unknown function type `{name}`")))?;
                self.known.push(function);
                function
            }
        };
        Ok(Address::new(function, incoming.id.0))
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

/// Decodes a message from the wire, typed through its destination's
/// function in `registry`; one whose body does not decode becomes an
/// [`Undeliverable`] for the same actor. An address naming a function type
/// this process does not know is an error.
pub(crate) fn decode_message(
    registry: &Registry,
    functions: &mut FrameFunctions,
    message: IncomingMessage<'_>,
) -> Result<Envelope, CodecError> {
    let IncomingMessage {
        to,
        from,
        message,
        body,
    } = message;
    let to = functions.address(&to)?;
    let from = from.map(|from| functions.address(&from)).transpose()?;
    Ok(match decode_payload(registry, &to, message, body) {
        Ok(payload) => Envelope::new(to, from, payload),
        Err(error) => {
            tracing::warn!(%to, %error, "message from another node does not decode; dead letter");
            let undeliverable = Undeliverable {
                message: message.to_owned(),
            };
            Envelope::new(to, from, Payload::new(undeliverable))
        }
    })
}
