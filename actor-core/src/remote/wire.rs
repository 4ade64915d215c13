//! The frames a runtime sends to shards on other nodes. A channel's frames
//! travel in order on one transport channel, so a batch's sequence numbers
//! keep the order the sending shard gave them. Markers travel apart,
//! batched per node link (`markers`).
//!
//! A frame is a run of MessagePack values written and read one by one with
//! `rmp`, not through serde: it names each function type and message type
//! once, and its messages refer to the names by index. Reading a message
//! then looks no name up and copies no string; its id and body are
//! borrowed from the frame until the message is decoded.
//!
//! ```text
//! frame   = head count names message{count}
//! head    = 0 to from first_seq color      a batch on the channel from → to
//!         | 1 to                           messages from outside the actors
//! names   = array of str                   every function and message name
//!                                          used, none empty, at most 3 × count
//! message = to_name to_id sender message_name body
//! sender  = nil | from_name from_id
//! ```
//!
//! Shards, sequence numbers, colors, `count` and the `_name` fields are
//! unsigned integers (a `_name` indexes `names`); ids are `str`, bodies
//! `bin` (the message, MessagePack-encoded).

use std::convert::Infallible;

use rmp::decode::{read_array_len, read_bin_len, read_int, read_str_len};
use rmp::encode::{ByteBuf, ValueWriteError};
use rmp::Marker;

use crate::address::{Address, FunctionType, ShardId};
use crate::envelope::Envelope;
use crate::error::CodecError;
use crate::message::Payload;
use crate::registry::Registry;
use crate::snapshot::{decode_payload, Epoch, StoredMessage};

/// The head's tag for a batch.
const BATCH: u8 = 0;
/// The head's tag for messages from outside.
const EXTERNAL: u8 = 1;

/// The fewest bytes a message takes (a one-byte name index, an empty
/// `str`, nil, a name index and an empty `bin` of two bytes).
const SMALLEST_MESSAGE: u64 = 6;

/// The most messages the reader makes room for before it has read any
/// (about 4.5 MiB): a count from the wire is trusted with no more than
/// the frame's bytes can hold, and no more than this.
const MAX_INITIAL_CAPACITY: u64 = 1 << 16;

/// What a frame carries, besides its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameHead {
    /// Messages on the channel `from → to`; the `i`th has sequence
    /// `first_seq + i`. `color` is the sender's epoch.
    Batch {
        from: ShardId,
        to: ShardId,
        first_seq: u64,
        color: Epoch,
    },
    /// Messages sent from outside the actor system to actors of `to`.
    External { to: ShardId },
}

/// A message to write into a frame, borrowed from wherever it is kept.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutgoingMessage<'a> {
    pub(crate) to: &'a Address,
    pub(crate) from: Option<&'a Address>,
    /// The message's registered name.
    pub(crate) message: &'a str,
    /// The message, MessagePack-encoded.
    pub(crate) body: &'a [u8],
}

impl<'a> From<&'a StoredMessage> for OutgoingMessage<'a> {
    fn from(message: &'a StoredMessage) -> Self {
        Self {
            to: &message.to,
            from: message.from.as_ref(),
            message: &message.message,
            body: &message.body,
        }
    }
}

/// Writes the frame of `head` and `messages`.
pub(crate) fn write_frame<'a>(head: FrameHead, messages: &[OutgoingMessage<'a>]) -> Vec<u8> {
    let mut names: Vec<&'a str> = Vec::new();
    let mut index_of = |name: &'a str| -> u64 {
        // Names are mostly the same `'static` strings: the same pointer
        // settles it without comparing bytes.
        let index = names
            .iter()
            .position(|known| std::ptr::eq(*known, name) || *known == name);
        index.unwrap_or_else(|| {
            names.push(name);
            names.len() - 1
        }) as u64
    };
    // Each message as its name indices, found before the names are written.
    let indices: Vec<(u64, Option<u64>, u64)> = messages
        .iter()
        .map(|message| {
            (
                index_of(message.to.function().name()),
                message.from.map(|from| index_of(from.function().name())),
                index_of(message.message),
            )
        })
        .collect();
    let size: usize = messages
        .iter()
        .map(|message| {
            message.body.len()
                + message.to.id().as_str().len()
                + message.from.map_or(0, |from| from.id().as_str().len())
                + 24
        })
        .sum();
    let mut out = ByteBuf::with_capacity(size + 64);
    match head {
        FrameHead::Batch {
            from,
            to,
            first_seq,
            color,
        } => {
            for value in [BATCH.into(), to.0.into(), from.0.into(), first_seq, color] {
                written(rmp::encode::write_uint(&mut out, value));
            }
        }
        FrameHead::External { to } => {
            for value in [EXTERNAL.into(), to.0.into()] {
                written(rmp::encode::write_uint(&mut out, value));
            }
        }
    }
    written(rmp::encode::write_uint(&mut out, messages.len() as u64));
    written(rmp::encode::write_array_len(&mut out, names.len() as u32));
    for name in &names {
        written(rmp::encode::write_str(&mut out, name));
    }
    for (message, (to_name, from_name, message_name)) in messages.iter().zip(indices) {
        written(rmp::encode::write_uint(&mut out, to_name));
        written(rmp::encode::write_str(&mut out, message.to.id().as_str()));
        match (message.from, from_name) {
            (Some(from), Some(from_name)) => {
                written(rmp::encode::write_uint(&mut out, from_name));
                written(rmp::encode::write_str(&mut out, from.id().as_str()));
            }
            _ => written(
                rmp::encode::write_nil(&mut out).map_err(ValueWriteError::InvalidMarkerWrite),
            ),
        }
        written(rmp::encode::write_uint(&mut out, message_name));
        written(rmp::encode::write_bin(&mut out, message.body));
    }
    out.into_vec()
}

