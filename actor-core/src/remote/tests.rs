//! The remote outlet and the inbound decoder against each other, without
//! a network: frames recorded by a sink, decoded as the receiving node
//! would.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::decode_frame;
use super::outlet::{Outlet, RemoteOutlet};
use super::placement::{RemoteChannel, RemoteShards, EXTERNAL_SOURCE};
use super::wire::{write_frame, FrameHead, IncomingFrame, OutgoingMessage, Undeliverable};
use crate::address::{Address, ShardCount, ShardId};
use crate::envelope::{AskReply, Envelope, ReplyTo};
use crate::function::StatefulFunction;
use crate::message::Payload;
use crate::registry::Registry;
use crate::shard::{Batch, Inbound};
use crate::snapshot::StoredMessage;
use crate::test_support::{Labeller, Tally};

/// An ask handed to the sink: its shard, message, durability and caller.
type ForwardedAsk = (u32, StoredMessage, bool, AskReply);

/// Records every frame and every ask it is given.
struct Recorder {
    max_frame: usize,
    frames: Mutex<Vec<(RemoteChannel, Vec<u8>)>>,
    asks: Mutex<Vec<ForwardedAsk>>,
}

impl RemoteShards for Recorder {
    fn send(&self, channel: RemoteChannel, frame: Vec<u8>) {
        self.frames.lock().push((channel, frame));
    }

    fn max_frame(&self) -> usize {
        self.max_frame
    }

    fn node_of(&self, _shard: u32) -> Option<&str> {
        Some("elsewhere")
    }

    fn send_markers(&self, _node: &str, _frame: Vec<u8>) {}

    fn send_credit(&self, _channel: RemoteChannel, _through_seq: u64) {}

    fn forward_ask(&self, shard: u32, message: StoredMessage, durable: bool, reply: AskReply) {
        self.asks.lock().push((shard, message, durable, reply));
    }
}

const COUNT: u32 = 4;
const DESTINATION: ShardId = ShardId(1);

fn count() -> ShardCount {
    ShardCount::new(COUNT).unwrap()
}

fn registry() -> Arc<Registry> {
    let mut registry = Registry::new();
    registry.register::<Tally>().unwrap();
    registry.register::<Labeller>().unwrap();
    Arc::new(registry)
}

/// The addresses of tallies on `DESTINATION`.
fn tallies() -> impl Iterator<Item = Address> {
    (0u64..)
        .map(|id| Address::new(Tally::FUNCTION_TYPE, id))
        .filter(|address| address.shard(count()) == DESTINATION)
}

fn outlet(max_frame: usize) -> (Outlet, Arc<Recorder>, Arc<Registry>) {
    let registry = registry();
    let recorder = Arc::new(Recorder {
        max_frame,
        frames: Mutex::new(Vec::new()),
        asks: Mutex::new(Vec::new()),
    });
    let outlet = Outlet::Remote(Box::new(RemoteOutlet::new(
        DESTINATION,
        recorder.clone(),
        registry.clone(),
    )));
    (outlet, recorder, registry)
}

/// Decodes every recorded frame as the receiving node does.
fn received(recorder: &Recorder, registry: &Registry) -> Vec<Inbound> {
    recorder
        .frames
        .lock()
        .iter()
        .flat_map(|(channel, bytes)| {
            let (shard, items) = decode_frame(registry, count(), *channel, bytes).unwrap();
            assert_eq!(shard, DESTINATION);
            items
        })
        .collect()
}

fn batch(envelopes: Vec<Envelope>) -> Batch {
    Batch {
        from: ShardId(0),
        first_seq: 11,
        color: 3,
        envelopes,
    }
}

