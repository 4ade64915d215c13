//! One shard as a Chandy–Lamport process: when to record, which incoming
//! messages belong to the snapshot, and when the snapshot is complete.
//!
//! Sans-IO: the shard feeds it what arrives (epoch starts, batches, markers)
//! and it answers with decisions; it never touches a message or a socket.
//! Rule numbers are those of `SNAPSHOTS.md` §3.2.

use crate::address::ShardId;

/// A snapshot epoch. Epoch 0 is "before any snapshot".
pub type Epoch = u64;

/// What the shard must do with an arriving batch, in this order.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct BatchDecision {
    /// Record snapshot `epoch` *before* delivering the batch (rule 4: a
    /// message coloured with a newer epoch than ours is an implicit marker).
    pub(crate) snapshot_first: Option<Epoch>,
    /// How many of the batch's envelopes, from its start, belong to the
    /// snapshot's channel state and must be logged (rule 6). The rest arrive
    /// after the channel closed.
    pub(crate) log_count: usize,
    /// The channel closed with this batch (rule 7, second case).
    pub(crate) closes: bool,
}

/// What the shard must do with an arriving marker.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MarkerDecision {
    /// Record snapshot `epoch` now (rule 4: the first marker for it).
    pub(crate) snapshot_first: Option<Epoch>,
    /// The channel closed (rule 7, first case).
    pub(crate) closes: bool,
}

/// A channel's part of a finished snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChannelCut {
    /// The source shard.
    pub(crate) from: ShardId,
    /// The last sequence number delivered when this shard recorded.
    pub(crate) delivered_at_snapshot: u64,
    /// The sender's last sequence number before its own snapshot.
    pub(crate) cut_seq: u64,
}

/// The protocol was violated: a bug, or a broken channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProtocolError {
    /// A batch did not continue its channel's sequence.
    #[error("channel {from}→{to}: expected sequence {expected}, got {got}; this is a bug")]
    SequenceGap {
        from: ShardId,
        to: ShardId,
        expected: u64,
        got: u64,
    },
    /// A marker's cut does not match what the channel delivered (rule 7's
    /// assertion `|log(c,E)| == cut_seq - delivered_at_snapshot`).
    #[error("channel {from}→{to}, epoch {epoch}: marker cut {cut_seq} but {delivered} delivered; this is a bug")]
    CutMismatch {
        from: ShardId,
        to: ShardId,
        epoch: Epoch,
        cut_seq: u64,
        delivered: u64,
    },
    /// A marker for an epoch older than the open one.
    #[error("channel {from}→{to}: marker for epoch {got} while at epoch {current}; this is a bug")]
    StaleMarker {
        from: ShardId,
        to: ShardId,
        got: Epoch,
        current: Epoch,
    },
}

/// The recording state of one incoming channel.
#[derive(Debug, Clone, Default)]
struct Incoming {
    /// The last sequence number delivered on the channel.
    delivered: u64,
    /// Whether the channel is still recording for the open snapshot.
    recording: bool,
    delivered_at_snapshot: u64,
    /// Messages logged since the snapshot.
    logged: u64,
    /// Set when the channel closed by its marker.
    cut_seq: Option<u64>,
    /// The cut of a marker that overtook the channel's last pre-cut
    /// messages: the channel closes once it has delivered up to it.
    awaited: Option<u64>,
}

/// The C-L state of one shard.
#[derive(Debug)]
pub(crate) struct SnapshotProcess {
    me: ShardId,
    /// `e_t`: the last epoch this shard recorded. Its outgoing messages
    /// carry this as their colour.
    epoch: Epoch,
    incoming: Vec<Incoming>,
    /// Incoming channels still recording for `epoch`.
    open_channels: usize,
}

