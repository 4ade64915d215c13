//! The remote outlet and the inbound decoder against each other, without
//! a network: frames recorded by a sink, decoded as the receiving node
//! would.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::decode_frame;
use super::outlet::{Outlet, RemoteOutlet};
use super::placement::{RemoteChannel, RemoteShards, EXTERNAL_SOURCE};
use super::wire::{decode_message, Frame, FrameFunctions, Undeliverable};
use crate::address::{Address, ShardCount, ShardId};
use crate::envelope::{AskReply, Envelope, ReplyTo};
use crate::function::StatefulFunction;
use crate::message::Payload;
use crate::registry::Registry;
use crate::shard::{Batch, Inbound};
use crate::snapshot::StoredMessage;
use crate::test_support::Tally;

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

#[test]
fn frames_that_do_not_match_their_channel_are_refused() {
    let registry = registry();
    let empty_batch = |from: u32, to: u32| {
        Frame::Batch {
            from: ShardId(from),
            to: ShardId(to),
            first_seq: 1,
            color: 0,
            messages: Vec::new(),
        }
        .encode()
        .unwrap()
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
    let elsewhere = (0u64..)
        .map(|id| Address::new(Tally::FUNCTION_TYPE, id))
        .find(|address| address.shard(count()) != DESTINATION)
        .unwrap();
    let misplaced = Frame::External {
        to: DESTINATION,
        messages: vec![crate::snapshot::StoredMessage {
            to: elsewhere,
            from: None,
            message: "u64".into(),
            body: rmp_serde::to_vec(&1u64).unwrap(),
        }],
    }
    .encode()
    .unwrap();
    assert!(
        decode(EXTERNAL_SOURCE, 1, &misplaced).is_err(),
        "an actor of another shard"
    );
}

proptest::proptest! {
    /// Every frame decodes back to itself.
    #[test]
    fn frames_round_trip(
        kind in 0..2u8,
        from in 0..COUNT,
        to in 0..COUNT,
        seq in proptest::prelude::any::<u64>(),
        color in proptest::prelude::any::<u64>(),
        bodies in proptest::collection::vec(
            (
                proptest::prelude::any::<u64>(),
                proptest::option::of(proptest::prelude::any::<u64>()),
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            ),
            0..16,
        ),
    ) {
        // Decoding an address needs its function type registered.
        registry();
        let messages: Vec<crate::snapshot::StoredMessage> = bodies
            .into_iter()
            .map(|(id, sender, body)| crate::snapshot::StoredMessage {
                to: Address::new(Tally::FUNCTION_TYPE, id),
                from: sender.map(|sender| Address::new(Tally::FUNCTION_TYPE, sender)),
                message: "u64".into(),
                body,
            })
            .collect();
        let (from, to) = (ShardId(from), ShardId(to));
        let frame = match kind {
            0 => Frame::Batch { from, to, first_seq: seq, color, messages },
            _ => Frame::External { to, messages },
        };
        let bytes = frame.encode().unwrap();
        let decoded = Frame::decode(&bytes).unwrap();
        proptest::prop_assert_eq!(&decoded, &frame);
        // Read as it arrives, names and bodies borrowed, then decoded, it
        // is the same.
        let read = Frame::read(&bytes).unwrap();
        let (Frame::Batch { messages: sent, .. } | Frame::External { messages: sent, .. }) = &frame;
        let (Frame::Batch { messages: got, .. } | Frame::External { messages: got, .. }) = read;
        proptest::prop_assert_eq!(sent.len(), got.len());
        let mut functions = FrameFunctions::default();
        for (sent, got) in sent.iter().zip(got) {
            proptest::prop_assert_eq!(sent.message.as_str(), got.message);
            proptest::prop_assert_eq!(sent.body.as_slice(), &got.body[..]);
            let envelope = decode_message(&registry(), &mut functions, got).unwrap();
            proptest::prop_assert_eq!(&sent.to, &envelope.to);
            proptest::prop_assert_eq!(&sent.from, &envelope.from);
        }
    }
}

/// Names and ids in a frame's addresses are read as MessagePack `str` or
/// UTF-8 `bin`; bytes that are not UTF-8, or a function type this process
/// does not know, refuse the frame.
#[test]
fn frame_addresses_decode_from_str_or_utf8_bytes() {
    /// `Frame` with addresses written as any pair of parts.
    #[derive(serde::Serialize)]
    enum MirrorFrame<A> {
        #[allow(dead_code)]
        Batch,
        External {
            to: ShardId,
            messages: Vec<MirrorMessage<A>>,
        },
    }
    #[derive(serde::Serialize)]
    struct MirrorMessage<A> {
        to: A,
        from: Option<A>,
        message: &'static str,
        #[serde(with = "serde_bytes")]
        body: Vec<u8>,
    }
    let registry = registry();
    let to = tallies().next().unwrap();
    let frame = |function: &[u8], id: &[u8]| {
        let address = (
            serde_bytes::ByteBuf::from(function),
            serde_bytes::ByteBuf::from(id),
        );
        rmp_serde::to_vec(&MirrorFrame::External {
            to: DESTINATION,
            messages: vec![MirrorMessage {
                to: address.clone(),
                from: Some(address),
                message: "u64",
                body: rmp_serde::to_vec(&3u64).unwrap(),
            }],
        })
        .unwrap()
    };
    let decode = |bytes: Vec<u8>| {
        decode_frame(
            &registry,
            count(),
            RemoteChannel {
                src: EXTERNAL_SOURCE,
                dst: DESTINATION.0,
            },
            &bytes,
        )
    };
    let name = Tally::FUNCTION_TYPE.name().as_bytes();
    let (_, items) = decode(frame(name, to.id().as_str().as_bytes())).unwrap();
    let [Inbound::External(envelope)] = &items[..] else {
        panic!("one external message: {items:?}");
    };
    assert_eq!(envelope.to, to);
    assert_eq!(envelope.from.as_ref(), Some(&to));
    assert_eq!(envelope.payload.downcast_ref::<u64>(), Some(&3));
    assert!(decode(frame(&[0xff, 0xfe], to.id().as_str().as_bytes())).is_err());
    assert!(decode(frame(name, &[0xff])).is_err());
    let unknown = decode(frame(b"no/such-function", b"1")).unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("unknown function type `no/such-function`"),
        "{unknown}"
    );
}
