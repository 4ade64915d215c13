//! Credit-based flow control on the channels between shards (SNAPSHOTS
//! §3.1 rule 3): a shard stops running turns while it has `window` or more
//! messages on some outgoing channel that the receiving shard has not yet
//! handled, so a fast sender cannot pile up an unbounded queue in front of
//! a slow receiver.
//!
//! Credit is counted in sequence numbers, as cumulative grants: the
//! receiving shard reports "handled through `seq`" on each channel, the
//! sender keeps the highest report. A lost, repeated or late grant does no
//! harm, and a grant from a shard's new owner after a move continues the
//! same count. A restored or arriving shard *assumes* every channel handled
//! through what it had sent (grants of its earlier life may never come):
//! a window more than the bound, once.
//!
//! **Cycles.** Shards that message each other can each hold a full window
//! of the other's messages while both wait: no turn runs, no credit comes.
//! A shard with work that has waited `patience` without a grant on a full
//! channel assumes its full channels handled and runs again (an
//! *overdraft*). The same rule bounds what a lost grant or a dead receiver
//! can hold up. What is assumed is kept apart from what was reported, so
//! a receiver still working through its backlog keeps its sender waiting
//! with every grant, however far below the assumption: after an overdraft
//! the bound is two windows, not more, for every receiver that handles at
//! least one message of the channel per [`GRANT_SWEEP`] and per
//! `patience`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::address::ShardId;

/// How often, at the least, a receiving shard reports what it has handled
/// on a channel, however little: a slow receiver still shows progress, so
/// its senders do not overdraw.
pub(crate) const GRANT_SWEEP: Duration = Duration::from_millis(100);

/// Messages accepted from one channel, handled once the shard has handled
/// `position` messages in all.
#[derive(Debug)]
struct Accepted {
    from: ShardId,
    through_seq: u64,
    position: u64,
}

/// One shard's credit: what it owes the shards that send to it, and what
/// it may still send to each shard.
#[derive(Debug)]
pub(crate) struct Credit {
    window: u64,
    grant_every: u64,
    patience: Duration,
    /// Batches accepted and not yet handled, in queue order.
    accepted: VecDeque<Accepted>,
    /// Per source shard: the last sequence number handled.
    handled: Vec<u64>,
    /// Per source shard: the last sequence number reported to it.
    granted: Vec<u64>,
    /// Sources with `handled > granted`.
    owing: Vec<ShardId>,
    next_sweep: Instant,
    /// Per destination shard: the last sequence number it reported handled.
    credited: Vec<u64>,
    /// Per destination shard: the last sequence number counted as handled
    /// without a report, after an overdraft or a restore.
    assumed: Vec<u64>,
    /// Destinations that had a full window after the last flush.
    blocked: Vec<ShardId>,
    /// Since when the shard has waited without receiving any credit.
    waiting_since: Option<Instant>,
    /// Times the shard stopped for credit, and overdrew.
    pub(crate) waits: u64,
    pub(crate) overdrafts: u64,
}

impl Credit {
    /// The credit of a shard among `shard_count`, allowed `window` messages
    /// in flight per outgoing channel, waiting at most `patience`.
    pub(crate) fn new(shard_count: usize, window: u64, patience: Duration) -> Self {
        Self {
            window,
            grant_every: (window / 4).max(1),
            patience,
            accepted: VecDeque::new(),
            handled: vec![0; shard_count],
            granted: vec![0; shard_count],
            owing: Vec::new(),
            next_sweep: Instant::now() + GRANT_SWEEP,
            credited: vec![0; shard_count],
            assumed: vec![0; shard_count],
            blocked: Vec::new(),
            waiting_since: None,
            waits: 0,
            overdrafts: 0,
        }
    }

    /// Notes a batch from `from` whose last message is `through_seq`, put
    /// in the queue so that it is handled once `position` messages have
    /// been handled in all.
    pub(crate) fn accepted(&mut self, from: ShardId, through_seq: u64, position: u64) {
        self.accepted.push_back(Accepted {
            from,
            through_seq,
            position,
        });
    }