impl SnapshotProcess {
    /// A process for shard `me` of `shard_count`, after epoch `epoch` (0 for
    /// a fresh start), whose incoming channels have delivered `delivered[c]`.
    pub(crate) fn new(me: ShardId, epoch: Epoch, delivered: Vec<u64>) -> Self {
        Self {
            me,
            epoch,
            incoming: delivered
                .into_iter()
                .map(|delivered| Incoming {
                    delivered,
                    ..Incoming::default()
                })
                .collect(),
            open_channels: 0,
        }
    }

    /// The epoch this shard last recorded: the colour of what it sends now.
    pub(crate) fn color(&self) -> Epoch {
        self.epoch
    }

    /// Whether a snapshot is recorded but some channel is still open.
    pub(crate) fn is_recording(&self) -> bool {
        self.open_channels > 0
    }

    /// The coordinator starts `epoch` (rule 4). Returns it if this shard
    /// must record now; an epoch already recorded (its marker came first)
    /// needs nothing.
    pub(crate) fn on_start(&mut self, epoch: Epoch) -> Option<Epoch> {
        (epoch > self.epoch).then(|| self.record(epoch))
    }

    /// A batch of `len` messages arrives on `from`, starting at `first_seq`,
    /// coloured `color` by its sender.
    pub(crate) fn on_batch(
        &mut self,
        from: ShardId,
        first_seq: u64,
        len: usize,
        color: Epoch,
    ) -> Result<BatchDecision, ProtocolError> {
        let channel = &self.incoming[from.index()];
        if first_seq != channel.delivered + 1 {
            return Err(ProtocolError::SequenceGap {
                from,
                to: self.me,
                expected: channel.delivered + 1,
                got: first_seq,
            });
        }
        let last = first_seq + len as u64 - 1;
        if let Some(cut_seq) = channel
            .awaited
            .filter(|cut| last > *cut && color < self.epoch)
        {
            // A pre-cut message past the marker's cut: the two disagree.
            return Err(ProtocolError::CutMismatch {
                from,
                to: self.me,
                epoch: self.epoch,
                cut_seq,
                delivered: last,
            });
        }
        let mut decision = BatchDecision::default();
        if color > self.epoch {
            // The sender recorded `color` before sending this: we must record
            // before taking it in, and this channel's state is empty (the
            // batch is post-cut for the sender).
            decision.snapshot_first = Some(self.record(color));
        }
        let channel = &mut self.incoming[from.index()];
        channel.delivered = last;
        if channel.recording {
            if color >= self.epoch {
                // Rule 7, second case: a post-cut message closes the channel
                // (and makes a marker still waiting for it moot).
                channel.recording = false;
                channel.awaited = None;
                self.open_channels -= 1;
                decision.closes = true;
            } else {
                // Rule 6: pre-cut message delivered after our snapshot.
                decision.log_count = len;
                channel.logged += len as u64;
                // Rule 7, first case: the marker that came early closes the
                // channel once its cut is delivered.
                if channel.awaited == Some(channel.delivered) {
                    channel.awaited = None;
                    channel.cut_seq = Some(channel.delivered);
                    channel.recording = false;
                    self.open_channels -= 1;
                    decision.closes = true;
                }
            }
        }
        Ok(decision)
    }

