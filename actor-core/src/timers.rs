//! A shard's delayed messages: set, cancel, and fire in deadline order.
//!
//! Timers are shard state, not sleeps: the shard's loop asks for the next
//! deadline, sleeps until then together with its inbox, and takes every due
//! envelope. Equal deadlines fire in the order they were set.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::envelope::Envelope;

/// Identifies a timer within its shard, for cancelling it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimerId(u64);

/// The pending timers of one shard.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// Deadlines with the timer's id; the id breaks ties in setting order.
    /// Cancelled timers stay here until they come up and are skipped.
    deadlines: BinaryHeap<Reverse<(Instant, TimerId)>>,
    pending: FxHashMap<TimerId, Envelope>,
    next_id: u64,
}

impl Timers {
    /// Sets a timer delivering `envelope` at `deadline`.
    pub(crate) fn schedule(&mut self, deadline: Instant, envelope: Envelope) -> TimerId {
        let id = TimerId(self.next_id);
        self.next_id += 1;
        self.deadlines.push(Reverse((deadline, id)));
        self.pending.insert(id, envelope);
        id
    }

    /// Puts back a timer from a snapshot under the id handlers were given
    /// for it, so that cancelling it after a restore still works.
    pub(crate) fn restore(&mut self, id: TimerId, deadline: Instant, envelope: Envelope) {
        self.deadlines.push(Reverse((deadline, id)));
        self.pending.insert(id, envelope);
        self.next_id = self.next_id.max(id.0 + 1);
    }

    /// The id the next timer will get.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Continues ids after those a snapshot handed out.
    pub(crate) fn continue_ids_from(&mut self, next_id: u64) {
        self.next_id = self.next_id.max(next_id);
    }

    /// Cancels a timer; `false` if it already fired or was cancelled.
    pub(crate) fn cancel(&mut self, id: TimerId) -> bool {
        let cancelled = self.pending.remove(&id).is_some();
        self.discard_cancelled_heads();
        cancelled
    }

    /// The earliest deadline of a live timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines
            .peek()
            .map(|Reverse((deadline, _))| *deadline)
    }

    /// Removes every timer due at `now` and returns their envelopes in
    /// firing order.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<Envelope> {
        let mut due = Vec::new();
        while let Some(Reverse((deadline, id))) = self.deadlines.peek().copied() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            if let Some(envelope) = self.pending.remove(&id) {
                due.push(envelope);
            }
        }
        self.discard_cancelled_heads();
        due
    }

    /// Every pending timer with its deadline and id, in firing order.
    pub(crate) fn pending(&self) -> Vec<(Instant, TimerId, &Envelope)> {
        let mut live: Vec<_> = self
            .deadlines
            .iter()
            .filter_map(|Reverse((deadline, id))| {
                self.pending
                    .get(id)
                    .map(|envelope| ((*deadline, *id), envelope))
            })
            .collect();
        live.sort_unstable_by_key(|(key, _)| *key);
        live.into_iter()
            .map(|((deadline, id), envelope)| (deadline, id, envelope))
            .collect()
    }

    /// How many timers are pending.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Keeps the heap's head a live timer, so `next_deadline` never wakes the
    /// shard for a cancelled one.
    fn discard_cancelled_heads(&mut self) {
        while let Some(Reverse((_, id))) = self.deadlines.peek() {
            if self.pending.contains_key(id) {
                break;
            }
            self.deadlines.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::address::{Address, FunctionType};
    use crate::message::Payload;

    const TARGET: FunctionType = FunctionType::from_static("test/timer-target");

    fn envelope(n: u64) -> Envelope {
        Envelope::new(Address::new(TARGET, "a"), None, Payload::new(n))
    }

    fn fired(timers: &mut Timers, now: Instant) -> Vec<u64> {
        timers
            .take_due(now)
            .into_iter()
            .map(|envelope| envelope.payload.downcast::<u64>().unwrap())
            .collect()
    }

    #[test]
    fn fire_in_deadline_order_then_setting_order() {
        let start = Instant::now();
        let mut timers = Timers::default();
        timers.schedule(start + Duration::from_millis(20), envelope(3));
        timers.schedule(start + Duration::from_millis(10), envelope(1));
        timers.schedule(start + Duration::from_millis(10), envelope(2));
        assert_eq!(
            timers.next_deadline(),
            Some(start + Duration::from_millis(10))
        );
        assert_eq!(
            fired(&mut timers, start + Duration::from_millis(5)),
            Vec::<u64>::new()
        );
        assert_eq!(
            fired(&mut timers, start + Duration::from_millis(10)),
            vec![1, 2]
        );
        assert_eq!(fired(&mut timers, start + Duration::from_secs(1)), vec![3]);
        assert_eq!(timers.len(), 0);
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn pending_lists_live_timers_in_firing_order() {
        let start = Instant::now();
        let mut timers = Timers::default();
        timers.schedule(start + Duration::from_millis(30), envelope(3));
        let cancelled = timers.schedule(start + Duration::from_millis(5), envelope(9));
        timers.schedule(start + Duration::from_millis(10), envelope(1));
        timers.cancel(cancelled);
        let listed: Vec<u64> = timers
            .pending()
            .into_iter()
            .map(|(_, _, envelope)| *envelope.payload.downcast_ref::<u64>().unwrap())
            .collect();
        assert_eq!(listed, vec![1, 3]);
    }

    #[test]
    fn cancelled_timers_never_fire_and_never_wake() {
        let start = Instant::now();
        let mut timers = Timers::default();
        let early = timers.schedule(start + Duration::from_millis(1), envelope(1));
        timers.schedule(start + Duration::from_millis(50), envelope(2));
        assert!(timers.cancel(early));
        assert!(!timers.cancel(early));
        assert_eq!(
            timers.next_deadline(),
            Some(start + Duration::from_millis(50))
        );
        assert_eq!(fired(&mut timers, start + Duration::from_secs(1)), vec![2]);
        assert!(!timers.cancel(early));
    }
}
