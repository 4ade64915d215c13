//! A message in transit: where it goes, who sent it, and who waits for an
//! answer.

use tokio::sync::oneshot;

use crate::address::Address;
use crate::error::AskError;
use crate::ingress::IngressPermit;
use crate::message::Payload;

/// The answer to an `ask`: the reply, or why there is none.
pub(crate) type AskResult = Result<Payload, AskError>;

/// Whom to answer when the handler replies.
#[derive(Debug)]
pub(crate) enum ReplyTo {
    /// A caller outside the actor system waits on this channel.
    Ask(oneshot::Sender<AskResult>),
    /// As `Ask`, but the reply is held until the epoch holding the
    /// handler's effect has committed (`ask_durable`); errors go at once.
    DurableAsk(oneshot::Sender<AskResult>),
    /// Nobody waits: the message came from a durable ingress, and the
    /// permit returns its source's credit once the handler has run.
    Ingress(IngressPermit),
    /// A caller that does not wait on a task here (an ask forwarded from
    /// another node): the answer is handed to a callback on the shard's
    /// thread.
    Callback(Box<ReplyCallback>),
}

/// A callback that takes an ask's answer exactly once: if it is dropped
/// unanswered (the message was lost at shutdown), it is told there is no
/// reply.
pub(crate) struct ReplyCallback {
    to: Address,
    call: Option<Box<dyn FnOnce(AskResult) + Send>>,
}

impl ReplyCallback {
    /// A callback for an ask of `to`.
    pub(crate) fn new(to: Address, call: impl FnOnce(AskResult) + Send + 'static) -> Self {
        Self {
            to,
            call: Some(Box::new(call)),
        }
    }

    fn answer(mut self, result: AskResult) {
        if let Some(call) = self.call.take() {
            call(result);
        }
    }
}

impl Drop for ReplyCallback {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call(Err(AskError::NoReply {
                address: self.to.clone(),
            }));
        }
    }
}

impl std::fmt::Debug for ReplyCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyCallback")
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

impl ReplyTo {
    /// Delivers the answer. A caller that gave up (timed out) is not an error.
    pub(crate) fn answer(self, result: AskResult) {
        match self {
            ReplyTo::Ask(sender) | ReplyTo::DurableAsk(sender) => {
                let _ = sender.send(result);
            }
            ReplyTo::Callback(callback) => callback.answer(result),
            ReplyTo::Ingress(_permit) => {}
        }
    }

    /// Whether a caller waits for the answer.
    pub(crate) fn has_caller(&self) -> bool {
        !matches!(self, ReplyTo::Ingress(_))
    }
}

/// The caller of an ask that goes on to the node running its actor's shard
/// ([`RemoteShards::forward_ask`](crate::RemoteShards::forward_ask)):
/// answered once, with the reply as MessagePack or why there is none. One
/// dropped unanswered tells its caller that no reply came, so a caller is
/// never left waiting in silence.
#[derive(Debug)]
pub struct AskReply {
    reply: ReplyTo,
}

impl AskReply {
    /// The caller of an ask, if it has one (an ingress record has not).
    pub(crate) fn of(reply: ReplyTo) -> Result<Self, ReplyTo> {
        if reply.has_caller() {
            Ok(Self { reply })
        } else {
            Err(reply)
        }
    }

    /// Whether the caller wants the reply only once the epoch holding the
    /// handler's effects has committed (`ask_durable`).
    pub fn durable(&self) -> bool {
        matches!(self.reply, ReplyTo::DurableAsk(_))
    }

    /// Hands the caller the handler's reply, MessagePack-encoded as it
    /// came from the other node (the caller decodes it as the type it
    /// expects, see [`Payload::encoded`]), or the error.
    pub fn answer(self, reply: Result<Vec<u8>, AskError>) {
        self.reply.answer(reply.map(Payload::encoded));
    }
}

/// A message with its routing: destination, sender, and the ask waiting for
/// a reply, if any.
#[derive(Debug)]
pub(crate) struct Envelope {
    pub(crate) to: Address,
    pub(crate) from: Option<Address>,
    pub(crate) payload: Payload,
    pub(crate) reply: Option<ReplyTo>,
}

impl Envelope {
    /// A fire-and-forget message.
    pub(crate) fn new(to: Address, from: Option<Address>, payload: Payload) -> Self {
        Self {
            to,
            from,
            payload,
            reply: None,
        }
    }

    /// A message whose handler's reply goes to `reply`.
    pub(crate) fn ask(to: Address, payload: Payload, reply: ReplyTo) -> Self {
        Self {
            to,
            from: None,
            payload,
            reply: Some(reply),
        }
    }
}
