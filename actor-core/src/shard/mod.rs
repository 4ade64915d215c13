//! A shard: the single-threaded executor of one key range of actors.
//!
//! A shard runs as one tokio task. Each loop iteration is a *turn*: take what
//! the inbox holds, fire due timers, handle up to `turn_budget` messages from
//! the local run queue (including messages those handlers send to actors of
//! this same shard), then flush the turn's outgoing messages as one batch per
//! destination shard and its egress records as one batch per sink. Between
//! two turns the shard is in a consistent state, which is where snapshots
//! will be taken.

mod actors;
mod chain;
mod credit;
mod effects;
mod handoff;
mod inbox;
mod inspect;
mod moving;
mod traffic;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{sleep_until, Instant, Sleep};

use crate::address::ShardId;
use crate::context::Context;
use crate::egress::EgressHub;
use crate::egress::EgressRecord;
use crate::envelope::{Envelope, ReplyTo};
use crate::error::{AskError, Error};
use crate::function::Access;
use crate::ingress::SplitCursor;
use crate::registry::Registry;
use crate::remote::{NodeMarkers, Outlet};
use crate::snapshot::{
    Epoch, ProtocolError, ShardSnapshot, SnapshotProcess, StoredChannel, StoredEgress,
    StoredMessage, StoredTimer,
};

use actors::{ActivationError, ActorTable};
use credit::Credit;
pub(crate) use effects::Effects;
use handoff::Handoff;
pub(crate) use handoff::Reroute;
pub use inbox::ShardStats;
pub(crate) use inbox::{Batch, Inbound, InboxReceiver, InboxSender};
pub(crate) use inspect::{order as listing_order, Inspection};
pub use inspect::{ActorStatus, ActorSummary, ActorView, FunctionCount};
pub use traffic::FunctionTraffic;
use traffic::Traffic;

/// Passivation sweeps per idle timeout, at the least: an idle actor is
/// passivated between one and `1 + 1/SWEEPS_PER_IDLE_TIMEOUT` idle timeouts
/// after its last message.
const SWEEPS_PER_IDLE_TIMEOUT: u32 = 4;

/// How long a shard may run turns back to back before it yields its worker
/// to the other shards there.
const MAX_BUSY: Duration = Duration::from_micros(500);

/// One handler in this many is timed for the handler latency histogram.
const LATENCY_SAMPLE_EVERY: u64 = 64;

/// The handler latency histogram, in seconds, labelled by function type;
/// one handler in 64 on each shard is timed.
pub const HANDLER_DURATION: &str = "cairn_handler_duration_seconds";

/// Violations of channel order or of the snapshot protocol a shard found
/// (a sequence gap or repeat, a marker whose cut does not match what the
/// channel delivered, post-cut messages reaching a moved shard), a counter.
/// Each is a bug, logged at `error`; the count lets tests fail on one.
pub const PROTOCOL_ERRORS: &str = "cairn_shard_protocol_errors_total";

/// Counts one violation in [`PROTOCOL_ERRORS`].
fn count_protocol_error() {
    metrics::counter!(PROTOCOL_ERRORS).increment(1);
}

/// The longest a shard goes between passivation sweeps.
const MAX_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// How many inbox items a turn takes at most before handling messages.
const INBOX_BUDGET: usize = 256;

/// A turn ends once this many messages wait in its outgoing batches, even
/// if it has handled fewer than `turn_budget` messages: a handler may send
/// thousands, and holding them all back starves the shards they are for and
/// writes megabytes of envelopes that the receiving core then reads from
/// cold memory. 16 K still gives batches of ~256 to each of 64 shards
/// (docs/design.md, "Executors").
const OUTBOX_LIMIT: usize = 16 * 1024;

/// The settings of one shard.
#[derive(Clone, Debug)]
pub(crate) struct ShardSettings {
    pub(crate) turn_budget: usize,
    pub(crate) idle_timeout: Duration,
    /// The most actors this shard keeps active, if bounded.
    pub(crate) max_active: Option<usize>,
    /// Where the shard asks for an epoch sooner when only dirty actors stand
    /// between it and its bound (SNAPSHOTS §3.10 rule 34).
    pub(crate) pressure: Option<Arc<tokio::sync::Notify>>,
    /// The node's marker batcher, where markers for shards on other nodes
    /// go (SNAPSHOTS §3.2 rule 5).
    pub(crate) markers: Arc<NodeMarkers>,
    /// Messages a shard may have sent on a channel and the receiver not yet
    /// handled before it stops running turns (SNAPSHOTS §3.1 rule 3).
    pub(crate) channel_window: u64,
    /// How long a shard waits for credit before it runs on anyway.
    pub(crate) credit_patience: Duration,
}

/// Where a shard hands its finished snapshot parts.
pub(crate) type SnapshotSender = tokio::sync::mpsc::UnboundedSender<ShardSnapshot>;

