//! What a shard receives: batches from other shards, messages from outside,
//! and control requests.

use serde::Serialize;
use tokio::sync::oneshot;

use crate::address::ShardId;
use crate::envelope::Envelope;
use crate::shard::inspect::Inspection;
use crate::shard::traffic::FunctionTraffic;
use crate::snapshot::Epoch;

/// The sending half of a shard's inbox.
pub(crate) type InboxSender = tokio::sync::mpsc::UnboundedSender<Inbound>;

/// The receiving half of a shard's inbox.
pub(crate) type InboxReceiver = tokio::sync::mpsc::UnboundedReceiver<Inbound>;

/// One item in a shard's inbox.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// Messages from another shard, in channel order.
    Batch(Batch),
    /// A frame from a shard on another node, still encoded: decoded on
    /// this shard's turn, so that frames from every peer are decoded by
    /// their destination shards in parallel rather than by the one task
    /// that receives them.
    Frame {
        channel: crate::remote::RemoteChannel,
        bytes: bytes::Bytes,
    },
    /// A message from outside the actor system.
    External(Envelope),
    /// A record of an ingress split hosted here, turned into a message
    /// (`None` if the route refused it), and the split's offset after it.
    Ingress {
        cursor: usize,
        envelope: Option<Envelope>,
        next_offset: u64,
    },
    /// The reader of a split hosted here has reached the split's end.
    IngressEnd { cursor: usize },
    /// Chandy–Lamport marker for `epoch` on the channel `from → this shard`:
    /// `from` sent `cut_seq` messages on it before recording.
    Marker {
        from: ShardId,
        epoch: Epoch,
        cut_seq: u64,
    },
    /// The coordinator starts snapshot `epoch`.
    StartEpoch(Epoch),
    /// Snapshot `epoch` is committed (its manifest is written).
    Committed(Epoch),
    /// Snapshot `epoch` will never commit; its captures must be taken again.
    Aborted(Epoch),
    /// Shard `from` has handled every message through `through_seq` on the
    /// channel from this shard to it: credit (SNAPSHOTS §3.1 rule 3).
    Credit { from: ShardId, through_seq: u64 },
    /// A sink has written this shard's records up to `through_seq`.
    EgressWritten { sink: usize, through_seq: u64 },
    /// A request for the shard's counters, answered between turns.
    Probe(oneshot::Sender<ShardStats>),
    /// A read-only question from an operator, answered between turns.
    Inspect(Inspection),
    /// The routes of the next shard map, taken at this shard's snapshot
    /// of their epoch (SNAPSHOTS §3.8).
    Reroute(super::Reroute),
    /// Stop after this turn.
    Shutdown,
}

/// The messages one shard sent another during one turn, on the channel
/// `from → to`. Sequence numbers start at 1 per channel and never repeat:
/// the `i`th envelope has sequence `first_seq + i`.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) from: ShardId,
    pub(crate) first_seq: u64,
    /// The sender's epoch when it sent the batch (its last snapshot).
    pub(crate) color: Epoch,
    pub(crate) envelopes: Vec<Envelope>,
}

/// A shard's counters, as seen between two turns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShardStats {
    /// The shard.
    pub shard: u32,
    /// Actors in memory.
    pub active_actors: usize,
    /// Actors passivated with their state kept serialized in the shard.
    pub passivated_actors: usize,
    /// Messages queued in the shard, not yet handled.
    pub queued_messages: usize,
    /// Timers set and not yet fired or cancelled.
    pub pending_timers: usize,
    /// Messages taken from the shard's queue since it started: every
    /// function type's `delivered` (see [`ShardStats::functions`]) plus the
    /// dead letters.
    pub messages_handled: u64,
    /// Messages delivered and sent per registered function type, in the
    /// registry's order of registration.
    pub functions: Vec<FunctionTraffic>,
    /// Messages sent to other shards since the shard started.
    pub messages_sent_to_shards: u64,
    /// Messages received from other shards since the shard started.
    pub messages_received_from_shards: u64,
    /// Messages dropped because no actor could take them (unknown function
    /// type or message type, state that failed to restore).
    pub dead_letters: u64,
    /// Actors activated since the shard started.
    pub activations: u64,
    /// Actors passivated since the shard started.
    pub passivations: u64,
    /// Egress records waiting for their epoch to commit.
    pub egress_pending: usize,
    /// Egress records handed to their sinks since the shard started.
    pub egress_released: u64,
    /// The last snapshot epoch this shard recorded.
    pub epoch: u64,
    /// Ingress splits hosted here whose end has not yet been reached.
    pub ingress_splits_open: usize,
    /// Times the shard stopped running turns because a shard it sends to
    /// had not handled a window's worth of its messages
    /// ([`RuntimeConfig::channel_window`](crate::RuntimeConfig::channel_window)).
    pub credit_waits: u64,
    /// Times the shard waited its whole
    /// [`RuntimeConfig::credit_patience`](crate::RuntimeConfig::credit_patience)
    /// without credit and ran on anyway (a cycle of full windows, a stalled
    /// receiver).
    pub credit_overdrafts: u64,
}