#[test]
fn batches_split_under_the_frame_limit_and_keep_their_sequence() {
    let (outlet, recorder, registry) = outlet(1024);
    let envelopes = tallies()
        .take(40)
        .enumerate()
        .map(|(n, to)| Envelope::new(to, None, Payload::new(n as u64)))
        .collect();
    assert!(outlet.send_batch(batch(envelopes)));
    assert!(
        recorder.frames.lock().len() > 1,
        "split into several frames"
    );
    for (channel, bytes) in recorder.frames.lock().iter() {
        assert_eq!(*channel, RemoteChannel { src: 0, dst: 1 });
        assert!(bytes.len() <= 1024, "a frame of {} bytes", bytes.len());
    }
    let mut next_seq = 11;
    let mut values = Vec::new();
    for item in received(&recorder, &registry) {
        let Inbound::Batch(batch) = item else {
            panic!("only batches were sent");
        };
        assert_eq!(
            (batch.from, batch.first_seq, batch.color),
            (ShardId(0), next_seq, 3)
        );
        next_seq += batch.envelopes.len() as u64;
        values.extend(
            batch
                .envelopes
                .into_iter()
                .map(|e| e.payload.downcast::<u64>().unwrap()),
        );
    }
    assert_eq!(
        values,
        (0..40).collect::<Vec<u64>>(),
        "every message, in order"
    );
}

#[test]
fn a_message_that_cannot_cross_keeps_its_place_as_a_dead_letter() {
    let (outlet, recorder, registry) = outlet(1 << 20);
    let to: Vec<Address> = tallies().take(3).collect();
    let envelopes = vec![
        Envelope::new(to[0].clone(), None, Payload::new(1u64)),
        Envelope::new(
            to[1].clone(),
            None,
            Payload::new("not a tally message".to_owned()),
        ),
        Envelope::new(to[2].clone(), None, Payload::new(3u64)),
    ];
    outlet.send_batch(batch(envelopes));
    let items = received(&recorder, &registry);
    let [Inbound::Batch(batch)] = &items[..] else {
        panic!("one batch: {items:?}");
    };
    assert_eq!(batch.envelopes.len(), 3, "the sequence keeps its length");
    assert!(batch.envelopes[0].payload.is::<u64>());
    assert!(batch.envelopes[1].payload.is::<Undeliverable>());
    assert_eq!(batch.envelopes[1].to, to[1]);
    assert!(batch.envelopes[2].payload.is::<u64>());
}

/// A message from outside for a shard on another node crosses on the
/// node's external channel; an ask is handed to the sink with its caller,
/// and the answer the sink gets back (MessagePack) reaches the caller as
/// the type it asked for. A durable ask says so; a caller the sink drops
/// sees its reply channel close.
#[tokio::test]
async fn externals_cross_on_the_node_channel_and_asks_are_forwarded() {
    let (outlet, recorder, registry) = outlet(1 << 20);
    let Outlet::Remote(remote) = &outlet else {
        unreachable!("built remote");
    };
    let to = tallies().next().unwrap();
    remote
        .forward_external(Envelope::new(to.clone(), None, Payload::new(9u64)))
        .unwrap();
    let ask = |n: u64, reply| {
        remote
            .forward_external(Envelope::ask(to.clone(), Payload::new(n), reply))
            .expect("an ask is forwarded, not refused");
    };
    let (reply, answer) = oneshot::channel();
    ask(1, ReplyTo::Ask(reply));
    let (durable_reply, durable_answer) = oneshot::channel();
    ask(2, ReplyTo::DurableAsk(durable_reply));
    let mut asks = std::mem::take(&mut *recorder.asks.lock());
    assert_eq!(asks.len(), 2, "both asks went to the sink");
    let (shard, message, durable, caller) = asks.remove(0);
    assert_eq!((shard, durable), (1, false));
    assert_eq!(message.to, to);
    let decoded = message.decode(&registry).unwrap();
    assert_eq!(decoded.payload.downcast_ref::<u64>(), Some(&1));
    caller.answer(Ok(Payload::new(41u64).to_msgpack().unwrap()));
    let reply = answer.await.unwrap().expect("the owner's answer");
    assert_eq!(reply.downcast::<u64>().ok(), Some(41));
    let (_, _, durable, caller) = asks.remove(0);
    assert!(durable);
    drop(caller);
    assert!(
        durable_answer.await.is_err(),
        "the caller sees its reply channel closed (`Runtime::ask` reports no reply)"
    );
    assert_eq!(recorder.frames.lock().len(), 1, "the asks sent no frame");
    assert_eq!(
        recorder.frames.lock()[0].0,
        RemoteChannel {
            src: EXTERNAL_SOURCE,
            dst: 1
        }
    );
    let items = received(&recorder, &registry);
    let [Inbound::External(envelope)] = &items[..] else {
        panic!("one external message: {items:?}");
    };
    assert_eq!(envelope.payload.downcast_ref::<u64>(), Some(&9));
}