/// A recorded snapshot still collecting the in-flight messages of its
/// incoming channels (rule 6).
struct OpenSnapshot {
    part: ShardSnapshot,
    /// The channel logs, indexed by source shard.
    logs: Vec<Vec<StoredMessage>>,
}

/// An ingress item taken from the inbox, admitted after the turn's inbox
/// items so that a snapshot recorded among them sees a consistent offset.
enum Admitted {
    /// A record turned into a message (`None` if refused), and the split's
    /// offset after it.
    Record {
        cursor: usize,
        envelope: Option<Envelope>,
        next_offset: u64,
    },
    /// The split's reader reached its end.
    End { cursor: usize },
}

/// One shard and everything it owns.
pub(crate) struct Shard {
    id: ShardId,
    settings: ShardSettings,
    inbox: InboxReceiver,
    /// Where each shard's messages go, indexed by shard: a local inbox, or
    /// a shard on another node.
    peers: Arc<[Outlet]>,
    /// This shard's own inbox, where sinks confirm its records.
    own_inbox: InboxSender,
    actors: ActorTable,
    effects: Effects,
    egress: EgressHub,
    registry: Arc<Registry>,
    /// This shard as a Chandy–Lamport process; it also checks that every
    /// incoming channel continues its sequence.
    snapshot: SnapshotProcess,
    /// The snapshot recorded and still collecting its channels' logs.
    open: Option<OpenSnapshot>,
    /// What the shard's chain of parts carries, to start it anew in time.
    chain: chain::ChainWeight,
    /// Where finished shard snapshots go (the coordinator); `None` when the
    /// node runs without snapshots.
    snapshots_out: Option<SnapshotSender>,
    /// With snapshots, egress records wait here until the epoch that seals
    /// them commits (two-phase egress, SNAPSHOTS §3.5).
    unreleased: Vec<EgressRecord>,
    /// Records released to their sinks and not yet confirmed written: still
    /// sealed into every snapshot, so a crash cannot lose them (rule 15).
    unconfirmed: Vec<EgressRecord>,
    /// Replies to durable asks, waiting for their epoch to commit.
    held_replies: Vec<effects::HeldReply>,
    /// The ingress splits this shard hosts (SNAPSHOTS §3.6 rule 18).
    ingress: Vec<SplitCursor>,
    /// Ingress items taken from the inbox and not yet admitted.
    admitted: Vec<Admitted>,
    /// Egress records handed to their sinks.
    egress_released: u64,
    received_from_shards: u64,
    messages_handled: u64,
    /// Messages delivered and sent, per function type.
    traffic: Traffic,
    dead_letters: u64,
    next_sweep: Instant,
    /// Wakes the idle shard for its next timer or sweep.
    alarm: Pin<Box<Sleep>>,
    /// When the shard last started a run of turns without going idle.
    busy_since: Option<Instant>,
    /// Whether the shard asked for an epoch to get under its bound and
    /// waits for a commit before it tries again.
    awaiting_commit_for_bound: bool,
    /// Where the shard stands in a move to another node.
    handoff: Handoff,
    /// Flow control on the channels to and from other shards.
    credit: Credit,
    /// Until when the shard waits for credit before its next turn.
    credit_hold: Option<Instant>,
}

impl Shard {
    pub(crate) fn new(
        id: ShardId,
        settings: ShardSettings,
        registry: Arc<Registry>,
        inbox: InboxReceiver,
        peers: Arc<[Outlet]>,
        egress: EgressHub,
        snapshots_out: Option<SnapshotSender>,
    ) -> Self {
        let own_inbox = peers[id.index()]
            .local()
            .expect("a shard runs on the node its own outlet is local to; this is a bug")
            .clone();
        let shard_count = crate::address::ShardCount::new(peers.len() as u32)
            .expect("a runtime has at least one shard");
        let now = Instant::now();
        Self {
            id,
            next_sweep: now + sweep_interval(settings.idle_timeout),
            alarm: Box::pin(sleep_until(now + sweep_interval(settings.idle_timeout))),
            busy_since: None,
            awaiting_commit_for_bound: false,
            handoff: Handoff::Steady,
            credit: Credit::new(
                peers.len(),
                settings.channel_window,
                settings.credit_patience,
            ),
            credit_hold: None,
            settings,
            inbox,
            actors: ActorTable::new(registry.clone(), snapshots_out.is_some()),
            traffic: Traffic::new(registry.function_types().len()),
            effects: Effects::new(id, shard_count, egress.names()),
            egress,
            registry,
            snapshot: SnapshotProcess::new(id, 0, vec![0; peers.len()]),
            open: None,
            chain: chain::ChainWeight::default(),
            snapshots_out,
            unreleased: Vec::new(),
            unconfirmed: Vec::new(),
            held_replies: Vec::new(),
            ingress: Vec::new(),
            admitted: Vec::new(),
            egress_released: 0,
            peers,
            own_inbox,
            received_from_shards: 0,
            messages_handled: 0,
            dead_letters: 0,
        }
    }

