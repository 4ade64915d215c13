//! A shard's part in moving shards between nodes at an epoch cut, without
//! a global pause (SNAPSHOTS §3.8).
//!
//! Every shard of every node is told the routes of the next shard map
//! before the epoch starts ([`Reroute`], rule 24). It keeps sending on the
//! old routes until its own snapshot of that epoch, and switches right
//! after it has sent its markers (rule 25): everything before its cut goes
//! to a moving shard's old node, everything after to the new one.
//!
//! A shard that leaves this node **freezes** at its snapshot (rule 26): it
//! handles nothing more, since the new owner restores it at exactly that
//! cut and handles what follows. It only records the pre-cut messages
//! still on their way (the channel logs), forwards messages from outside
//! to the new owner, and once the epoch commits — its part, logs included,
//! is then durable — it answers the durable asks the epoch released, hands
//! the asks it took out of its queue at the cut on to the new owner
//! (`moving`), and stops.

use std::sync::Arc;

use crate::envelope::Envelope;
use crate::error::{AskError, Error};
use crate::remote::Outlet;
use crate::snapshot::Epoch;

use super::moving::Moving;
use super::{Batch, Inbound, Shard};

/// The routes a shard switches to at its snapshot of `epoch`.
#[derive(Clone)]
pub(crate) struct Reroute {
    /// The epoch at whose cut the routes change.
    pub(crate) epoch: Epoch,
    /// Where each shard's messages go after the cut, indexed by shard.
    pub(crate) routes: Arc<[Outlet]>,
    /// Whether this shard leaves the node at the cut.
    pub(crate) departs: bool,
}

impl std::fmt::Debug for Reroute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reroute")
            .field("epoch", &self.epoch)
            .field("departs", &self.departs)
            .finish_non_exhaustive()
    }
}

/// Where a shard stands in a handoff.
#[derive(Default)]
pub(super) enum Handoff {
    /// Routes as they are.
    #[default]
    Steady,
    /// New routes wait for the shard's snapshot of their epoch.
    Prepared(Reroute),
    /// The shard left this node at its snapshot of `epoch` and only
    /// records its channels' logs until the epoch commits; `moving` waits
    /// for the commit to go to the new owner.
    Frozen { epoch: Epoch, moving: Moving },
}

impl Shard {
    /// Whether the shard has left this node and waits for its epoch to
    /// commit.
    pub(super) fn is_frozen(&self) -> bool {
        matches!(self.handoff, Handoff::Frozen { .. })
    }

    /// Takes the routes of the next shard map (rule 24). A shard already
    /// frozen has no routes to change.
    pub(super) fn prepare_reroute(&mut self, reroute: Reroute) {
        if self.is_frozen() {
            tracing::warn!(shard = %self.id, epoch = reroute.epoch, "routes for a shard that has left; ignored");
            return;
        }
        self.handoff = Handoff::Prepared(reroute);
    }

    /// Right before snapshot `epoch` is recorded: if the shard leaves at
    /// this cut, takes the asks from outside out of its queue (with the
    /// messages from outside behind them), so that the snapshot does not
    /// hold them; they go to the new owner once the epoch commits.
    pub(super) fn take_moving_at_cut(&mut self, epoch: Epoch) -> Moving {
        match &self.handoff {
            Handoff::Prepared(reroute) if reroute.departs && reroute.epoch <= epoch => {
                Moving::take_from(&mut self.effects.local)
            }
            _ => Moving::default(),
        }
    }

    /// Right after the markers of snapshot `epoch` (rule 25): switches to
    /// the prepared routes of this epoch, and freezes if the shard leaves,
    /// holding `moving` (from [`Shard::take_moving_at_cut`]) for the new
    /// owner.
    pub(super) fn reroute_at_cut(&mut self, epoch: Epoch, moving: Moving) {
        let Handoff::Prepared(reroute) = &self.handoff else {
            return;
        };
        if reroute.epoch > epoch {
            return;
        }
        if reroute.epoch < epoch {
            tracing::warn!(shard = %self.id, prepared = reroute.epoch, epoch, "routes prepared for an earlier epoch taken at this one");
        }
        let Handoff::Prepared(reroute) = std::mem::take(&mut self.handoff) else {
            unreachable!("matched above");
        };
        self.peers = reroute.routes;
        if reroute.departs {
            self.freeze(epoch, moving);
        }
    }

    /// Stops handling anything (rule 26): the snapshot just taken holds
    /// the queue, the timers and the ingress offsets, and the new owner
    /// starts from them. The asks taken out before it (`moving`) wait for
    /// the commit here.
    fn freeze(&mut self, epoch: Epoch, moving: Moving) {
        let moving_count = moving.len();
        self.handoff = Handoff::Frozen { epoch, moving };
        // What stayed queued is in the snapshot: the new owner handles it.
        self.effects.local.clear();
        // Read again from the snapshot's offsets by the new owner, which
        // reads on from there: the readers here stop.
        self.admitted.clear();
        for cursor in &self.ingress {
            cursor.reader_stop.raise();
        }
        tracing::debug!(shard = %self.id, epoch, moving = moving_count, "frozen at the cut; handing off");
    }