    /// A marker for `epoch` arrives on `from`, saying the sender's last
    /// pre-snapshot sequence number was `cut_seq`.
    ///
    /// A marker need not come behind its channel's messages: markers
    /// between nodes travel in a batch of their own (SNAPSHOTS §4,
    /// "Reconnects"). One that overtook pre-cut messages waits for them
    /// and closes the channel once `delivered == cut_seq` (rule 7); one
    /// that comes after a post-cut message closed the channel has nothing
    /// left to do.
    pub(crate) fn on_marker(
        &mut self,
        from: ShardId,
        epoch: Epoch,
        cut_seq: u64,
    ) -> Result<MarkerDecision, ProtocolError> {
        if epoch < self.epoch {
            return Err(ProtocolError::StaleMarker {
                from,
                to: self.me,
                got: epoch,
                current: self.epoch,
            });
        }
        let channel = &self.incoming[from.index()];
        let closed = epoch == self.epoch && !channel.recording;
        // Past the cut, the sender's messages carry `epoch` and would have
        // closed the channel (or recorded the epoch) already.
        if (channel.delivered > cut_seq && !closed) || (channel.delivered < cut_seq && closed) {
            return Err(ProtocolError::CutMismatch {
                from,
                to: self.me,
                epoch,
                cut_seq,
                delivered: channel.delivered,
            });
        }
        let mut decision = MarkerDecision::default();
        if closed {
            return Ok(decision);
        }
        if epoch > self.epoch {
            decision.snapshot_first = Some(self.record(epoch));
        }
        let channel = &mut self.incoming[from.index()];
        if !channel.recording {
            // The shard's own channel: nothing to close.
            return Ok(decision);
        }
        if channel.delivered < cut_seq {
            channel.awaited = Some(cut_seq);
            return Ok(decision);
        }
        channel.cut_seq = Some(cut_seq);
        channel.recording = false;
        self.open_channels -= 1;
        decision.closes = true;
        Ok(decision)
    }

    /// Takes snapshot `epoch` (rule 5): every incoming channel starts
    /// recording. The channel whose marker or post-cut message triggered the
    /// snapshot is closed by that same marker or message right after, with
    /// an empty log, as C-L requires.
    fn record(&mut self, epoch: Epoch) -> Epoch {
        self.epoch = epoch;
        self.open_channels = 0;
        for (index, channel) in self.incoming.iter_mut().enumerate() {
            channel.delivered_at_snapshot = channel.delivered;
            channel.logged = 0;
            channel.cut_seq = None;
            channel.awaited = None;
            channel.recording = index != self.me.index();
            if channel.recording {
                self.open_channels += 1;
            }
        }
        epoch
    }