    /// Puts the shard back at a committed snapshot's cut (SNAPSHOTS §3.7
    /// rule 22): actor states (activated lazily), the queued messages, then
    /// each channel's in-flight messages, before any new traffic; timers
    /// re-armed (overdue ones fire at once); sequence numbers continuing
    /// from the cut.
    pub(crate) fn restore(
        &mut self,
        restore: ShardSnapshot,
    ) -> Result<(), crate::error::CodecError> {
        let ShardSnapshot {
            epoch,
            actors,
            mailbox,
            timers,
            sent,
            channels,
            egress,
            next_egress_seq,
            next_timer_id,
            ..
        } = restore;
        // The restored epoch is committed, so what it sealed is released
        // again: whatever the crash cut short is published, and idempotent
        // sinks drop what was already out (rule 15).
        let republished: Vec<EgressRecord> = egress
            .into_iter()
            .filter_map(|stored| match self.egress.index_of(&stored.egress) {
                Some(sink) => Some(EgressRecord {
                    sink,
                    key: stored.key,
                    record: stored.record,
                }),
                None => {
                    tracing::error!(
                        egress = stored.egress,
                        "sealed record for an egress this node lacks; dropped"
                    );
                    None
                }
            })
            .collect();
        if !republished.is_empty() {
            self.unconfirmed.extend(republished.iter().cloned());
            self.egress.publish(republished, Some(self.own_inbox()));
        }
        self.chain.restored();
        self.effects.next_egress_seq = next_egress_seq;
        self.effects.timers.continue_ids_from(next_timer_id);
        self.effects.egress_epoch = epoch + 1;
        for message in &mailbox {
            self.effects
                .local
                .push_back(message.decode(&self.registry)?);
        }
        let mut delivered = vec![0; self.peers.len()];
        for channel in &channels {
            delivered[channel.from.index()] = channel.cut_seq;
            for message in &channel.log {
                self.effects
                    .local
                    .push_back(message.decode(&self.registry)?);
            }
        }
        // What was queued and in flight at the cut came through each channel
        // up to its cut: its senders get credit for it once all of it is
        // handled (a move's senders may be waiting for it).
        for channel in channels.iter().filter(|channel| channel.cut_seq > 0) {
            self.note_accepted(channel.from, channel.cut_seq);
        }
        let now = Instant::now();
        let wall_now = unix_millis_now();
        for timer in timers {
            let envelope = timer.message.decode(&self.registry)?;
            let delay = Duration::from_millis(timer.deadline_unix_ms.saturating_sub(wall_now));
            self.effects.timers.restore(timer.id, now + delay, envelope);
        }
        self.actors.restore(actors);
        self.effects.restore_sent(&sent);
        self.credit.restored(&sent);
        self.snapshot = SnapshotProcess::new(self.id, epoch, delivered);
        Ok(())
    }

    /// The shard's id.
    pub(crate) fn id(&self) -> ShardId {
        self.id
    }

    /// This shard's inbox, where readers of the splits it hosts send.
    pub(crate) fn inbox(&self) -> InboxSender {
        self.own_inbox.clone()
    }

    /// Makes this shard the host of `cursors`' splits; their readers send
    /// records here by their index in `cursors`.
    pub(crate) fn host_splits(&mut self, cursors: Vec<SplitCursor>) {
        self.ingress = cursors;
    }

    /// Runs turns until shutdown or until every sender is gone.
    pub(crate) async fn run(mut self) {
        loop {
            let go_on = match self.credit_hold {
                Some(until) => self.wait_for_credit(until).await,
                None if self.effects.local.is_empty() => self.wait_for_work().await,
                None => true,
            };
            if !go_on {
                // What the shard had accepted when the stop reached it is
                // handled, even while it waited for credit.
                if !self.is_frozen() {
                    self.handle_queued();
                }
                break;
            }
            let mut stop = false;
            for _ in 0..INBOX_BUDGET {
                match self.inbox.try_recv() {
                    Ok(item) => stop |= !self.receive(item),
                    Err(_) => break,
                }
            }
            if self.is_frozen() {
                // A frozen shard sends nothing more: it only waits for its
                // inbox.
                self.credit_hold = None;
                if stop {
                    break;
                }
                continue;
            }
            let (effects, admitted) = (&self.effects, &self.admitted);
            self.credit_hold = self.credit.hold(
                |shard| effects.last_sent(shard),
                || has_work(effects, admitted),
            );
            if self.credit_hold.is_some() {
                // Before waiting, it grants what it has handled: shards
                // waiting for it may be what it waits for.
                self.grant_handled(true);
                if stop {
                    self.handle_queued();
                    break;
                }
                continue;
            }
            self.admit_ingress();
            self.effects.now = Instant::now();
            self.fire_timers();
            self.sweep_if_due();
            self.handle_turn();
            self.flush();
            self.grant_handled(false);
            self.enforce_bound();
            if stop {
                self.handle_queued();
                break;
            }
            if self.effects.local.is_empty() {
                self.busy_since = None;
            } else {
                self.yield_if_busy_too_long().await;
            }
        }
        if self.is_frozen() {
            self.depart();
        } else {
            self.shutdown();
        }
    }