    /// Takes one inbox item: as usual, or, once frozen, as a shard that
    /// has moved. Returns `false` when the shard must stop, and once a
    /// frozen shard has handed off for good (its epoch committed).
    pub(super) fn receive(&mut self, item: Inbound) -> bool {
        let Handoff::Frozen { epoch, .. } = self.handoff else {
            return self.accept(item);
        };
        match item {
            Inbound::Frame { channel, bytes } => {
                for item in self.decode(channel, &bytes) {
                    if !self.receive(item) {
                        return false;
                    }
                }
            }
            Inbound::Batch(batch) => self.record_frozen(batch),
            Inbound::External(envelope) => self.forward_stray(envelope),
            Inbound::Marker { .. }
            | Inbound::Probe(_)
            | Inbound::Inspect(_)
            | Inbound::EgressWritten { .. } => return self.accept(item),
            Inbound::Committed(committed) if committed >= epoch => {
                self.release_durable_replies(committed);
                self.hand_on_moving();
                return false;
            }
            Inbound::Shutdown => return false,
            // The cut's epoch did not commit: the cluster rolls back to the
            // last commit, which none of the moving messages reached.
            Inbound::Aborted(aborted) if aborted >= epoch => self.fail_moving(epoch),
            // Records are read again by the new owner; an abort leaves the
            // shard frozen until the cluster is configured anew.
            Inbound::Ingress { .. }
            | Inbound::IngressEnd { .. }
            | Inbound::StartEpoch(_)
            | Inbound::Credit { .. }
            | Inbound::Committed(_)
            | Inbound::Aborted(_)
            | Inbound::Reroute(_) => {}
        }
        true
    }

    /// Logs the pre-cut messages of a batch (rule 6) without handling
    /// them: the new owner replays the log. Nothing after the cut can come
    /// here, since every sender switched routes at its own cut.
    fn record_frozen(&mut self, batch: Batch) {
        let Batch {
            from,
            first_seq,
            color,
            envelopes,
        } = batch;
        match self
            .snapshot
            .on_batch(from, first_seq, envelopes.len(), color)
        {
            Ok(decision) => {
                if decision.log_count > 0 {
                    self.log_in_flight(from, &envelopes[..decision.log_count]);
                }
                if decision.log_count < envelopes.len() {
                    super::count_protocol_error();
                    tracing::error!(
                        shard = %self.id,
                        %from,
                        dropped = envelopes.len() - decision.log_count,
                        "post-cut messages reached a shard that has moved; this is a bug"
                    );
                }
                if decision.closes {
                    self.finish_snapshot_if_complete();
                }
            }
            Err(error) => {
                super::count_protocol_error();
                tracing::error!(shard = %self.id, %error, "channel broken on a moving shard")
            }
        }
    }

    /// Answers the durable asks whose epoch committed; the others (none,
    /// unless epochs overtook each other) fail, as their replies cannot
    /// follow the shard.
    fn release_durable_replies(&mut self, committed: Epoch) {
        for held in std::mem::take(&mut self.held_replies) {
            if held.epoch <= committed {
                let _ = held.caller.send(Ok(held.reply));
            } else {
                let error = Error::RemoteShard { shard: self.id.0 };
                let _ = held.caller.send(Err(AskError::Send(error)));
            }
        }
    }

    /// Forwards a message from outside to the shard's new node, an ask
    /// with its answer relayed back; behind the moving messages while the
    /// shard holds any, to keep their order.
    fn forward_stray(&mut self, envelope: Envelope) {
        if let Handoff::Frozen { moving, .. } = &mut self.handoff {
            if !moving.is_empty() {
                moving.push(envelope);
                return;
            }
        }
        self.forward(envelope);
    }

    /// Sends a message from outside on to the shard's new node. One that
    /// cannot go (too large for a frame, the node stopping) is a dead
    /// letter; an ask among them has been answered so.
    fn forward(&mut self, envelope: Envelope) {
        if let Outlet::Remote(remote) = &self.peers[self.id.index()] {
            if let Err(error) = remote.forward_external(envelope) {
                self.dead_letter(None, error);
            }
        } else {
            tracing::error!(shard = %self.id, "a moved shard routes to itself; message dropped; this is a bug");
        }
    }

    /// The cut's epoch committed: the moving messages go to the new owner,
    /// in the order they reached this shard.
    fn hand_on_moving(&mut self) {
        let Handoff::Frozen { moving, .. } = &mut self.handoff else {
            return;
        };
        for envelope in moving.take() {
            self.forward(envelope);
        }
    }

    /// The cut's epoch did not commit (or the node stops first): the
    /// moving asks fail, since none of their messages was handled.
    fn fail_moving(&mut self, epoch: Epoch) {
        let shard = self.id.0;
        if let Handoff::Frozen { moving, .. } = &mut self.handoff {
            let failed = moving.fail(Error::HandoffAborted { shard, epoch });
            if failed > 0 {
                tracing::warn!(
                    shard,
                    epoch,
                    failed,
                    "messages moving with the shard dropped: its epoch did not commit"
                );
            }
        }
    }

    /// Stops a shard that handed off: forwards what came from outside and
    /// is still in its inbox, answers probes, and leaves its state to the
    /// new owner.
    pub(super) fn depart(&mut self) {
        // Still holding moving messages: the epoch never committed here.
        if let Handoff::Frozen { epoch, .. } = self.handoff {
            self.fail_moving(epoch);
        }
        while let Ok(item) = self.inbox.try_recv() {
            match item {
                Inbound::Probe(reply) => {
                    let _ = reply.send(self.stats());
                }
                Inbound::Inspect(inspection) => self.inspect(inspection),
                Inbound::External(envelope) => self.forward_stray(envelope),
                Inbound::Frame { channel, bytes } => {
                    for item in self.decode(channel, &bytes) {
                        if let Inbound::External(envelope) = item {
                            self.forward_stray(envelope);
                        }
                    }
                }
                _ => {}
            }
        }
        self.release_durable_replies(Epoch::MIN);
        tracing::debug!(shard = %self.id, "handed off");
    }
}