    /// The grants due now that `handled_total` messages have been handled:
    /// (source shard, handled through). A source is told once every
    /// quarter window, and of any progress at all once [`GRANT_SWEEP`] has
    /// passed or when `all` (the shard is about to wait itself). A sender
    /// with a full window is always owed a quarter window or more, so it
    /// is never left waiting by a receiver that has handled its messages.
    pub(crate) fn grants(
        &mut self,
        handled_total: u64,
        all: bool,
        now: Instant,
    ) -> Vec<(ShardId, u64)> {
        while let Some(front) = self.accepted.front() {
            if front.position > handled_total {
                break;
            }
            let source = front.from.index();
            if self.handled[source] == self.granted[source] {
                self.owing.push(front.from);
            }
            self.handled[source] = self.handled[source].max(front.through_seq);
            self.accepted.pop_front();
        }
        if self.owing.is_empty() {
            return Vec::new();
        }
        let sweep = all || now >= self.next_sweep;
        if sweep {
            self.next_sweep = now + GRANT_SWEEP;
        }
        let mut grants = Vec::new();
        self.owing.retain(|source| {
            let (handled, granted) = (self.handled[source.index()], self.granted[source.index()]);
            if handled <= granted {
                return false;
            }
            if sweep || handled - granted >= self.grant_every {
                self.granted[source.index()] = handled;
                grants.push((*source, handled));
                return false;
            }
            true
        });
        grants
    }

    /// `destination` has handled every message through `through_seq` of
    /// this shard's channel to it.
    pub(crate) fn credit(&mut self, destination: ShardId, through_seq: u64) {
        let credited = &mut self.credited[destination.index()];
        if through_seq > *credited {
            *credited = through_seq;
            // Progress on a full channel: the patience starts over.
            if self.blocked.contains(&destination) {
                if let Some(since) = self.waiting_since.as_mut() {
                    *since = Instant::now();
                }
            }
        }
    }

    /// Messages sent through `last_seq` to `destination` and neither
    /// reported nor assumed handled.
    fn in_flight(&self, destination: ShardId, last_seq: u64) -> u64 {
        let index = destination.index();
        last_seq.saturating_sub(self.credited[index].max(self.assumed[index]))
    }

    /// Notes that this shard has now sent through `last_seq` on its channel
    /// to `destination`. Called before the batch leaves, so no grant can
    /// be for more: a higher one (of another life of the channel) is
    /// brought down to it.
    pub(crate) fn sent(&mut self, destination: ShardId, last_seq: u64) {
        let credited = &mut self.credited[destination.index()];
        *credited = (*credited).min(last_seq);
        if self.in_flight(destination, last_seq) >= self.window
            && !self.blocked.contains(&destination)
        {
            self.blocked.push(destination);
        }
    }

    /// Whether the shard must wait before its next turn, given the last
    /// sequence number sent on each channel and whether it has work:
    /// `Some(until)` while a channel has a full window, the wait ending at
    /// `until` at the latest. A shard without work does not wait (nor
    /// spend its patience). Once the shard has waited `patience` without
    /// a grant on a full channel, it assumes its full channels handled and
    /// runs on.
    pub(crate) fn hold(
        &mut self,
        sent: impl Fn(ShardId) -> u64,
        has_work: impl FnOnce() -> bool,
    ) -> Option<Instant> {
        if self.blocked.is_empty() {
            return None;
        }
        let mut blocked = std::mem::take(&mut self.blocked);
        blocked
            .retain(|destination| self.in_flight(*destination, sent(*destination)) >= self.window);
        self.blocked = blocked;
        if self.blocked.is_empty() || !has_work() {
            self.waiting_since = None;
            return None;
        }
        let now = Instant::now();
        let since = *self.waiting_since.get_or_insert_with(|| {
            self.waits += 1;
            now
        });
        if now.duration_since(since) < self.patience {
            return Some(since + self.patience);
        }
        self.overdrafts += 1;
        tracing::debug!(
            blocked = self.blocked.len(),
            "no credit for the whole patience; running on"
        );
        for destination in self.blocked.drain(..) {
            self.assumed[destination.index()] = sent(destination);
        }
        self.waiting_since = None;
        None
    }