    /// Lets the other shards of this worker run once this one has had work
    /// for [`MAX_BUSY`] without a break. Yielding after every turn instead
    /// costs a wake-up of the other worker each time (tokio notifies an idle
    /// worker on every yield), which measured ~10% of same-shard ping-pong.
    async fn yield_if_busy_too_long(&mut self) {
        let now = self.effects.now;
        match self.busy_since {
            None => self.busy_since = Some(now),
            Some(since) if now.duration_since(since) >= MAX_BUSY => {
                self.busy_since = None;
                tokio::task::yield_now().await;
            }
            Some(_) => {}
        }
    }

    /// Sleeps until an inbox item, a timer or a sweep is due. Returns `false`
    /// when the shard must stop.
    async fn wait_for_work(&mut self) -> bool {
        if self.is_frozen() {
            // Its timers fire on the new owner.
            return match self.inbox.recv().await {
                Some(item) => self.receive(item),
                None => false,
            };
        }
        let wake_at = match self.effects.timers.next_deadline() {
            Some(deadline) => deadline.min(self.next_sweep),
            None => self.next_sweep,
        };
        // Re-arming a timer costs a timer-wheel update, and a shard goes idle
        // after nearly every batch: keep one sleep and move it only when the
        // wake-up time changes.
        if self.alarm.deadline() != wake_at {
            self.alarm.as_mut().reset(wake_at);
        }
        tokio::select! {
            biased;
            item = self.inbox.recv() => match item {
                Some(item) => self.receive(item),
                None => false,
            },
            () = self.alarm.as_mut() => true,
        }
    }

    /// Sleeps until an inbox item comes (credit, among others) or `until`,
    /// when the shard's patience runs out. Returns `false` when the shard
    /// must stop.
    async fn wait_for_credit(&mut self, until: Instant) -> bool {
        tokio::select! {
            biased;
            item = self.inbox.recv() => match item {
                Some(item) => self.receive(item),
                None => false,
            },
            () = tokio::time::sleep_until(until) => true,
        }
    }

    /// Tells the shards whose messages this shard has handled, where
    /// credit is due; with `all`, of any progress at all.
    fn grant_handled(&mut self, all: bool) {
        let grants = self
            .credit
            .grants(self.messages_handled, all, self.effects.now);
        for (source, through_seq) in grants {
            self.peers[source.index()].grant(self.id, through_seq);
        }
    }

    /// Takes one inbox item. Returns `false` on shutdown.
    ///
    /// Items are taken between turns, when the outgoing batches are empty,
    /// so a snapshot recorded here sends its markers behind every message
    /// sent before it (rule 5).
    fn accept(&mut self, item: Inbound) -> bool {
        match item {
            Inbound::Frame { channel, bytes } => {
                let mut go_on = true;
                for item in self.decode(channel, &bytes) {
                    go_on &= self.accept(item);
                }
                return go_on;
            }
            Inbound::Batch(batch) => self.accept_batch(batch),
            Inbound::External(envelope) => self.effects.local.push_back(envelope),
            Inbound::Ingress {
                cursor,
                envelope,
                next_offset,
            } => self.admitted.push(Admitted::Record {
                cursor,
                envelope,
                next_offset,
            }),
            Inbound::IngressEnd { cursor } => self.admitted.push(Admitted::End { cursor }),
            Inbound::Marker {
                from,
                epoch,
                cut_seq,
            } => match self.snapshot.on_marker(from, epoch, cut_seq) {
                Ok(decision) => {
                    if let Some(epoch) = decision.snapshot_first {
                        self.record(epoch);
                    }
                    if decision.closes {
                        self.finish_snapshot_if_complete();
                    }
                }
                // A late marker of an epoch that was aborted and overtaken is
                // expected after a timeout; anything else is a bug.
                Err(error @ ProtocolError::StaleMarker { .. }) => {
                    tracing::debug!(shard = %self.id, %error, "late marker ignored")
                }
                Err(error) => {
                    count_protocol_error();
                    tracing::error!(shard = %self.id, %error, "snapshot protocol");
                }
            },
            Inbound::StartEpoch(epoch) => {
                if let Some(epoch) = self.snapshot.on_start(epoch) {
                    self.record(epoch);
                }
            }
            Inbound::Committed(epoch) => {
                self.actors.committed(epoch);
                self.release_egress(epoch);
                self.awaiting_commit_for_bound = false;
            }
            Inbound::Aborted(epoch) => {
                self.actors.aborted(epoch);
                self.chain.aborted(epoch);
                self.awaiting_commit_for_bound = false;
            }
            Inbound::Credit { from, through_seq } => self.credit.credit(from, through_seq),
            Inbound::EgressWritten { sink, through_seq } => self
                .unconfirmed
                .retain(|record| record.sink != sink || record.key.seq > through_seq),
            Inbound::Probe(reply) => {
                let _ = reply.send(self.stats());
            }
            Inbound::Inspect(inspection) => self.inspect(inspection),
            Inbound::Reroute(reroute) => self.prepare_reroute(reroute),
            Inbound::Shutdown => return false,
        }
        true
    }

