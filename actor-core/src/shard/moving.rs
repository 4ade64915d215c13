//! The asks from outside that a departing shard takes along to its new
//! owner (SNAPSHOTS §3.8), instead of leaving them in its snapshot.
//!
//! An ask's reply channel cannot be written into a snapshot: restored from
//! there, the new owner would handle the message and answer nobody, while
//! the caller here hears nothing of it. So at the cut where the shard
//! leaves, the asks that wait in its queue come out of it *before* the
//! snapshot is taken, and once the epoch commits they go to the new owner
//! as asks ([`RemoteShards::forward_ask`](crate::RemoteShards::forward_ask)),
//! which carries the real answer back. Each message is thus handled
//! exactly once, by the new owner, and answered.
//!
//! So as not to reverse messages from outside, those queued *behind* the
//! first such ask move with it (restored from the snapshot, they would be
//! handled before it for certain), and so do those that reach the frozen
//! shard while it holds any; all are handed on in their order (an ask and
//! a tell then travel on different channels between nodes, as any ask and
//! tell from outside do). Messages from actors, timers and ingress records
//! stay in the snapshot: they are ordered per channel, and the cut keeps
//! that order.
//!
//! If the epoch does not commit, none of them was handled anywhere (the
//! cluster restores the last commit, which precedes them): the asks fail
//! with [`Error::HandoffAborted`] and the other messages are dropped, as
//! every message from outside in flight during a rollback is.

use std::collections::VecDeque;

use crate::envelope::{Envelope, ReplyTo};
use crate::error::{AskError, Error};

/// Messages from outside taken out of a departing shard's queue at its cut,
/// in the order they arrived.
#[derive(Default)]
pub(super) struct Moving {
    envelopes: Vec<Envelope>,
}

impl Moving {
    /// Takes out of `queue` every ask from outside, and every message from
    /// outside after the first such ask, keeping their order; the rest stay
    /// in the queue, in theirs.
    pub(super) fn take_from(queue: &mut VecDeque<Envelope>) -> Self {
        let Some(first) = queue.iter().position(is_outside_ask) else {
            return Self::default();
        };
        let mut envelopes = Vec::new();
        let mut staying = VecDeque::with_capacity(queue.len());
        for (index, envelope) in queue.drain(..).enumerate() {
            if index >= first && is_from_outside(&envelope) {
                envelopes.push(envelope);
            } else {
                staying.push_back(envelope);
            }
        }
        *queue = staying;
        Self { envelopes }
    }

    /// Whether messages wait to move: then a message from outside that
    /// reaches the frozen shard queues behind them.
    pub(super) fn is_empty(&self) -> bool {
        self.envelopes.is_empty()
    }

    /// How many messages wait to move.
    pub(super) fn len(&self) -> usize {
        self.envelopes.len()
    }

    /// Queues a message from outside behind the ones already moving.
    pub(super) fn push(&mut self, envelope: Envelope) {
        self.envelopes.push(envelope);
    }

    /// The messages, in order, for the new owner: the epoch committed.
    pub(super) fn take(&mut self) -> Vec<Envelope> {
        std::mem::take(&mut self.envelopes)
    }

    /// Fails the asks with `error` and drops the other messages: the epoch
    /// of the cut did not commit (or the node stops), so none was handled.
    pub(super) fn fail(&mut self, error: Error) -> usize {
        let envelopes = self.take();
        let count = envelopes.len();
        for envelope in envelopes {
            if let Some(reply) = envelope.reply {
                reply.answer(Err(AskError::Send(error.clone())));
            }
        }
        count
    }
}

/// Whether a message came from outside the actor system (`send`, `ask`, an
/// ask forwarded from another node) rather than from an actor, a timer or
/// an ingress record.
fn is_from_outside(envelope: &Envelope) -> bool {
    envelope.from.is_none() && !matches!(envelope.reply, Some(ReplyTo::Ingress(_)))
}

/// Whether a message is an ask from outside, with a caller waiting.
fn is_outside_ask(envelope: &Envelope) -> bool {
    is_from_outside(envelope) && envelope.reply.as_ref().is_some_and(ReplyTo::has_caller)
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;
    use crate::address::Address;
    use crate::function::StatefulFunction;
    use crate::message::Payload;
    use crate::test_support::Tally;

    fn tell(n: u64, from: Option<&str>) -> Envelope {
        let from = from.map(|id| Address::new(Tally::FUNCTION_TYPE, id));
        Envelope::new(
            Address::new(Tally::FUNCTION_TYPE, "a"),
            from,
            Payload::new(n),
        )
    }

    fn ask(n: u64) -> (Envelope, oneshot::Receiver<crate::envelope::AskResult>) {
        let (caller, answer) = oneshot::channel();
        let envelope = Envelope::ask(
            Address::new(Tally::FUNCTION_TYPE, "a"),
            Payload::new(n),
            ReplyTo::Ask(caller),
        );
        (envelope, answer)
    }

    fn numbers(envelopes: impl IntoIterator<Item = Envelope>) -> Vec<u64> {
        envelopes
            .into_iter()
            .map(|envelope| envelope.payload.downcast::<u64>().unwrap())
            .collect()
    }

    /// Asks from outside leave the queue with the messages from outside
    /// behind the first of them; messages from actors, and those from
    /// outside ahead of every ask, stay, each side in its order.
    #[test]
    fn asks_leave_with_the_outside_messages_behind_them() {
        let (ask_3, _) = ask(3);
        let (ask_6, _) = ask(6);
        let mut queue: VecDeque<Envelope> = VecDeque::from(vec![
            tell(1, None),
            tell(2, Some("b")),
            ask_3,
            tell(4, Some("b")),
            tell(5, None),
            ask_6,
        ]);
        let mut moving = Moving::take_from(&mut queue);
        assert_eq!(numbers(queue), vec![1, 2, 4]);
        assert_eq!(numbers(moving.take()), vec![3, 5, 6]);

        let mut tells_only = VecDeque::from(vec![tell(1, None), tell(2, Some("b"))]);
        assert!(Moving::take_from(&mut tells_only).is_empty());
        assert_eq!(tells_only.len(), 2);
    }

    /// When the cut's epoch does not commit, every moving ask is answered
    /// with the error: none waits in silence.
    #[test]
    fn failed_moves_answer_every_ask() {
        let (ask_1, answer) = ask(1);
        let mut queue = VecDeque::from(vec![ask_1, tell(2, None)]);
        let mut moving = Moving::take_from(&mut queue);
        let error = Error::HandoffAborted { shard: 0, epoch: 4 };
        assert_eq!(moving.fail(error.clone()), 2);
        assert!(moving.is_empty());
        let answered = answer.blocking_recv().expect("answered");
        assert!(
            matches!(answered, Err(AskError::Send(ref sent)) if *sent == error),
            "{answered:?}"
        );
    }
}
