//! The buffers a handler's effects land in during a turn, flushed between
//! turns: the local run queue, per-destination outgoing batches, timers and
//! egress records.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::address::{ShardCount, ShardId};
use crate::context::unknown_egress;
use crate::egress::{EgressKey, EgressRecord};
use crate::envelope::{AskResult, Envelope};
use crate::error::{CodecError, Result};
use crate::message::Payload;
use crate::shard::inbox::Batch;
use crate::snapshot::Epoch;
use crate::timers::{TimerId, Timers};
use tokio::sync::oneshot;

/// A shard's effect buffers.
pub(crate) struct Effects {
    shard: ShardId,
    shard_count: ShardCount,
    /// Messages for actors of this shard, in arrival order. They never leave
    /// the shard.
    pub(crate) local: VecDeque<Envelope>,
    outbox: Outbox,
    pub(crate) timers: Timers,
    egress_names: Arc<[String]>,
    pub(crate) egress: Vec<EgressRecord>,
    pub(crate) next_egress_seq: u64,
    /// The epoch records emitted now belong to: one past the shard's last
    /// recorded snapshot. They are sealed into that snapshot (SNAPSHOTS §3.5).
    pub(crate) egress_epoch: Epoch,
    /// Replies to durable asks made this turn, with the epoch they wait for.
    pub(crate) held_replies: Vec<HeldReply>,
    /// The time at the start of the current turn; timers count from it.
    pub(crate) now: Instant,
}

impl Effects {
    pub(crate) fn new(
        shard: ShardId,
        shard_count: ShardCount,
        egress_names: Arc<[String]>,
    ) -> Self {
        Self {
            shard,
            shard_count,
            local: VecDeque::new(),
            outbox: Outbox::new(shard_count),
            timers: Timers::default(),
            egress_names,
            egress: Vec::new(),
            next_egress_seq: 1,
            egress_epoch: 1,
            held_replies: Vec::new(),
            now: Instant::now(),
        }
    }

    /// Queues an envelope for its destination: the local run queue if the
    /// actor lives on this shard, else the batch for its shard.
    /// The number of shards.
    pub(crate) fn shard_count(&self) -> ShardCount {
        self.shard_count
    }

    pub(crate) fn route(&mut self, envelope: Envelope) {
        let destination = envelope.to.shard(self.shard_count);
        if destination == self.shard {
            self.local.push_back(envelope);
        } else {
            self.outbox.push(destination, envelope);
        }
    }

    pub(crate) fn schedule(&mut self, delay: Duration, envelope: Envelope) -> TimerId {
        self.timers.schedule(self.now + delay, envelope)
    }

    pub(crate) fn cancel_timer(&mut self, timer: TimerId) -> bool {
        self.timers.cancel(timer)
    }

    pub(crate) fn emit<R: Serialize + ?Sized>(&mut self, egress: &str, record: &R) -> Result<()> {
        let sink = self
            .egress_names
            .iter()
            .position(|name| name == egress)
            .ok_or_else(|| unknown_egress(egress))?;
        let record =
            serde_json::to_string(record).map_err(|e| CodecError::Encode(e.to_string()))?;
        let key = EgressKey {
            epoch: self.egress_epoch,
            shard: self.shard,
            seq: self.next_egress_seq,
        };
        self.next_egress_seq += 1;
        self.egress.push(EgressRecord { sink, key, record });
        Ok(())
    }

    /// Holds a durable ask's reply until the epoch holding this turn's
    /// effects commits.
    pub(crate) fn hold_reply(&mut self, caller: oneshot::Sender<AskResult>, reply: Payload) {
        self.held_replies.push(HeldReply {
            epoch: self.egress_epoch,
            caller,
            reply,
        });
    }

    /// Takes this turn's outgoing batches, one per destination shard,
    /// coloured with the shard's current epoch.
    pub(crate) fn take_batches(
        &mut self,
        color: Epoch,
    ) -> impl Iterator<Item = (ShardId, Batch)> + '_ {
        let from = self.shard;
        self.outbox.drain(from, color)
    }

    /// Continues each outgoing channel after the last sequence number a
    /// snapshot recorded.
    pub(crate) fn restore_sent(&mut self, sent: &[u64]) {
        for (next, last) in self.outbox.next_seq.iter_mut().zip(sent) {
            *next = last + 1;
        }
    }

    /// The last sequence number sent on each outgoing channel.
    pub(crate) fn sent(&self) -> Vec<u64> {
        self.outbox.next_seq.iter().map(|next| next - 1).collect()
    }

    /// The last sequence number sent on the channel to `destination`.
    pub(crate) fn last_sent(&self, destination: ShardId) -> u64 {
        self.outbox.next_seq[destination.index()] - 1
    }

    /// Messages waiting in this turn's outgoing batches.
    pub(crate) fn outgoing_len(&self) -> usize {
        self.outbox.pending_len
    }

    /// Messages sent to other shards so far, over all channels.
    pub(crate) fn sent_to_shards(&self) -> u64 {
        self.outbox.sent
    }
}

/// A durable ask's reply, waiting for `epoch` to commit.
pub(crate) struct HeldReply {
    pub(crate) epoch: Epoch,
    pub(crate) caller: oneshot::Sender<AskResult>,
    pub(crate) reply: Payload,
}

