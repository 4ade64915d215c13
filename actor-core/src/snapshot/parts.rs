//! What a shard's snapshot holds (SNAPSHOTS.md §3.3), in a form that
//! serializes: messages are encoded with their registered names, timers
//! carry wall-clock deadlines.

use serde::{Deserialize, Serialize};

use crate::address::{Address, ShardId};
use crate::envelope::Envelope;
use crate::error::CodecError;
use crate::message::Payload;
use crate::registry::Registry;
use crate::snapshot::process::{ChannelCut, Epoch};

/// A message as stored in a snapshot: a mailbox entry, a channel-log entry
/// or a timer's payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    /// The destination.
    pub to: Address,
    /// The sending actor, if any.
    pub from: Option<Address>,
    /// The message's name as registered by the destination's function.
    pub message: String,
    /// The message, MessagePack-encoded.
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}

/// The name `envelope`'s message is registered under by its destination's
/// function; an error if that function does not take it.
pub(crate) fn registered_name<'r>(
    registry: &'r Registry,
    envelope: &Envelope,
) -> Result<&'r str, CodecError> {
    let function = envelope.to.function();
    registry
        .get(function)
        .and_then(|descriptor| descriptor.message_name(envelope.payload.type_id_of_value()))
        .ok_or_else(|| {
            CodecError::Encode(format!(
                "`{}` is not a message of `{function}`",
                envelope.payload.type_name()
            ))
        })
}

impl StoredMessage {
    /// Encodes an envelope. An ask's reply channel cannot be stored: after a
    /// recovery the message is delivered as a plain send.
    pub(crate) fn encode(registry: &Registry, envelope: &Envelope) -> Result<Self, CodecError> {
        let message = registered_name(registry, envelope)?;
        Ok(Self {
            to: envelope.to.clone(),
            from: envelope.from.clone(),
            message: message.to_owned(),
            body: envelope.payload.to_msgpack()?,
        })
    }

    /// Decodes the message back into an envelope.
    pub(crate) fn decode(&self, registry: &Registry) -> Result<Envelope, CodecError> {
        let payload = decode_payload(registry, &self.to, &self.message, &self.body)?;
        Ok(Envelope::new(self.to.clone(), self.from.clone(), payload))
    }
}

/// Decodes the MessagePack `body` of a message registered as `message` by
/// the function of `to`, typed through `registry`.
pub(crate) fn decode_payload(
    registry: &Registry,
    to: &Address,
    message: &str,
    body: &[u8],
) -> Result<Payload, CodecError> {
    let function = to.function();
    registry
        .get(function)
        .and_then(|descriptor| descriptor.message(message))
        .ok_or_else(|| CodecError::Decode(format!("`{function}` has no message `{message}`")))?
        .decode_msgpack(body)
}

/// One actor's state as of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredActor {
    /// The actor.
    pub address: Address,
    /// Its state, MessagePack-encoded.
    #[serde(with = "serde_bytes")]
    pub state: Vec<u8>,
}

/// A pending timer, with its deadline as wall-clock milliseconds since the
/// Unix epoch, so it survives a restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTimer {
    /// The id handlers know it by.
    pub id: crate::timers::TimerId,
    /// When it fires.
    pub deadline_unix_ms: u64,
    /// What it delivers.
    pub message: StoredMessage,
}

/// An incoming channel's part of a snapshot (rule 7): the messages that
/// were in flight on it at the cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredChannel {
    /// The sending shard.
    pub from: ShardId,
    /// The last sequence number delivered when this shard recorded.
    pub delivered_at_snapshot: u64,
    /// The sender's last sequence number before its own snapshot.
    pub cut_seq: u64,
    /// The in-flight messages, in channel order: sequence numbers
    /// `delivered_at_snapshot + 1 ..= cut_seq`.
    pub log: Vec<StoredMessage>,
}

impl StoredChannel {
    pub(crate) fn new(cut: ChannelCut, log: Vec<StoredMessage>) -> Self {
        Self {
            from: cut.from,
            delivered_at_snapshot: cut.delivered_at_snapshot,
            cut_seq: cut.cut_seq,
            log,
        }
    }
}

/// Every this many epochs (by number), each shard writes a full part —
/// every actor it holds, not only those written since its last part — so a
/// shard's chain of parts never grows past this length and older parts
/// can be collected (SNAPSHOTS §3.10 rule 33), whatever triggered the cut.
/// A shard also writes one sooner: right after a restore, and once the
/// messages queued in its chain pass a bound (`shard/chain.rs`).
pub const FULL_SNAPSHOT_EVERY: Epoch = 32;

/// Whether `epoch` is one whose parts are full.
pub fn is_full_epoch(epoch: Epoch) -> bool {
    epoch.is_multiple_of(FULL_SNAPSHOT_EVERY)
}

/// A shard's part of snapshot `epoch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSnapshot {
    /// The shard.
    pub shard: ShardId,
    /// The epoch.
    pub epoch: Epoch,
    /// Whether `actors` holds every actor of the shard (a new base for its
    /// chain) rather than those written since its previous part.
    pub full: bool,
    /// Actors whose state changed since the shard's previous snapshot, or
    /// every actor in a full part.
    pub actors: Vec<StoredActor>,
    /// Messages queued in the shard at the cut, in order.
    pub mailbox: Vec<StoredMessage>,
    /// Timers pending at the cut.
    pub timers: Vec<StoredTimer>,
    /// For each outgoing channel (indexed by destination shard), the last
    /// sequence number sent before the cut.
    pub sent: Vec<u64>,
    /// Each incoming channel's cut and in-flight messages.
    pub channels: Vec<StoredChannel>,
    /// Messages that could not be encoded and are therefore not in the
    /// snapshot (dead letters: their destination does not take them).
    pub unencodable: u64,
    /// Egress records emitted up to the cut and not yet released: sealed
    /// here, published once this epoch commits, published again on a
    /// restore from it (SNAPSHOTS §3.5 rules 13–15).
    pub egress: Vec<StoredEgress>,
    /// The shard's next egress sequence number at the cut.
    pub next_egress_seq: u64,
    /// The shard's next timer id at the cut.
    pub next_timer_id: u64,
    /// The read positions of the ingress splits the shard hosts.
    pub ingress: Vec<crate::ingress::StoredCursor>,
}

/// An egress record as sealed in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEgress {
    /// The egress's name.
    pub egress: String,
    /// The record's stable key.
    pub key: crate::egress::EgressKey,
    /// The record as JSON text.
    pub record: String,
}

impl ShardSnapshot {
    /// Folds a chain of one shard's parts, oldest first, into the state to
    /// resume from (SNAPSHOTS §3.10 rule 33): actor states apply in order,
    /// the last write winning; the queued messages, timers, counters and
    /// channels are those of the newest part, the committed epoch's. `None`
    /// for an empty chain.
    pub fn fold(chain: Vec<ShardSnapshot>) -> Option<Self> {
        let mut actors = std::collections::HashMap::new();
        let mut newest = None;
        for part in chain {
            if part.full {
                // A full part is a new base: nothing before it counts.
                actors.clear();
            }
            for actor in &part.actors {
                actors.insert(actor.address.clone(), actor.state.clone());
            }
            newest = Some(part);
        }
        let mut newest = newest?;
        newest.actors = actors
            .into_iter()
            .map(|(address, state)| StoredActor { address, state })
            .collect();
        Some(newest)
    }
}
