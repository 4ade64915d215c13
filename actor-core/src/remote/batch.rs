//! Encoding a batch for the wire straight from its envelopes: every body is
//! encoded into one shared buffer, and the frames are written from views
//! borrowing the envelopes' addresses and that buffer (`wire`).

use std::any::TypeId;
use std::borrow::Cow;

use crate::address::{FunctionType, ShardId};
use crate::envelope::Envelope;
use crate::error::CodecError;
use crate::registry::Registry;
use crate::snapshot::{registered_name, Epoch};

use super::wire::{write_frame, FrameHead, OutgoingMessage};

/// Room kept per message for its framing (its name indices and length
/// prefixes, with room to spare), so that a frame split by
/// [`encode_batch`] stays under its budget.
const MESSAGE_OVERHEAD: usize = 64;

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
) -> Vec<Vec<u8>> {
    let mut bodies = Vec::with_capacity(envelopes.len() * 32);
    let mut names = Vec::with_capacity(envelopes.len());
    let mut ends = Vec::with_capacity(envelopes.len());
    let mut known = KnownName::default();
    for envelope in envelopes {
        let start = bodies.len();
        let name = match encode_body(registry, &mut known, envelope, &mut bodies) {
            Ok(name) => Cow::Borrowed(name),
            Err(error) => {
                tracing::warn!(to = %envelope.to, %error, "message cannot cross to another node; it will be a dead letter there");
                bodies.truncate(start);
                Cow::Owned(format!("<unencodable {}>", envelope.payload.type_name()))
            }
        };
        names.push(name);
        ends.push(bodies.len());
    }
    let messages: Vec<OutgoingMessage<'_>> = envelopes
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(index, (envelope, name))| {
            let start = index.checked_sub(1).map_or(0, |previous| ends[previous]);
            OutgoingMessage {
                to: &envelope.to,
                from: envelope.from.as_ref(),
                message: name,
                body: &bodies[start..ends[index]],
            }
        })
        .collect();
    let mut frames = Vec::new();
    let mut first = 0;
    let mut size = 0;
    for (index, message) in messages.iter().enumerate() {
        let message_size = estimate(message);
        if index > first && size + message_size > budget {
            frames.push(frame(header, first, &messages[first..index]));
            first = index;
            size = 0;
        }
        size += message_size;
    }
    if first < messages.len() {
        frames.push(frame(header, first, &messages[first..]));
    }
    frames
}

/// The frame of `messages`, the first of which is the batch's `offset`th.
fn frame(header: BatchHeader, offset: usize, messages: &[OutgoingMessage<'_>]) -> Vec<u8> {
    let head = FrameHead::Batch {
        from: header.from,
        to: header.to,
        first_seq: header.first_seq + offset as u64,
        color: header.color,
    };
    write_frame(head, messages)
}

/// The message's registered name; its body is appended to `bodies`.
fn encode_body<'r>(
    registry: &'r Registry,
    known: &mut KnownName<'r>,
    envelope: &Envelope,
    bodies: &mut Vec<u8>,
) -> Result<&'r str, CodecError> {
    let name = known.of(registry, envelope)?;
    envelope.payload.append_msgpack(bodies)?;
    Ok(name)
}

/// The registered name of the last message encoded, by its destination's
/// function type and its Rust type: the messages of a batch are mostly of
/// one kind, and the next one of the same kind is not looked up again.
#[derive(Default)]
struct KnownName<'r> {
    last: Option<(FunctionType, TypeId, &'r str)>,
}