    /// Assumes every outgoing channel handled through `sent`: after a
    /// restore or a move, grants of the shard's earlier life may never
    /// come.
    pub(crate) fn restored(&mut self, sent: &[u64]) {
        for (assumed, sent) in self.assumed.iter_mut().zip(sent) {
            *assumed = *sent;
        }
        self.blocked.clear();
        self.waiting_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: u32) -> ShardId {
        ShardId(index)
    }

    #[tokio::test(start_paused = true)]
    async fn a_sender_waits_at_a_full_window_until_credit_comes() {
        let mut credit = Credit::new(4, 100, Duration::from_secs(1));
        credit.sent(shard(1), 99);
        assert_eq!(
            credit.hold(|_| 99, || true),
            None,
            "99 in flight is under the window"
        );
        credit.sent(shard(1), 150);
        let until = credit
            .hold(|_| 150, || true)
            .expect("150 in flight is a full window");
        assert_eq!(until, Instant::now() + Duration::from_secs(1));
        credit.credit(shard(1), 50);
        assert!(
            credit.hold(|_| 150, || true).is_some(),
            "100 in flight is still full"
        );
        credit.credit(shard(1), 51);
        assert_eq!(credit.hold(|_| 150, || true), None, "99 in flight");
        assert_eq!((credit.waits, credit.overdrafts), (1, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_sender_without_work_does_not_wait() {
        let patience = Duration::from_millis(200);
        let mut credit = Credit::new(4, 10, patience);
        credit.sent(shard(1), 10);
        tokio::time::advance(patience * 2).await;
        assert_eq!(credit.hold(|_| 10, || false), None);
        let until = credit.hold(|_| 10, || true).expect("full, with work");
        assert_eq!(
            until,
            Instant::now() + patience,
            "the patience starts with the work"
        );
        assert_eq!(credit.overdrafts, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_sender_overdraws_after_its_patience_without_credit() {
        let patience = Duration::from_millis(200);
        let mut credit = Credit::new(4, 10, patience);
        credit.sent(shard(2), 10);
        let until = credit.hold(|_| 10, || true).expect("full");
        tokio::time::advance(patience / 2).await;
        assert_eq!(
            credit.hold(|_| 10, || true),
            Some(until),
            "the wait keeps its start"
        );
        tokio::time::advance(patience / 2).await;
        assert_eq!(credit.hold(|_| 10, || true), None, "patience spent: run on");
        assert_eq!(credit.overdrafts, 1);
        // The overdrawn channel is assumed handled through 10: ten more
        // fill it again.
        credit.sent(shard(2), 19);
        assert_eq!(credit.hold(|_| 19, || true), None);
        credit.sent(shard(2), 20);
        assert!(credit.hold(|_| 20, || true).is_some());
    }

    /// After an overdraft, a receiver still working through its backlog
    /// reports less than the sender assumed: each such grant is progress
    /// all the same, so the sender waits for it and does not overdraw
    /// again; it runs once the receiver is past the assumption.
    #[tokio::test(start_paused = true)]
    async fn grants_below_an_overdraft_keep_the_sender_waiting() {
        let patience = Duration::from_millis(200);
        let mut credit = Credit::new(4, 10, patience);
        credit.sent(shard(1), 10);
        credit.hold(|_| 10, || true).expect("full");
        tokio::time::advance(patience).await;
        assert_eq!(credit.hold(|_| 10, || true), None, "overdraft");
        credit.sent(shard(1), 20);
        for handled in 1..=9 {
            credit
                .hold(|_| 20, || true)
                .expect("a window past the assumption");
            tokio::time::advance(patience * 3 / 4).await;
            credit.credit(shard(1), handled);
        }
        assert!(credit.hold(|_| 20, || true).is_some());
        assert_eq!(credit.overdrafts, 1, "the slow grants kept it waiting");
        credit.credit(shard(1), 11);
        assert_eq!(credit.hold(|_| 20, || true), None, "9 in flight");
    }

    #[tokio::test(start_paused = true)]
    async fn only_credit_on_a_full_channel_restarts_the_patience() {
        let patience = Duration::from_millis(200);
        let mut credit = Credit::new(4, 10, patience);
        credit.sent(shard(3), 30);
        credit.sent(shard(2), 5);
        let until = credit.hold(|_| 30, || true).expect("full");
        tokio::time::advance(patience * 3 / 4).await;
        credit.credit(shard(2), 5);
        assert_eq!(
            credit.hold(|_| 30, || true),
            Some(until),
            "shard 2 was not full"
        );
        credit.credit(shard(3), 5);
        let until = credit.hold(|_| 30, || true).expect("still full");
        assert_eq!(until, Instant::now() + patience);
        assert_eq!(credit.overdrafts, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_receiver_grants_each_quarter_window_and_when_it_is_to_wait() {
        let mut credit = Credit::new(4, 100, Duration::from_secs(1));
        let now = Instant::now();
        // Two batches from shard 1 (seqs 1..=20 and 21..=40) at queue
        // positions 20 and 40; one from shard 2 (1..=5) at 45.
        credit.accepted(shard(1), 20, 20);
        credit.accepted(shard(1), 40, 40);
        credit.accepted(shard(2), 5, 45);
        assert_eq!(
            credit.grants(19, false, now),
            vec![],
            "nothing handled whole"
        );
        assert_eq!(
            credit.grants(20, false, now),
            vec![],
            "20 is under a quarter"
        );
        assert_eq!(credit.grants(40, false, now), vec![(shard(1), 40)]);
        assert_eq!(
            credit.grants(45, false, now),
            vec![],
            "5 is under a quarter"
        );
        assert_eq!(credit.grants(45, true, now), vec![(shard(2), 5)]);
        assert_eq!(credit.grants(45, true, now), vec![], "granted once");
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_receiver_grants_what_it_has_each_sweep() {
        let mut credit = Credit::new(4, 100, Duration::from_secs(1));
        credit.accepted(shard(0), 3, 3);
        credit.accepted(shard(0), 90, 90);
        assert_eq!(credit.grants(3, false, Instant::now()), vec![]);
        tokio::time::advance(GRANT_SWEEP).await;
        assert_eq!(credit.grants(3, false, Instant::now()), vec![(shard(0), 3)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_grant_beyond_what_was_sent_is_brought_down_to_it() {
        let mut credit = Credit::new(2, 10, Duration::from_secs(1));
        // A grant of an earlier life of the channel, past what this life
        // has sent.
        credit.credit(shard(1), 500);
        credit.sent(shard(1), 30);
        assert!(
            credit.hold(|_| 30, || true).is_none(),
            "30 handled, as far as known"
        );
        credit.sent(shard(1), 40);
        assert!(
            credit.hold(|_| 40, || true).is_some(),
            "the window counts from 30"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_restored_shard_assumes_what_it_sent_handled() {
        let mut credit = Credit::new(2, 10, Duration::from_secs(1));
        credit.sent(shard(1), 500);
        credit.restored(&[0, 500]);
        assert_eq!(credit.hold(|_| 500, || true), None);
        credit.sent(shard(1), 509);
        assert_eq!(credit.hold(|_| 509, || true), None);
        credit.sent(shard(1), 510);
        assert!(credit.hold(|_| 510, || true).is_some());
    }
}
