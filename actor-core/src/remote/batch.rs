//! Encoding a batch for the wire straight from its envelopes: every body is
//! encoded into one shared buffer, and the frames are written from views
//! borrowing the envelopes' addresses and that buffer (`wire`).

use std::any::TypeId;
use std::borrow::Cow;

use crate::address::{Address, FunctionType, ShardId};
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

/// How large a batch's frames may be.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameSizes {
    /// The bytes of messages a frame takes before the next message starts
    /// a frame of its own.
    pub(crate) budget: usize,
    /// The largest frame the transport carries: a message that cannot fit
    /// in one even alone does not cross.
    pub(crate) largest: usize,
}

/// Encodes `envelopes` as the frames of one batch, each holding at most
/// `sizes.budget` bytes of messages (and at least one message), each
/// continuing the previous one's sequence numbers. A message its
/// destination's function does not take cannot be encoded, and one too
/// large for a frame of `sizes.largest` bytes cannot cross; each still
/// takes its place (its sequence number) as an entry that will not
/// decode, a dead letter at the destination.
pub(crate) fn encode_batch(
    registry: &Registry,
    header: BatchHeader,
    envelopes: &[Envelope],
    sizes: FrameSizes,
) -> Vec<Vec<u8>> {
    let mut bodies = Vec::with_capacity(envelopes.len() * 32);
    let mut names = Vec::with_capacity(envelopes.len());
    let mut ends = Vec::with_capacity(envelopes.len());
    let mut known = KnownName::default();
    for envelope in envelopes {
        names.push(encode_entry(
            registry,
            &mut known,
            envelope,
            sizes.largest,
            &mut bodies,
        ));
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
        if index > first && size + message_size > sizes.budget {
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

/// Appends `envelope`'s body to `bodies` and returns the name its entry
/// goes under. A message that cannot be encoded, or is too large for a
/// frame of `largest` bytes even alone, leaves no body and gets a name no
/// function takes, so that it is a dead letter where it was going.
fn encode_entry<'r>(
    registry: &'r Registry,
    known: &mut KnownName<'r>,
    envelope: &Envelope,
    largest: usize,
    bodies: &mut Vec<u8>,
) -> Cow<'r, str> {
    let start = bodies.len();
    let dead = match encode_body(registry, known, envelope, bodies) {
        Ok(name) => {
            let size = bodies.len() - start;
            let most = largest_body(largest, &envelope.to, envelope.from.as_ref(), name);
            if size <= most {
                return Cow::Borrowed(name);
            }
            tracing::warn!(to = %envelope.to, size, most, "message too large to cross to another node; it will be a dead letter there");
            format!(
                "<too large {}: {size} bytes, at most {most}>",
                envelope.payload.type_name()
            )
        }
        Err(error) => {
            tracing::warn!(to = %envelope.to, %error, "message cannot cross to another node; it will be a dead letter there");
            format!("<unencodable {}>", envelope.payload.type_name())
        }
    };
    bodies.truncate(start);
    Cow::Owned(dead)
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
    message.body.len() + framing(message.to, message.from, message.message)
}

/// A generous estimate of what a message takes in a frame besides its
/// body, the frame's own head included.
fn framing(to: &Address, from: Option<&Address>, message: &str) -> usize {
    message.len()
        + to.function().name().len()
        + to.id().as_str().len()
        + from.map_or(0, |from| {
            from.function().name().len() + from.id().as_str().len()
        })
        + 2 * MESSAGE_OVERHEAD
}

/// The largest body of a message named `message` from `from` to `to` that
/// fits, alone, in a frame of `largest_frame` bytes.
pub(crate) fn largest_body(
    largest_frame: usize,
    to: &Address,
    from: Option<&Address>,
    message: &str,
) -> usize {
    largest_frame.saturating_sub(framing(to, from, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::function::StatefulFunction;
    use crate::message::Payload;
    use crate::remote::wire::{IncomingFrame, Undeliverable};
    use crate::test_support::{Labeller, Tally};

    /// The batch header of the channel from shard 0 to shard 1, from its
    /// first message on.
    const FROM_0_TO_1: BatchHeader = BatchHeader {
        from: ShardId(0),
        to: ShardId(1),
        first_seq: 1,
        color: 0,
    };

    /// `envelopes` as one batch from shard 1 to shard 2 starting at
    /// `first_seq`, colored 3, with no budget: its one frame.
    fn one_frame(registry: &Registry, first_seq: u64, envelopes: &[Envelope]) -> Vec<u8> {
        let header = BatchHeader {
            from: ShardId(1),
            to: ShardId(2),
            first_seq,
            color: 3,
        };
        let sizes = FrameSizes {
            budget: usize::MAX,
            largest: usize::MAX,
        };
        let mut frames = encode_batch(registry, header, envelopes, sizes);
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

    /// A message too large for a frame of its own keeps its place in the
    /// batch as an empty entry that reads back as a dead letter naming its
    /// type and size; the messages around it cross whole, and no frame is
    /// over the limit.
    #[test]
    fn a_message_too_large_for_a_frame_keeps_its_place_as_a_dead_letter() {
        let mut registry = Registry::new();
        registry.register::<Labeller>().unwrap();
        let to = Address::new(Labeller::FUNCTION_TYPE, 1u64);
        let labels = ["small", &"x".repeat(4096), "after"];
        let envelopes: Vec<Envelope> = labels
            .iter()
            .map(|label| Envelope::new(to.clone(), None, Payload::new(label.to_string())))
            .collect();
        let sizes = FrameSizes {
            budget: 768,
            largest: 1024,
        };
        let frames = encode_batch(&registry, FROM_0_TO_1, &envelopes, sizes);
        assert!(frames.iter().all(|frame| frame.len() <= sizes.largest));
        let read: Vec<Envelope> = frames
            .iter()
            .flat_map(|bytes| {
                IncomingFrame::read(bytes)
                    .unwrap()
                    .decode(&registry, |_| Ok(()))
                    .unwrap()
            })
            .collect();
        assert_eq!(read.len(), 3, "every message keeps its sequence number");
        let label = |envelope: &Envelope| envelope.payload.downcast_ref::<String>().cloned();
        assert_eq!(label(&read[0]).as_deref(), Some("small"));
        assert_eq!(label(&read[2]).as_deref(), Some("after"));
        let dead = read[1]
            .payload
            .downcast_ref::<Undeliverable>()
            .expect("the large one is a dead letter");
        assert!(
            dead.message
                .starts_with("<too large alloc::string::String: 4099 bytes, at most "),
            "{}",
            dead.message
        );
    }

    /// The largest message that crosses makes a frame within the limit,
    /// even with a sender and the frame head's numbers at their longest;
    /// one byte more is a dead letter.
    #[test]
    fn a_message_crosses_up_to_its_limit_and_not_a_byte_more() {
        let mut registry = Registry::new();
        registry.register::<Labeller>().unwrap();
        let to = Address::new(Labeller::FUNCTION_TYPE, "a-fairly-long-actor-id-0123456789");
        let from = Address::new(Tally::FUNCTION_TYPE, "another-long-actor-id-9876543210");
        let header = BatchHeader {
            from: ShardId(u32::MAX),
            to: ShardId(u32::MAX),
            first_seq: u64::MAX - 1,
            color: u64::MAX,
        };
        let sizes = FrameSizes {
            budget: 768,
            largest: 1024,
        };
        let crosses = |len: usize| {
            let label = "x".repeat(len);
            let envelope = Envelope::new(to.clone(), Some(from.clone()), Payload::new(label));
            let frames = encode_batch(&registry, header, &[envelope], sizes);
            let read = IncomingFrame::read(&frames[0])
                .unwrap()
                .decode(&registry, |_| Ok(()))
                .unwrap();
            (frames[0].len(), read[0].payload.is::<String>())
        };
        let largest = (0..sizes.largest)
            .rev()
            .find(|len| crosses(*len).1)
            .expect("a short label crosses");
        assert!(crosses(largest).0 <= sizes.largest);
        assert!(!crosses(largest + 1).1, "one byte more is a dead letter");
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
        let sizes = FrameSizes {
            budget: 1,
            largest: usize::MAX,
        };
        let frames = encode_batch(&registry, FROM_0_TO_1, &envelopes, sizes);
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