impl<'r> KnownName<'r> {
    fn of(&mut self, registry: &'r Registry, envelope: &Envelope) -> Result<&'r str, CodecError> {
        let function = envelope.to.function();
        let type_id = envelope.payload.type_id_of_value();
        match self.last {
            Some((known_function, known_type, name))
                if known_function == function && known_type == type_id =>
            {
                Ok(name)
            }
            _ => {
                let name = registered_name(registry, envelope)?;
                self.last = Some((function, type_id, name));
                Ok(name)
            }
        }
    }
}

/// A generous estimate of a message's encoded size: its names are counted
/// as if each message wrote them, though a frame writes each once.
fn estimate(message: &OutgoingMessage<'_>) -> usize {
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
    use crate::address::Address;
    use crate::function::StatefulFunction;
    use crate::message::Payload;
    use crate::remote::wire::{IncomingFrame, Undeliverable};
    use crate::test_support::{Labeller, Tally};

    /// `envelopes` as one batch from shard 1 to shard 2 starting at
    /// `first_seq`, colored 3, with no budget: its one frame.
    fn one_frame(registry: &Registry, first_seq: u64, envelopes: &[Envelope]) -> Vec<u8> {
        let header = BatchHeader {
            from: ShardId(1),
            to: ShardId(2),
            first_seq,
            color: 3,
        };
        let mut frames = encode_batch(registry, header, envelopes, usize::MAX);
        assert_eq!(frames.len(), 1, "one frame");
        frames.remove(0)
    }

    /// A batch reads back as its envelopes, in order, under its header;
    /// an unencodable message keeps its place as a dead letter.
    #[test]
    fn a_batch_reads_back_as_its_envelopes() {
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
        let bytes = one_frame(&registry, 10, &envelopes);
        let frame = IncomingFrame::read(&bytes).unwrap();
        assert_eq!(
            frame.head,
            FrameHead::Batch {
                from: ShardId(1),
                to: ShardId(2),
                first_seq: 10,
                color: 3
            }
        );
        let read = frame.decode(&registry, |_| Ok(())).unwrap();
        assert_eq!(read.len(), 3);
        for (sent, read) in envelopes.iter().zip(&read) {
            assert_eq!((&sent.to, &sent.from), (&read.to, &read.from));
        }
        assert_eq!(read[0].payload.downcast_ref::<u64>(), Some(&5));
        assert_eq!(read[1].payload.downcast_ref::<u64>(), Some(&7));
        assert_eq!(
            read[2]
                .payload
                .downcast_ref::<Undeliverable>()
                .map(|dead| dead.message.as_str()),
            Some("<unencodable alloc::string::String>")
        );
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
        let frames = encode_batch(&registry, header, &envelopes, 1);
        assert_eq!(frames.len(), 10);
        for (index, bytes) in frames.iter().enumerate() {
            let frame = IncomingFrame::read(bytes).unwrap();
            let FrameHead::Batch { first_seq, .. } = frame.head else {
                panic!("a batch");
            };
            assert_eq!((first_seq, frame.len()), (1 + index as u64, 1));
        }
    }

    /// Messages of several kinds, to two function types that both take a
    /// `u64` under different names, each keep their own name and type
    /// when kinds alternate and repeat within a batch.
    #[test]
    fn alternating_kinds_keep_their_names() {
        let mut registry = Registry::new();
        registry.register::<Tally>().unwrap();
        registry.register::<Labeller>().unwrap();
        let tally = Address::new(Tally::FUNCTION_TYPE, 1u64);
        let labeller = Address::new(Labeller::FUNCTION_TYPE, 1u64);
        let envelopes = vec![
            Envelope::new(tally.clone(), None, Payload::new(1u64)),
            Envelope::new(labeller.clone(), None, Payload::new(2u64)),
            Envelope::new(labeller.clone(), None, Payload::new(String::from("x"))),
            Envelope::new(labeller.clone(), None, Payload::new(String::from("y"))),
            Envelope::new(labeller, None, Payload::new(3u64)),
            Envelope::new(tally.clone(), None, Payload::new(4u64)),
            Envelope::new(tally, None, Payload::new(5u64)),
        ];
        let bytes = one_frame(&registry, 10, &envelopes);
        let read = IncomingFrame::read(&bytes)
            .unwrap()
            .decode(&registry, |_| Ok(()))
            .unwrap();
        let numbers: Vec<Option<u64>> = read
            .iter()
            .map(|envelope| envelope.payload.downcast_ref::<u64>().copied())
            .collect();
        assert_eq!(
            numbers,
            vec![Some(1), Some(2), None, None, Some(3), Some(4), Some(5)]
        );
        let labels: Vec<Option<&str>> = read
            .iter()
            .map(|envelope| {
                envelope
                    .payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
            })
            .collect();
        assert_eq!(labels[2..4], [Some("x"), Some("y")]);
    }
}