    /// Each incoming channel's cut, once the snapshot is complete (rule 8).
    /// A channel closed by a post-cut message rather than its marker (only
    /// on a transport that can overtake markers) reports the cut its log
    /// implies.
    pub(crate) fn cuts(&self) -> Vec<ChannelCut> {
        self.incoming
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != self.me.index())
            .map(|(index, channel)| ChannelCut {
                from: ShardId(index as u32),
                delivered_at_snapshot: channel.delivered_at_snapshot,
                cut_seq: channel
                    .cut_seq
                    .unwrap_or(channel.delivered_at_snapshot + channel.logged),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process() -> SnapshotProcess {
        SnapshotProcess::new(ShardId(0), 0, vec![0; 3])
    }

    #[test]
    fn a_start_records_and_markers_close_each_channel() {
        let mut p = process();
        assert_eq!(p.on_start(1), Some(1));
        assert_eq!(p.on_start(1), None, "an epoch is recorded once");
        assert!(p.is_recording());
        let logged = p.on_batch(ShardId(1), 1, 3, 0).unwrap();
        assert_eq!(
            logged.log_count, 3,
            "pre-cut messages after our snapshot are logged"
        );
        assert!(p.on_marker(ShardId(1), 1, 3).unwrap().closes);
        assert!(p.is_recording(), "shard 2 is still open");
        assert!(p.on_marker(ShardId(2), 1, 0).unwrap().closes);
        assert!(!p.is_recording());
        assert_eq!(
            p.cuts(),
            vec![
                ChannelCut {
                    from: ShardId(1),
                    delivered_at_snapshot: 0,
                    cut_seq: 3
                },
                ChannelCut {
                    from: ShardId(2),
                    delivered_at_snapshot: 0,
                    cut_seq: 0
                },
            ]
        );
    }

    #[test]
    fn a_newer_colour_is_an_implicit_marker() {
        let mut p = process();
        let decision = p.on_batch(ShardId(2), 1, 2, 1).unwrap();
        assert_eq!(decision.snapshot_first, Some(1));
        assert_eq!(
            decision.log_count, 0,
            "post-cut messages are not channel state"
        );
        assert!(decision.closes);
        assert_eq!(p.color(), 1);
    }

    #[test]
    fn a_channel_closed_by_a_post_cut_batch_reports_the_cut_its_log_implies() {
        let mut p = process();
        p.on_start(1);
        assert_eq!(p.on_batch(ShardId(1), 1, 2, 0).unwrap().log_count, 2);
        assert!(p.on_batch(ShardId(1), 3, 1, 1).unwrap().closes);
        let cut = p.cuts().into_iter().find(|c| c.from == ShardId(1)).unwrap();
        assert_eq!((cut.delivered_at_snapshot, cut.cut_seq), (0, 2));
    }

    #[test]
    fn a_marker_ahead_of_its_channel_waits_for_the_cut() {
        let mut p = process();
        p.on_batch(ShardId(1), 1, 1, 0).unwrap();
        let early = p.on_marker(ShardId(1), 1, 4).unwrap();
        assert_eq!(
            early,
            MarkerDecision {
                snapshot_first: Some(1),
                closes: false,
            },
            "the marker records but the channel is still short"
        );
        let short = p.on_batch(ShardId(1), 2, 2, 0).unwrap();
        assert_eq!((short.log_count, short.closes), (2, false));
        let last = p.on_batch(ShardId(1), 4, 1, 0).unwrap();
        assert_eq!(
            (last.log_count, last.closes),
            (1, true),
            "the last pre-cut message is logged and closes the channel"
        );
        let cut = p.cuts().into_iter().find(|c| c.from == ShardId(1)).unwrap();
        assert_eq!((cut.delivered_at_snapshot, cut.cut_seq), (1, 4));
    }

    #[test]
    fn a_marker_after_a_post_cut_colour_is_moot() {
        let mut p = process();
        p.on_start(1);
        assert_eq!(p.on_batch(ShardId(1), 1, 2, 0).unwrap().log_count, 2);
        assert!(p.on_batch(ShardId(1), 3, 1, 1).unwrap().closes);
        assert_eq!(
            p.on_marker(ShardId(1), 1, 2),
            Ok(MarkerDecision::default()),
            "the channel closed on the colour; its marker changes nothing"
        );
        assert!(p.is_recording(), "shard 2 is still open");
        assert!(p.on_marker(ShardId(2), 1, 0).unwrap().closes);
        assert!(!p.is_recording());
        let cut = p.cuts().into_iter().find(|c| c.from == ShardId(1)).unwrap();
        assert_eq!(cut.cut_seq, 2, "the cut the log implies");
    }

    #[test]
    fn broken_channels_are_reported() {
        let mut p = process();
        assert!(matches!(
            p.on_batch(ShardId(1), 2, 1, 0),
            Err(ProtocolError::SequenceGap {
                expected: 1,
                got: 2,
                ..
            })
        ));
        p.on_batch(ShardId(1), 1, 3, 0).unwrap();
        p.on_start(1);
        assert!(
            matches!(
                p.on_marker(ShardId(1), 1, 2),
                Err(ProtocolError::CutMismatch {
                    cut_seq: 2,
                    delivered: 3,
                    ..
                })
            ),
            "pre-cut messages past the marker's cut"
        );
        assert!(p.on_marker(ShardId(2), 1, 4).unwrap() == MarkerDecision::default());
        assert!(
            matches!(
                p.on_batch(ShardId(2), 1, 5, 0),
                Err(ProtocolError::CutMismatch {
                    cut_seq: 4,
                    delivered: 5,
                    ..
                })
            ),
            "a pre-cut batch past the awaited cut"
        );
        p.on_start(2);
        assert!(matches!(
            p.on_marker(ShardId(2), 1, 0),
            Err(ProtocolError::StaleMarker {
                got: 1,
                current: 2,
                ..
            })
        ));
    }
}