#[test]
fn function_types_decode_from_names_as_str_or_utf8_bytes() {
    registry();
    let name = Tally::FUNCTION_TYPE.name();
    let decode = |bytes: Vec<u8>| rmp_serde::from_slice::<crate::address::FunctionType>(&bytes);
    let as_str = rmp_serde::to_vec(name).unwrap();
    let as_bin = rmp_serde::to_vec(serde_bytes::Bytes::new(name.as_bytes())).unwrap();
    assert_eq!(decode(as_str).unwrap(), Tally::FUNCTION_TYPE);
    assert_eq!(decode(as_bin).unwrap(), Tally::FUNCTION_TYPE);
    let unknown = decode(rmp_serde::to_vec("no/such-function").unwrap()).unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("unknown function type `no/such-function`"),
        "{unknown}"
    );
    let not_utf8 = rmp_serde::to_vec(serde_bytes::Bytes::new(&[0xff, 0xfe])).unwrap();
    assert!(decode(not_utf8).is_err());
}

/// The frame of `head` holding `messages`.
fn frame_of(head: FrameHead, messages: &[StoredMessage]) -> Vec<u8> {
    let outgoing: Vec<OutgoingMessage<'_>> = messages.iter().map(OutgoingMessage::from).collect();
    write_frame(head, &outgoing)
}

/// A message of `n` to `to`, as stored.
fn stored(to: Address, from: Option<Address>, n: u64) -> StoredMessage {
    StoredMessage {
        to,
        from,
        message: "u64".into(),
        body: rmp_serde::to_vec(&n).unwrap(),
    }
}

#[test]
fn frames_that_do_not_match_their_channel_are_refused() {
    let registry = registry();
    let empty_batch = |from: u32, to: u32| {
        let head = FrameHead::Batch {
            from: ShardId(from),
            to: ShardId(to),
            first_seq: 1,
            color: 0,
        };
        frame_of(head, &[])
    };
    let decode = |src, dst, bytes: &[u8]| {
        decode_frame(&registry, count(), RemoteChannel { src, dst }, bytes)
    };
    assert!(decode(0, 1, &empty_batch(0, 1)).is_ok());
    assert!(decode(2, 1, &empty_batch(0, 1)).is_err(), "another source");
    assert!(
        decode(0, 2, &empty_batch(0, 1)).is_err(),
        "another destination"
    );
    assert!(
        decode(1, 1, &empty_batch(1, 1)).is_err(),
        "a shard to itself"
    );
    assert!(
        decode(0, 9, &empty_batch(0, 9)).is_err(),
        "beyond the shards"
    );
    assert!(
        decode(9, 1, &empty_batch(9, 1)).is_err(),
        "from beyond the shards"
    );
    assert!(decode(0, 1, b"\xc1 not a frame").is_err(), "garbage");
    assert!(
        decode(EXTERNAL_SOURCE, 1, &empty_batch(EXTERNAL_SOURCE, 1)).is_err(),
        "a batch from the external source"
    );
    let external = frame_of(FrameHead::External { to: DESTINATION }, &[]);
    assert!(decode(EXTERNAL_SOURCE, 1, &external).is_ok());
    assert!(
        decode(0, 1, &external).is_err(),
        "messages from outside on a shard's channel"
    );
    let elsewhere = (0u64..)
        .map(|id| Address::new(Tally::FUNCTION_TYPE, id))
        .find(|address| address.shard(count()) != DESTINATION)
        .unwrap();
    let misplaced = frame_of(
        FrameHead::External { to: DESTINATION },
        &[stored(elsewhere, None, 1)],
    );
    assert!(
        decode(EXTERNAL_SOURCE, 1, &misplaced).is_err(),
        "an actor of another shard"
    );
}