    /// What a frame from another node holds, decoded; nothing if it does
    /// not decode or does not match its channel (the channel then has a
    /// gap, which its next batch reports).
    fn decode(&mut self, channel: crate::remote::RemoteChannel, bytes: &[u8]) -> Vec<Inbound> {
        match crate::remote::decode_frame(
            &self.registry,
            self.effects.shard_count(),
            channel,
            bytes,
        ) {
            Ok((shard, items)) if shard == self.id => items,
            Ok((shard, _)) => {
                tracing::error!(shard = %self.id, %channel, to = %shard, "frame for another shard refused");
                Vec::new()
            }
            Err(error) => {
                tracing::warn!(shard = %self.id, %channel, %error, "frame refused");
                Vec::new()
            }
        }
    }

    fn accept_batch(&mut self, batch: Batch) {
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
                if let Some(epoch) = decision.snapshot_first {
                    self.record(epoch);
                }
                if decision.log_count > 0 {
                    self.log_in_flight(from, &envelopes[..decision.log_count]);
                }
                self.received_from_shards += envelopes.len() as u64;
                let through_seq = first_seq + envelopes.len() as u64 - 1;
                self.effects.local.extend(envelopes);
                self.note_accepted(from, through_seq);
                if decision.closes {
                    self.finish_snapshot_if_complete();
                }
            }
            Err(error) => {
                // In-process channels are FIFO by construction: a gap or a
                // repeat means the channel itself is broken.
                // No credit on a broken channel: its sender runs on after
                // its patience.
                count_protocol_error();
                tracing::error!(shard = %self.id, %error, "channel broken; batch delivered anyway");
                self.received_from_shards += envelopes.len() as u64;
                self.effects.local.extend(envelopes);
            }
        }
    }

    /// Notes, for credit, that the messages from `from` through
    /// `through_seq` were just put at the end of the run queue.
    fn note_accepted(&mut self, from: ShardId, through_seq: u64) {
        let position = self.messages_handled + self.effects.local.len() as u64;
        self.credit.accepted(from, through_seq, position);
    }

    /// Records snapshot `epoch` (rule 5): the actors written since the last
    /// capture, the queued messages and the timers, then a marker on every
    /// outgoing channel.
    fn record(&mut self, epoch: Epoch) {
        let Some(_) = self.snapshots_out else {
            tracing::error!(shard = %self.id, epoch, "snapshot requested on a node without snapshots; this is a bug");
            return;
        };
        // Asks leaving with the shard at this cut are not part of it.
        let moving = self.take_moving_at_cut(epoch);
        let mut unencodable = 0;
        let mut encode = |envelope: &Envelope| match StoredMessage::encode(&self.registry, envelope)
        {
            Ok(message) => Some(message),
            Err(error) => {
                tracing::warn!(shard = %self.id, %error, "message left out of the snapshot");
                unencodable += 1;
                None
            }
        };
        let mailbox: Vec<_> = self.effects.local.iter().filter_map(&mut encode).collect();
        let now = Instant::now();
        let wall_now = unix_millis_now();
        let timers: Vec<_> = self
            .effects
            .timers
            .pending()
            .into_iter()
            .filter_map(|(deadline, id, envelope)| {
                let delay = deadline.saturating_duration_since(now).as_millis() as u64;
                encode(envelope).map(|message| StoredTimer {
                    id,
                    deadline_unix_ms: wall_now + delay,
                    message,
                })
            })
            .collect();
        let sent = self.effects.sent();
        let names = self.egress.names();
        let egress = self
            .unconfirmed
            .iter()
            .chain(&self.unreleased)
            .map(|record| StoredEgress {
                egress: names[record.sink].clone(),
                key: record.key,
                record: record.record.clone(),
            })
            .collect();
        self.effects.egress_epoch = epoch + 1;
        let full = self.chain.full_at(epoch);
        let part = ShardSnapshot {
            shard: self.id,
            epoch,
            full,
            actors: self.actors.capture(epoch, full),
            mailbox,
            timers,
            sent: sent.clone(),
            channels: Vec::new(),
            unencodable,
            egress,
            next_egress_seq: self.effects.next_egress_seq,
            next_timer_id: self.effects.timers.next_id(),
            ingress: self.ingress.iter().map(SplitCursor::stored).collect(),
        };
        self.open = Some(OpenSnapshot {
            part,
            logs: vec![Vec::new(); self.peers.len()],
        });
        // Markers go out on the routes before the cut (rule 25): local ones
        // at once, the others in the node's batch per destination node.
        let remote: Vec<_> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(destination, _)| *destination != self.id.index())
            .filter_map(|(destination, peer)| peer.marker(self.id, epoch, sent[destination]))
            .collect();
        self.settings.markers.recorded(self.id, epoch, &remote);
        self.reroute_at_cut(epoch, moving);
        self.finish_snapshot_if_complete();
    }

    /// Sends the admitted ingress records on to their actors, through this
    /// shard's channels like any message it sends, and moves their splits'
    /// offsets past them: the message and the offset that covers it fall on
    /// the same side of every cut.
    fn admit_ingress(&mut self) {
        for item in self.admitted.drain(..) {
            match item {
                Admitted::Record {
                    cursor,
                    envelope,
                    next_offset,
                } => {
                    if let Some(envelope) = envelope {
                        self.effects.route(envelope);
                    }
                    self.ingress[cursor].offset = Some(next_offset);
                }
                Admitted::End { cursor } => self.ingress[cursor].finished = true,
            }
        }
    }

    /// Appends pre-cut messages that arrived after the snapshot to their
    /// channel's log (rule 6); they are handled as usual too.
    fn log_in_flight(&mut self, from: ShardId, envelopes: &[Envelope]) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        for envelope in envelopes {
            match StoredMessage::encode(&self.registry, envelope) {
                Ok(message) => open.logs[from.index()].push(message),
                Err(error) => {
                    tracing::warn!(shard = %self.id, %error, "in-flight message left out of the snapshot");
                    open.part.unencodable += 1;
                }
            }
        }
    }

    /// Where sinks confirm this shard's records.
    fn own_inbox(&self) -> InboxSender {
        self.own_inbox.clone()
    }

    /// Publishes the records sealed by `epoch` and every epoch before it,
    /// and answers the durable asks waiting for them; a record of an aborted
    /// epoch was sealed again by the next one and goes out with it (rule 16).
    fn release_egress(&mut self, epoch: Epoch) {
        let (released, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.unreleased)
            .into_iter()
            .partition(|record| record.key.epoch <= epoch);
        self.unreleased = waiting;
        if !released.is_empty() {
            self.egress_released += released.len() as u64;
            self.unconfirmed.extend(released.iter().cloned());
            self.egress.publish(released, Some(self.own_inbox()));
        }
        let (answered, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held_replies)
            .into_iter()
            .partition(|held| held.epoch <= epoch);
        self.held_replies = waiting;
        for held in answered {
            let _ = held.caller.send(Ok(held.reply));
        }
    }

    /// Hands the snapshot to the coordinator once every incoming channel
    /// has closed (rule 8).
    fn finish_snapshot_if_complete(&mut self) {
        if self.snapshot.is_recording() {
            return;
        }
        let Some(OpenSnapshot { mut part, mut logs }) = self.open.take() else {
            return;
        };
        part.channels = self
            .snapshot
            .cuts()
            .into_iter()
            .map(|cut| {
                let log = std::mem::take(&mut logs[cut.from.index()]);
                StoredChannel::new(cut, log)
            })
            .collect();
        self.chain.add(&part);
        if let Some(out) = &self.snapshots_out {
            if out.send(part).is_err() {
                tracing::debug!(shard = %self.id, "coordinator gone; snapshot part dropped at shutdown");
            }
        }
    }

    /// Moves every due timer's message to its destination, which may be
    /// another shard: the timer lives with the actor that set it.
    fn fire_timers(&mut self) {
        for envelope in self.effects.timers.take_due(self.effects.now) {
            self.effects.route(envelope);
        }
    }

    fn sweep_if_due(&mut self) {
        if self.effects.now < self.next_sweep {
            return;
        }
        self.next_sweep = self.effects.now + sweep_interval(self.settings.idle_timeout);
        self.actors.tick = self.actors.tick.wrapping_add(1);
        let passivated = self
            .actors
            .passivate_idle(idle_ticks(self.settings.idle_timeout));
        if passivated > 0 {
            tracing::debug!(shard = %self.id, passivated, "passivated idle actors");
        }
    }

    /// Keeps the active actors within the shard's bound: passivates the
    /// least recently active clean ones, and if dirty actors remain over the
    /// bound, asks for an epoch sooner — once per commit — instead of
    /// dropping their state (SNAPSHOTS §3.10 rule 34).
    fn enforce_bound(&mut self) {
        let Some(max) = self.settings.max_active else {
            return;
        };
        if self.actors.active_len() <= max || self.awaiting_commit_for_bound {
            return;
        }
        let passivated = self.actors.passivate_down_to(max);
        if passivated > 0 {
            tracing::debug!(shard = %self.id, passivated, "passivated to stay within the bound");
        }
        if self.actors.active_len() > max {
            if let Some(pressure) = &self.settings.pressure {
                tracing::debug!(shard = %self.id, active = self.actors.active_len(), max, "dirty actors over the bound; asking for an epoch");
                pressure.notify_one();
                self.awaiting_commit_for_bound = true;
            }
        }
    }

    /// Handles up to `turn_budget` messages from the local run queue, fewer
    /// if their outgoing messages pass [`OUTBOX_LIMIT`].
    fn handle_turn(&mut self) {
        for _ in 0..self.settings.turn_budget {
            if self.effects.outgoing_len() >= OUTBOX_LIMIT {
                break;
            }
            let Some(envelope) = self.effects.local.pop_front() else {
                break;
            };
            self.deliver(envelope);
        }
    }

    /// Handles exactly the messages queued now (not the ones they cause,
    /// which could go on forever) and flushes what they sent: what a shard
    /// had accepted when the stop reached it is handled.
    fn handle_queued(&mut self) {
        for _ in 0..self.effects.local.len() {
            let Some(envelope) = self.effects.local.pop_front() else {
                break;
            };
            self.deliver(envelope);
        }
        self.flush();
    }

    /// Runs one message through its actor's handler.
    fn deliver(&mut self, envelope: Envelope) {
        let Envelope {
            to,
            from,
            payload,
            reply,
        } = envelope;
        self.messages_handled += 1;
        let tracks_writes = self.actors.tracks_writes();
        let slot = match self.actors.activate(&to) {
            Ok(slot) => slot,
            Err(error) => {
                let error = match error {
                    ActivationError::UnknownFunctionType(error) => error,
                    ActivationError::Restore(error) => {
                        tracing::error!(actor = %to, %error, "cannot restore passivated state; message dropped, state kept");
                        Error::Codec(error)
                    }
                };
                self.dead_letter(reply, error);
                return;
            }
        };
        let function = slot.function;
        let mut ctx = Context::new(&to, from.as_ref(), reply, &mut self.effects);
        // Timing every handler would cost two clock reads per message: time
        // one in LATENCY_SAMPLE_EVERY.
        let sampled = self.messages_handled.is_multiple_of(LATENCY_SAMPLE_EVERY);
        let started = sampled.then(std::time::Instant::now);
        let outcome = catch_unwind(AssertUnwindSafe(|| slot.state.handle(&mut ctx, payload)));
        if let Some(started) = started {
            metrics::histogram!(HANDLER_DURATION, "function" => to.function().name())
                .record(started.elapsed().as_secs_f64());
        }
        let (unanswered, sent) = ctx.finish();
        // A message the actor does not take is a dead letter, not a delivery.
        if !matches!(outcome, Ok(Err(_))) {
            self.traffic.handled(function, sent);
        }
        // A `&mut self` handler, or one that panicked midway, may have
        // changed the state.
        let wrote = !matches!(outcome, Ok(Ok(Access::Read)) | Ok(Err(_)));
        if wrote && tracks_writes && slot.note_write() {
            self.actors.push_dirty(to.clone());
        }
        match outcome {
            Ok(Ok(_access)) => {
                if let Some(reply) = unanswered {
                    reply.answer(Err(AskError::NoReply { address: to }));
                }
            }
            Ok(Err(payload)) => {
                let error = Error::UnknownMessage {
                    function: to.function().name().to_owned(),
                    message: payload.type_name().to_owned(),
                };
                tracing::warn!(actor = %to, %error, "message dropped");
                self.dead_letter(unanswered, error);
            }
            Err(panic) => {
                let message = panic_message(&panic);
                tracing::error!(actor = %to, %message, "handler panicked; the actor keeps its state as the handler left it");
                if let Some(reply) = unanswered {
                    reply.answer(Err(AskError::HandlerPanicked {
                        address: to,
                        message,
                    }));
                }
            }
        }
    }

    fn dead_letter(&mut self, reply: Option<ReplyTo>, error: Error) {
        self.dead_letters += 1;
        match reply {
            Some(reply) if reply.has_caller() => reply.answer(Err(AskError::Send(error))),
            _ => tracing::warn!(shard = %self.id, %error, "dead letter"),
        }
    }

    /// Sends the turn's batches to their shards and its egress records to
    /// their sinks.
    fn flush(&mut self) {
        let color = self.snapshot.color();
        for (destination, batch) in self.effects.take_batches(color) {
            let last_seq = batch.first_seq + batch.envelopes.len() as u64 - 1;
            self.credit.sent(destination, last_seq);
            if !self.peers[destination.index()].send_batch(batch) {
                tracing::debug!(shard = %self.id, %destination, "destination shard stopped; batch dropped at shutdown");
            }
        }
        self.held_replies.append(&mut self.effects.held_replies);
        if !self.effects.egress.is_empty() {
            let records = std::mem::take(&mut self.effects.egress);
            if self.snapshots_out.is_some() {
                self.unreleased.extend(records);
            } else {
                self.egress_released += records.len() as u64;
                self.egress.publish(records, None);
            }
        }
    }

    fn stats(&self) -> ShardStats {
        ShardStats {
            shard: self.id.0,
            active_actors: self.actors.active_len(),
            passivated_actors: self.actors.passivated_len(),
            queued_messages: self.effects.local.len() + self.admitted.len(),
            pending_timers: self.effects.timers.len(),
            messages_handled: self.messages_handled,
            functions: self
                .traffic
                .report(self.registry.function_types(), |index| {
                    self.actors.lifecycle(index)
                }),
            messages_sent_to_shards: self.effects.sent_to_shards(),
            messages_received_from_shards: self.received_from_shards,
            dead_letters: self.dead_letters,
            activations: self.actors.activations,
            passivations: self.actors.passivations,
            egress_pending: self.unreleased.len(),
            egress_released: self.egress_released,
            epoch: self.snapshot.color(),
            ingress_splits_open: self.ingress.iter().filter(|split| !split.finished).count(),
            credit_waits: self.credit.waits,
            credit_overdrafts: self.credit.overdrafts,
        }
    }

    /// Answers every waiting ask with `ShuttingDown`.
    fn shutdown(&mut self) {
        while let Ok(item) = self.inbox.try_recv() {
            match item {
                Inbound::Batch(batch) => self.effects.local.extend(batch.envelopes),
                Inbound::Frame { .. } => {}
                Inbound::External(envelope) => self.effects.local.push_back(envelope),
                Inbound::Probe(reply) => {
                    let _ = reply.send(self.stats());
                }
                Inbound::Inspect(inspection) => self.inspect(inspection),
                // A commit that reached the shard before it stopped still
                // releases its egress and answers its durable asks.
                Inbound::Committed(epoch) => {
                    self.actors.committed(epoch);
                    self.release_egress(epoch);
                }
                // Records not yet admitted are read again after a restart;
                // dropping them returns their credit.
                Inbound::Ingress { .. }
                | Inbound::IngressEnd { .. }
                | Inbound::Marker { .. }
                | Inbound::StartEpoch(_)
                | Inbound::Aborted(_)
                | Inbound::EgressWritten { .. }
                | Inbound::Credit { .. }
                | Inbound::Reroute(_)
                | Inbound::Shutdown => {}
            }
        }
        for envelope in self.effects.local.drain(..) {
            if let Some(reply) = envelope.reply {
                reply.answer(Err(AskError::Send(Error::ShuttingDown)));
            }
        }
    }
}