/// The value of a write into a [`ByteBuf`], which cannot fail.
fn written<T>(result: Result<T, ValueWriteError<Infallible>>) -> T {
    match result {
        Ok(value) => value,
        Err(
            ValueWriteError::InvalidMarkerWrite(never) | ValueWriteError::InvalidDataWrite(never),
        ) => match never {},
    }
}

/// A frame as it arrives: its head and its messages, borrowed from its
/// bytes.
#[derive(Debug)]
pub(crate) struct IncomingFrame<'a> {
    pub(crate) head: FrameHead,
    /// The function and message names the messages index.
    names: Vec<&'a str>,
    messages: Vec<IncomingMessage<'a>>,
}

/// A message as it arrives, borrowed from its frame: reading a frame
/// allocates nothing per message and looks nothing up; the addresses are
/// made when the message is decoded ([`decode_message`]).
#[derive(Debug)]
pub(crate) struct IncomingMessage<'a> {
    to: IncomingAddress<'a>,
    from: Option<IncomingAddress<'a>>,
    /// The index of the message's name in the frame's names.
    message: usize,
    body: &'a [u8],
}

/// An address as it arrives: the index of its function type's name in the
/// frame's names, and its id.
#[derive(Debug, PartialEq, Eq)]
struct IncomingAddress<'a> {
    function: usize,
    id: &'a str,
}

impl<'a> IncomingFrame<'a> {
    /// Reads a frame. Bytes that are not a whole frame, a name index
    /// beyond the frame's names, or anything after its last message are
    /// refused.
    pub(crate) fn read(bytes: &'a [u8]) -> Result<Self, CodecError> {
        let mut reader = Reader { rest: bytes };
        let kind = reader.uint()?;
        let head = if kind == u64::from(BATCH) {
            let to = reader.shard()?;
            let from = reader.shard()?;
            FrameHead::Batch {
                from,
                to,
                first_seq: reader.uint()?,
                color: reader.uint()?,
            }
        } else if kind == u64::from(EXTERNAL) {
            FrameHead::External {
                to: reader.shard()?,
            }
        } else {
            return Err(malformed(format!("no frame is of kind {kind}")));
        };
        let count = reader.uint()?;
        let name_count = read_array_len(&mut reader.rest).map_err(malformed)?;
        if u64::from(name_count) > count.saturating_mul(3) {
            return Err(malformed(format!(
                "{name_count} names for {count} messages"
            )));
        }
        let names = (0..name_count)
            .map(|_| match reader.str()? {
                "" => Err(malformed("an empty name")),
                name => Ok(name),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let room = (reader.rest.len() as u64 / SMALLEST_MESSAGE).min(MAX_INITIAL_CAPACITY);
        let mut messages = Vec::with_capacity(count.min(room) as usize);
        for _ in 0..count {
            let to = IncomingAddress {
                function: reader.name(&names)?,
                id: reader.str()?,
            };
            let from = if reader.rest.first() == Some(&Marker::Null.to_u8()) {
                reader.rest = &reader.rest[1..];
                None
            } else {
                Some(IncomingAddress {
                    function: reader.name(&names)?,
                    id: reader.str()?,
                })
            };
            let message = reader.name(&names)?;
            let body = reader.bin()?;
            messages.push(IncomingMessage {
                to,
                from,
                message,
                body,
            });
        }
        if !reader.rest.is_empty() {
            return Err(malformed(format!(
                "{} bytes after the frame's last message",
                reader.rest.len()
            )));
        }
        Ok(Self {
            head,
            names,
            messages,
        })
    }

    /// How many messages the frame holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.messages.len()
    }

    /// Decodes the frame's messages, in order ([`decode_message`]). Each
    /// message's destination must pass `accept` before its body is
    /// decoded; the first that does not refuses the frame.
    pub(crate) fn decode(
        self,
        registry: &Registry,
        accept: impl Fn(&Address) -> Result<(), CodecError>,
    ) -> Result<Vec<Envelope>, CodecError> {
        let Self {
            names, messages, ..
        } = self;
        let mut functions = FrameFunctions {
            names: &names,
            resolved: vec![None; names.len()],
        };
        let mut envelopes = Vec::with_capacity(messages.len());
        // Messages of one batch mostly come from few senders: a sender the
        // same as the last one made is cloned from it, not made (its
        // placement hash computed) again. A clone copies an id of up to 24
        // bytes inline; a longer one is allocated again.
        let mut last_sender: Option<(&IncomingAddress<'_>, Address)> = None;
        for message in &messages {
            let to = functions.address(&message.to)?;
            accept(&to)?;
            let from = match &message.from {
                None => None,
                Some(from) => match &last_sender {
                    Some((incoming, address)) if *incoming == from => Some(address.clone()),
                    _ => {
                        let address = functions.address(from)?;
                        last_sender = Some((from, address.clone()));
                        Some(address)
                    }
                },
            };
            envelopes.push(decode_message(registry, &names, to, from, message));
        }
        Ok(envelopes)
    }
}

/// Reads MessagePack values off the front of a frame's bytes.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn uint(&mut self) -> Result<u64, CodecError> {
        read_int(&mut self.rest).map_err(malformed)
    }

