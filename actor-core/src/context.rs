//! What a handler can do besides changing its own state: send, send later,
//! reply, emit to an egress, and know who it is and who called.
//!
//! Every effect is recorded into the shard's buffers and carried out after
//! the handler returns; a handler never waits, which is what lets the shard
//! take a consistent snapshot between two turns.

use std::time::Duration;

use serde::Serialize;

use crate::address::{ActorId, Address};
use crate::envelope::{Envelope, ReplyTo};
use crate::error::{Error, Result};
use crate::message::{Message, Payload};
use crate::shard::Effects;
use crate::timers::TimerId;

/// The handle a handler gets for everything it does besides changing its
/// own state.
pub struct Context<'a> {
    me: &'a Address,
    caller: Option<&'a Address>,
    reply: Option<ReplyTo>,
    effects: &'a mut Effects,
    /// Messages this handler sent to actors: sends, timers set and replies
    /// that went to a calling actor as messages.
    sent: u64,
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        me: &'a Address,
        caller: Option<&'a Address>,
        reply: Option<ReplyTo>,
        effects: &'a mut Effects,
    ) -> Self {
        Self {
            me,
            caller,
            reply,
            effects,
            sent: 0,
        }
    }

    /// This actor's address.
    pub fn self_address(&self) -> &Address {
        self.me
    }

    /// This actor's id.
    pub fn self_id(&self) -> &ActorId {
        self.me.id()
    }

    /// The actor that sent the message being handled; `None` for messages
    /// from outside the system (`Node::send`, `Node::ask`, HTTP, ingress).
    pub fn caller(&self) -> Option<&Address> {
        self.caller
    }

    /// Sends `message` to the actor at `to` (fire and forget). Messages from
    /// one actor to another arrive in the order they were sent.
    pub fn send<M: Message>(&mut self, to: Address, message: M) {
        let envelope = Envelope::new(to, Some(self.me.clone()), Payload::new(message));
        self.sent += 1;
        self.effects.route(envelope);
    }

    /// Sends `message` to `to` once `delay` has passed. The timer belongs to
    /// this actor's shard (it is part of the shard's state, not a sleep in
    /// the network) and can be cancelled with [`Context::cancel_timer`].
    /// Timers with the same deadline fire in the order they were set.
    pub fn send_after<M: Message>(&mut self, delay: Duration, to: Address, message: M) -> TimerId {
        let envelope = Envelope::new(to, Some(self.me.clone()), Payload::new(message));
        self.sent += 1;
        self.effects.schedule(delay, envelope)
    }

    /// Cancels a timer set with [`Context::send_after`]. Returns `false` if it
    /// already fired or was cancelled.
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        self.effects.cancel_timer(timer)
    }

    /// Answers the message being handled.
    ///
    /// If it came from an `ask`, the reply completes the ask (for
    /// `ask_durable`, once the epoch holding this handler's effects has
    /// committed). If it came from
    /// another actor, the reply is sent to that actor as a message (its
    /// handlers must take `M`). A message from a plain external `send` has no
    /// one to answer, and the reply is dropped. Only the first reply to an
    /// `ask` counts.
    pub fn reply<M: Message>(&mut self, message: M) {
        let payload = Payload::new(message);
        match self.reply.take() {
            Some(ReplyTo::DurableAsk(caller)) => self.effects.hold_reply(caller, payload),
            Some(reply) => reply.answer(Ok(payload)),
            None => match self.caller {
                Some(caller) => {
                    let envelope = Envelope::new(caller.clone(), Some(self.me.clone()), payload);
                    self.sent += 1;
                    self.effects.route(envelope);
                }
                None => tracing::debug!(actor = %self.me, "reply with no caller dropped"),
            },
        }
    }

    /// Emits `record` to the egress named `egress`, which must have been
    /// added to the node. The record is encoded as JSON at once.
    pub fn emit<R: Serialize + ?Sized>(&mut self, egress: &str, record: &R) -> Result<()> {
        self.effects.emit(egress, record)
    }

    /// Ends the handler's turn: the pending ask reply, if the handler did
    /// not use it, and how many messages the handler sent to actors.
    pub(crate) fn finish(self) -> (Option<ReplyTo>, u64) {
        (self.reply, self.sent)
    }
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("self", self.me)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

/// Checks an egress name against the registered ones.
pub(crate) fn unknown_egress(name: &str) -> Error {
    Error::UnknownEgress(name.to_owned())
}