/// Whether a turn would do anything: queued messages, admitted ingress
/// records or a timer due.
fn has_work(effects: &Effects, admitted: &[Admitted]) -> bool {
    !effects.local.is_empty()
        || !admitted.is_empty()
        || effects
            .timers
            .next_deadline()
            .is_some_and(|deadline| deadline <= Instant::now())
}

/// How many sweeps make an idle timeout.
fn idle_ticks(idle_timeout: Duration) -> u32 {
    let interval = sweep_interval(idle_timeout);
    u32::try_from(idle_timeout.as_nanos().div_ceil(interval.as_nanos()))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// How often a shard sweeps for idle actors: four times per idle timeout,
/// and at least once a second. The cap also keeps an idle shard's alarm
/// ahead of any `ask` timeout: registering a timer earlier than every other
/// makes tokio unpark a worker, which measured +500 ns per ask here
/// (docs/design.md, "Asks").
fn sweep_interval(idle_timeout: Duration) -> Duration {
    (idle_timeout / SWEEPS_PER_IDLE_TIMEOUT).clamp(Duration::from_millis(1), MAX_SWEEP_INTERVAL)
}

/// Wall-clock milliseconds since the Unix epoch: timers are stored with
/// absolute deadlines so that they survive a restart.
fn unix_millis_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_happen_at_least_four_times_per_timeout_and_once_a_second() {
        assert_eq!(
            sweep_interval(Duration::from_millis(40)),
            Duration::from_millis(10)
        );
        assert_eq!(idle_ticks(Duration::from_millis(40)), 4);
        assert_eq!(
            sweep_interval(Duration::from_secs(300)),
            Duration::from_secs(1)
        );
        assert_eq!(idle_ticks(Duration::from_secs(300)), 300);
        assert_eq!(idle_ticks(Duration::from_nanos(1)), 1);
    }
}
