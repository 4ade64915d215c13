//! Encoding a batch for the wire straight from its envelopes.
//!
//! A `Frame::Batch` holds `StoredMessage`s, each owning its addresses, its
//! message name and its body. Building those first costs every message a
//! clone of both addresses, a `String` and a `Vec`, and then a second copy
//! into the frame. Here the frame is written from borrowed views that
//! serialize exactly as `Frame::Batch` does (checked by a test), with every
//! body encoded into one shared buffer. The receiver reads it as any
//! `Frame::Batch`, borrowing names and bodies (`wire::IncomingMessage`).

use std::borrow::Cow;

use serde::Serialize;

use crate::address::{Address, ShardId};
use crate::envelope::Envelope;
use crate::error::CodecError;
use crate::registry::Registry;
use crate::snapshot::{registered_name, Epoch};

/// Room kept per message for its framing, so that a frame split by
/// [`encode_batch`] stays under its budget.
const MESSAGE_OVERHEAD: usize = 64;

/// Mirrors `Frame`'s first variant, borrowing its messages.
#[derive(Serialize)]
enum FrameView<'a> {
    Batch {
        from: ShardId,
        to: ShardId,
        first_seq: u64,
        color: Epoch,
        messages: &'a [MessageView<'a>],
    },
}

/// Mirrors `StoredMessage`, borrowing its parts.
#[derive(Serialize)]
struct MessageView<'a> {
    to: &'a Address,
    from: Option<&'a Address>,
    message: Cow<'a, str>,
    body: &'a serde_bytes::Bytes,
}

/// The channel a batch travels on, and where its sequence starts.
#[derive(Clone, Copy)]
pub(crate) struct BatchHeader {
    pub(crate) from: ShardId,
    pub(crate) to: ShardId,
    pub(crate) first_seq: u64,
    pub(crate) color: Epoch,
}

/// Encodes `envelopes` as the frames of one batch, each holding at most
/// `budget` bytes of messages (and at least one message), each continuing
/// the previous one's sequence numbers. A message its destination's
/// function does not take cannot be encoded; it still takes its place
/// (its sequence number) as an entry that will not decode, a dead letter
/// at the destination.
pub(crate) fn encode_batch(
    registry: &Registry,
    header: BatchHeader,
    envelopes: &[Envelope],
    budget: usize,
) -> Result<Vec<Vec<u8>>, CodecError> {
    let mut bodies = Vec::with_capacity(envelopes.len() * 32);
    let mut messages = Vec::with_capacity(envelopes.len());
    let mut ends = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        let start = bodies.len();
        let message = match encode_body(registry, envelope, &mut bodies) {
            Ok(name) => Cow::Borrowed(name),
            Err(error) => {
                tracing::warn!(to = %envelope.to, %error, "message cannot cross to another node; it will be a dead letter there");
                bodies.truncate(start);
                Cow::Owned(format!("<unencodable {}>", envelope.payload.type_name()))
            }
        };
        messages.push(message);
        ends.push(bodies.len());
    }
    let views: Vec<MessageView<'_>> = envelopes
        .iter()
        .zip(&messages)
        .enumerate()
        .map(|(index, (envelope, message))| {
            let start = index.checked_sub(1).map_or(0, |previous| ends[previous]);
            MessageView {
                to: &envelope.to,
                from: envelope.from.as_ref(),
                message: Cow::Borrowed(message.as_ref()),
                body: serde_bytes::Bytes::new(&bodies[start..ends[index]]),
            }
        })
        .collect();
    let mut frames = Vec::new();
    let mut first = 0;
    let mut size = 0;
    for (index, view) in views.iter().enumerate() {
        let message_size = estimate(view);
        if index > first && size + message_size > budget {
            frames.push(frame(header, first, &views[first..index])?);
            first = index;
            size = 0;
        }
        size += message_size;
    }
    if first < views.len() {
        frames.push(frame(header, first, &views[first..])?);
    }
    Ok(frames)
}

