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
}

impl ReplyTo {
    /// Delivers the answer. A caller that gave up (timed out) is not an error.
    pub(crate) fn answer(self, result: AskResult) {
        match self {
            ReplyTo::Ask(sender) | ReplyTo::DurableAsk(sender) => {
                let _ = sender.send(result);
            }
            ReplyTo::Ingress(_permit) => {}
        }
    }

    /// Whether a caller waits for the answer.
    pub(crate) fn has_caller(&self) -> bool {
        !matches!(self, ReplyTo::Ingress(_))
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