    fn shard(&mut self) -> Result<ShardId, CodecError> {
        let shard = read_int(&mut self.rest).map_err(malformed)?;
        Ok(ShardId(shard))
    }

    /// A name index, checked against `names`.
    fn name(&mut self, names: &[&str]) -> Result<usize, CodecError> {
        let index = self.uint()?;
        if index >= names.len() as u64 {
            return Err(malformed(format!(
                "name {index} of a frame with {} names",
                names.len()
            )));
        }
        Ok(index as usize)
    }

    fn str(&mut self) -> Result<&'a str, CodecError> {
        let len = read_str_len(&mut self.rest).map_err(malformed)?;
        let text = self.take(len)?;
        std::str::from_utf8(text).map_err(malformed)
    }

    fn bin(&mut self) -> Result<&'a [u8], CodecError> {
        let len = read_bin_len(&mut self.rest).map_err(malformed)?;
        self.take(len)
    }

    fn take(&mut self, len: u32) -> Result<&'a [u8], CodecError> {
        let Some((taken, rest)) = self.rest.split_at_checked(len as usize) else {
            return Err(malformed(format!(
                "a value of {len} bytes where {} are left",
                self.rest.len()
            )));
        };
        self.rest = rest;
        Ok(taken)
    }
}

fn malformed(reason: impl std::fmt::Display) -> CodecError {
    CodecError::Decode(format!("malformed frame: {reason}"))
}

/// The function types a frame names, each looked up in the process-wide
/// table once per frame rather than once per address.
struct FrameFunctions<'f, 'a> {
    names: &'f [&'a str],
    resolved: Vec<Option<FunctionType>>,
}

impl FrameFunctions<'_, '_> {
    /// The address `incoming` names; an unknown function type is an error.
    fn address(&mut self, incoming: &IncomingAddress<'_>) -> Result<Address, CodecError> {
        let function = match self.resolved[incoming.function] {
            Some(function) => function,
            None => {
                let name = self.names[incoming.function];
                let function = FunctionType::lookup(name)
                    .ok_or_else(|| CodecError::Decode(format!("unknown function type `{name}`")))?;
                self.resolved[incoming.function] = Some(function);
                function
            }
        };
        Ok(Address::new(function, incoming.id))
    }
}

/// What a message that could not cross between nodes becomes at its
/// destination: a payload no function takes, so the destination shard
/// counts it as a dead letter, as it would have counted the original. It
/// keeps the channel's sequence numbers intact.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Undeliverable {
    /// The original message's name or type.
    pub(crate) message: String,
}

/// Decodes a message from the wire to `to` from `from`, typed through its
/// destination's function in `registry`; one whose body does not decode
/// becomes an [`Undeliverable`] for the same actor.
fn decode_message(
    registry: &Registry,
    names: &[&str],
    to: Address,
    from: Option<Address>,
    message: &IncomingMessage<'_>,
) -> Envelope {
    let name = names[message.message];
    match decode_payload(registry, &to, name, message.body) {
        Ok(payload) => Envelope::new(to, from, payload),
        Err(error) => {
            tracing::warn!(%to, %error, "message from another node does not decode; dead letter");
            let undeliverable = Undeliverable {
                message: name.to_owned(),
            };
            Envelope::new(to, from, Payload::new(undeliverable))
        }
    }
}