/// The frame of `messages`, the first of which is the batch's `offset`th.
fn frame(
    header: BatchHeader,
    offset: usize,
    messages: &[MessageView<'_>],
) -> Result<Vec<u8>, CodecError> {
    let frame = FrameView::Batch {
        from: header.from,
        to: header.to,
        first_seq: header.first_seq + offset as u64,
        color: header.color,
        messages,
    };
    rmp_serde::to_vec(&frame).map_err(|error| CodecError::Encode(error.to_string()))
}

/// The message's registered name; its body is appended to `bodies`.
fn encode_body<'r>(
    registry: &'r Registry,
    envelope: &Envelope,
    bodies: &mut Vec<u8>,
) -> Result<&'r str, CodecError> {
    let name = registered_name(registry, envelope)?;
    envelope.payload.append_msgpack(bodies)?;
    Ok(name)
}

/// A generous estimate of a message's encoded size.
fn estimate(message: &MessageView<'_>) -> usize {
    message.body.len()
        + message.message.len()
        + message.to.function().name().len()
        + message.to.id().as_str().len()
        + message.from.map_or(0, |from| {
            from.function().name().len() + from.id().as_str().len()
        })
        + 2 * MESSAGE_OVERHEAD
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::function::StatefulFunction;
    use crate::message::Payload;
    use crate::remote::wire::Frame;
    use crate::snapshot::StoredMessage;
    use crate::test_support::Tally;

    /// The borrowed frame is byte for byte the frame built from stored
    /// messages, so receivers decode it as before; an unencodable message
    /// keeps its place.
    #[test]
    fn encodes_exactly_as_a_frame_of_stored_messages() {
        let mut registry = Registry::new();
        registry.register::<Tally>().unwrap();
        let from = Address::new(Tally::FUNCTION_TYPE, 1u64);
        let envelopes = vec![
            Envelope::new(
                Address::new(Tally::FUNCTION_TYPE, 2u64),
                Some(from),
                Payload::new(5u64),
            ),
            Envelope::new(
                Address::new(Tally::FUNCTION_TYPE, 3u64),
                None,
                Payload::new(7u64),
            ),
            Envelope::new(
                Address::new(Tally::FUNCTION_TYPE, 4u64),
                None,
                Payload::new(String::from("not taken")),
            ),
        ];
        let header = BatchHeader {
            from: ShardId(1),
            to: ShardId(2),
            first_seq: 10,
            color: 3,
        };
        let ours = encode_batch(&registry, header, &envelopes, usize::MAX).unwrap();
        let theirs = Frame::Batch {
            from: ShardId(1),
            to: ShardId(2),
            first_seq: 10,
            color: 3,
            messages: envelopes
                .iter()
                .map(|envelope| {
                    StoredMessage::encode(&registry, envelope).unwrap_or_else(|_| StoredMessage {
                        to: envelope.to.clone(),
                        from: envelope.from.clone(),
                        message: "<unencodable alloc::string::String>".into(),
                        body: Vec::new(),
                    })
                })
                .collect(),
        }
        .encode()
        .unwrap();
        assert_eq!(ours, vec![theirs]);
    }

    /// A batch over the budget is cut into frames whose sequences follow
    /// on, each with at least one message.
    #[test]
    fn a_large_batch_is_cut_into_consecutive_frames() {
        let mut registry = Registry::new();
        registry.register::<Tally>().unwrap();
        let envelopes: Vec<Envelope> = (0..10u64)
            .map(|id| {
                Envelope::new(
                    Address::new(Tally::FUNCTION_TYPE, id),
                    None,
                    Payload::new(id),
                )
            })
            .collect();
        let header = BatchHeader {
            from: ShardId(0),
            to: ShardId(1),
            first_seq: 1,
            color: 0,
        };
        let frames = encode_batch(&registry, header, &envelopes, 1).unwrap();
        assert_eq!(frames.len(), 10);
        for (index, bytes) in frames.iter().enumerate() {
            let Frame::Batch {
                first_seq,
                messages,
                ..
            } = Frame::decode(bytes).unwrap()
            else {
                panic!("a batch");
            };
            assert_eq!((first_seq, messages.len()), (1 + index as u64, 1));
        }
    }
}