/// Outgoing envelopes grouped by destination shard, with each channel's
/// next sequence number.
struct Outbox {
    pending: Vec<Vec<Envelope>>,
    /// Destinations with pending envelopes, so a flush does not scan every shard.
    touched: Vec<ShardId>,
    next_seq: Vec<u64>,
    /// The length of the last batch to each destination.
    last_len: Vec<usize>,
    pending_len: usize,
    sent: u64,
}

impl Outbox {
    fn new(shard_count: ShardCount) -> Self {
        let count = shard_count.get() as usize;
        Self {
            pending: (0..count).map(|_| Vec::new()).collect(),
            touched: Vec::new(),
            next_seq: vec![1; count],
            last_len: vec![0; count],
            pending_len: 0,
            sent: 0,
        }
    }

    fn push(&mut self, destination: ShardId, envelope: Envelope) {
        let queue = &mut self.pending[destination.index()];
        if queue.is_empty() {
            self.touched.push(destination);
            // Size the batch like the last one to this shard: growing a Vec
            // of envelopes step by step copies each of them several times.
            queue.reserve(self.last_len[destination.index()]);
        }
        queue.push(envelope);
        self.pending_len += 1;
    }

    fn drain(
        &mut self,
        from: ShardId,
        color: Epoch,
    ) -> impl Iterator<Item = (ShardId, Batch)> + '_ {
        self.pending_len = 0;
        let Self {
            pending,
            touched,
            next_seq,
            last_len,
            sent,
            ..
        } = self;
        touched.drain(..).map(move |destination| {
            let envelopes = std::mem::take(&mut pending[destination.index()]);
            last_len[destination.index()] = envelopes.len();
            let next_seq = &mut next_seq[destination.index()];
            let first_seq = *next_seq;
            *next_seq += envelopes.len() as u64;
            *sent += envelopes.len() as u64;
            (
                destination,
                Batch {
                    from,
                    first_seq,
                    color,
                    envelopes,
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::{Address, FunctionType};
    use crate::message::Payload;

    const TARGET: FunctionType = FunctionType::from_static("test/effects-target");

    fn effects_on(shard: ShardId, count: u32) -> Effects {
        Effects::new(
            shard,
            ShardCount::new(count).unwrap(),
            Arc::from(vec!["out".to_owned()]),
        )
    }

    fn to(id: u64) -> Envelope {
        Envelope::new(Address::new(TARGET, id), None, Payload::new(id))
    }

    #[test]
    fn local_messages_stay_and_remote_ones_batch_per_destination() {
        let count = ShardCount::new(8).unwrap();
        let mut effects = effects_on(ShardId(0), 8);
        let mut expected_per_shard = vec![Vec::new(); 8];
        for id in 0..200u64 {
            expected_per_shard[Address::new(TARGET, id).shard(count).index()].push(id);
            effects.route(to(id));
        }
        let local: Vec<u64> = effects
            .local
            .drain(..)
            .map(|e| e.payload.downcast::<u64>().unwrap())
            .collect();
        assert_eq!(local, expected_per_shard[0]);
        let batches: Vec<_> = effects.take_batches(0).collect();
        assert_eq!(batches.len(), 7, "one batch per other shard");
        for (destination, batch) in batches {
            assert_eq!(batch.from, ShardId(0));
            assert_eq!(batch.first_seq, 1);
            let ids: Vec<u64> = batch
                .envelopes
                .into_iter()
                .map(|e| e.payload.downcast::<u64>().unwrap())
                .collect();
            assert_eq!(
                ids,
                expected_per_shard[destination.index()],
                "FIFO per channel"
            );
        }
        assert_eq!(effects.sent_to_shards(), 200 - local.len() as u64);
    }

    #[test]
    fn sequence_numbers_continue_across_batches() {
        let count = ShardCount::new(2).unwrap();
        let mut effects = effects_on(ShardId(0), 2);
        let remote: Vec<u64> = (0..100u64)
            .filter(|id| Address::new(TARGET, *id).shard(count) == ShardId(1))
            .take(5)
            .collect();
        effects.route(to(remote[0]));
        effects.route(to(remote[1]));
        let first: Vec<_> = effects.take_batches(0).collect();
        effects.route(to(remote[2]));
        let second: Vec<_> = effects.take_batches(4).collect();
        assert_eq!(first[0].1.first_seq, 1);
        assert_eq!(second[0].1.first_seq, 3);
        assert_eq!(second[0].1.color, 4);
        assert_eq!(effects.sent(), vec![0, 3]);
        assert!(effects.take_batches(4).next().is_none(), "nothing pending");
    }

    #[test]
    fn emit_to_an_unknown_egress_is_an_error() {
        let mut effects = effects_on(ShardId(0), 1);
        assert!(effects.emit("nope", &1).is_err());
        effects.emit("out", &serde_json::json!({"a": 1})).unwrap();
        effects.emit("out", &2).unwrap();
        let seqs: Vec<u64> = effects.egress.iter().map(|r| r.key.seq).collect();
        assert_eq!(seqs, vec![1, 2]);
        assert_eq!(effects.egress[0].json(), r#"{"a":1}"#);
    }
}