/// A frame cut short anywhere, with bytes after its last message, of an
/// unknown kind, with a name index beyond its names, an id that is not
/// UTF-8 or a function type this process does not know is refused with
/// a decode error.
#[test]
fn malformed_frames_are_refused() {
    let registry = registry();
    let decode = |bytes: &[u8]| {
        IncomingFrame::read(bytes).and_then(|frame| frame.decode(&registry, |_| Ok(())).map(drop))
    };
    let mut to = tallies();
    let messages = [
        stored(to.next().unwrap(), to.next(), 1),
        stored(to.next().unwrap(), None, 2),
    ];
    let whole = frame_of(
        FrameHead::Batch {
            from: ShardId(0),
            to: DESTINATION,
            first_seq: 1,
            color: 0,
        },
        &messages,
    );
    assert!(decode(&whole).is_ok());
    for len in 0..whole.len() {
        assert!(decode(&whole[..len]).is_err(), "cut to {len} bytes");
    }
    let mut trailing = whole.clone();
    trailing.push(0);
    assert!(decode(&trailing).is_err(), "a byte after the last message");
    let mut unknown_kind = whole.clone();
    unknown_kind[0] = 7;
    assert!(decode(&unknown_kind).is_err(), "a kind of frame");

    // `1 0 1`: external to shard 0, one message; one name.
    let external = |name: &[u8], to_name: u8, id: &[u8]| {
        let mut bytes = vec![1, 0, 1, 0x91];
        rmp::encode::write_str_len(&mut bytes, name.len() as u32).unwrap();
        bytes.extend_from_slice(name);
        bytes.push(to_name);
        rmp::encode::write_str_len(&mut bytes, id.len() as u32).unwrap();
        bytes.extend_from_slice(id);
        bytes.extend_from_slice(&[0xc0, 0]);
        rmp::encode::write_bin(&mut bytes, &rmp_serde::to_vec(&1u64).unwrap()).unwrap();
        bytes
    };
    let name = Tally::FUNCTION_TYPE.name().as_bytes();
    assert!(
        decode(&external(name, 0, b"7")).is_ok(),
        "the frame as built"
    );
    assert!(decode(&external(name, 1, b"7")).is_err(), "name 1 of 1");
    assert!(
        decode(&external(name, 0, &[0xff])).is_err(),
        "an id not UTF-8"
    );
    assert!(
        decode(&external(&[0xff, 0xfe], 0, b"7")).is_err(),
        "a name not UTF-8"
    );
    assert!(decode(&external(b"", 0, b"7")).is_err(), "an empty name");
    // No messages, four names: more than three names a message.
    let mut too_many_names = vec![1, 0, 0, 0x94];
    for _ in 0..4 {
        rmp::encode::write_str(&mut too_many_names, "x").unwrap();
    }
    assert!(decode(&too_many_names).is_err(), "four names, no message");
    let unknown = decode(&external(b"no/such-function", 0, b"7")).unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("unknown function type `no/such-function`"),
        "{unknown}"
    );
}

proptest::proptest! {
    /// Every frame reads back as it was written: its head, and its
    /// messages' addresses (any ids; senders of two function types, often
    /// the same as the previous message's, or alternating with the same
    /// ids) and bodies, in order.
    #[test]
    fn frames_round_trip(
        kind in 0..2u8,
        from in 0..COUNT,
        to in 0..COUNT,
        seq in proptest::prelude::any::<u64>(),
        color in proptest::prelude::any::<u64>(),
        messages in proptest::collection::vec(
            (
                ".{0,40}",
                proptest::option::of((
                    proptest::prelude::any::<bool>(),
                    proptest::prop_oneof!["[ab]", ".{0,40}"],
                )),
                proptest::prelude::any::<u64>(),
            ),
            0..16,
        ),
    ) {
        let registry = registry();
        let messages: Vec<StoredMessage> = messages
            .into_iter()
            .map(|(id, sender, n)| {
                stored(
                    Address::new(Tally::FUNCTION_TYPE, id),
                    sender.map(|(tally, id)| {
                        let function = if tally {
                            Tally::FUNCTION_TYPE
                        } else {
                            Labeller::FUNCTION_TYPE
                        };
                        Address::new(function, id)
                    }),
                    n,
                )
            })
            .collect();
        let (from, to) = (ShardId(from), ShardId(to));
        let head = match kind {
            0 => FrameHead::Batch { from, to, first_seq: seq, color },
            _ => FrameHead::External { to },
        };
        let bytes = frame_of(head, &messages);
        let frame = IncomingFrame::read(&bytes).unwrap();
        proptest::prop_assert_eq!(frame.head, head);
        let read = frame.decode(&registry, |_| Ok(())).unwrap();
        proptest::prop_assert_eq!(read.len(), messages.len());
        for (sent, read) in messages.iter().zip(read) {
            proptest::prop_assert_eq!(&sent.to, &read.to);
            proptest::prop_assert_eq!(&sent.from, &read.from);
            let n: u64 = rmp_serde::from_slice(&sent.body).unwrap();
            proptest::prop_assert_eq!(read.payload.downcast_ref::<u64>(), Some(&n));
        }
    }

    /// Any bytes at all, and any frame with bytes overwritten, are read
    /// without a panic on any channel: as a frame, or refused.
    #[test]
    fn any_bytes_are_read_or_refused(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        changes in proptest::collection::vec(
            (proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()),
            1..4,
        ),
        external in proptest::prelude::any::<bool>(),
        src in proptest::prop_oneof![0..COUNT + 2, proptest::strategy::Just(EXTERNAL_SOURCE)],
        dst in 0..COUNT + 2,
    ) {
        let registry = registry();
        let channel = RemoteChannel { src, dst };
        let _ = decode_frame(&registry, count(), channel, &bytes);
        let mut to = tallies();
        let head = if external {
            FrameHead::External { to: DESTINATION }
        } else {
            FrameHead::Batch { from: ShardId(0), to: DESTINATION, first_seq: 1, color: 0 }
        };
        let mut frame = frame_of(head, &[
            stored(to.next().unwrap(), to.next(), 1),
            stored(to.next().unwrap(), None, 2),
        ]);
        for (at, byte) in changes {
            let len = frame.len();
            frame[at % len] = byte;
        }
        let _ = decode_frame(&registry, count(), channel, &frame);
    }
}

/// The data-plane frame's bytes, pinned: a change to the format fails
/// this test until cluster's `WIRE_VERSION` (`cluster/src/transport/wire.rs`)
/// is bumped and these bytes are updated, so that members of different
/// formats refuse each other in the handshake instead of refusing each
/// frame.
#[test]
fn the_frame_format_is_pinned() {
    let to = Address::new(Tally::FUNCTION_TYPE, "a");
    let from = Address::new(Tally::FUNCTION_TYPE, "b");
    let frame = frame_of(
        FrameHead::Batch {
            from: ShardId(2),
            to: ShardId(3),
            first_seq: 7,
            color: 5,
        },
        &[stored(to.clone(), Some(from), 9), stored(to, None, 300)],
    );
    let expected: &[u8] = &[
        0, 3, 2, 7, 5,   // a batch for 3 from 2, first sequence 7, color 5
        2,   // two messages
        146, // the names: an array of two strings
        170, b't', b'e', b's', b't', b'/', b't', b'a', b'l', b'l', b'y', //
        163, b'u', b'6', b'4', //
        0, 161, b'a', 0, 161, b'b', 1, 196, 1, 9, // to, from, name, body 9
        0, 161, b'a', 192, 1, 196, 3, 205, 1, 44, // to, no sender, name, body 300
    ];
    assert_eq!(
        frame, expected,
        "the data-plane frame format changed: bump WIRE_VERSION in cluster/src/transport/wire.rs and update these bytes"
    );
}
