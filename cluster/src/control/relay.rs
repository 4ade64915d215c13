//! Asks from outside that this node's runtime cannot answer because their
//! actor's shard has moved (or was never here): they go on to the shard's
//! node as any forwarded ask (`Control::Ask`), and the answer comes back
//! to the runtime's caller ([`AskRelay`]).
//!
//! The caller hears exactly one outcome: the owner's reply (MessagePack,
//! decoded by the caller as the type it expects), the owner's error, a
//! failure when the cluster moves to a new generation (the owner may be
//! dead, or its state rolled back), or a timeout.

use std::sync::Weak;
use std::time::Duration;

use cairn_core::{Address, AskError, AskReply, Error, StoredMessage};
use tokio::runtime::Handle;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::asks::send_request;
use super::Shared;
use crate::dataplane::AskRelay;
use crate::transport::NodeId;

/// The control plane as the data plane's [`AskRelay`]. It holds its node
/// weakly: the runtime holds the relay, and the node holds the runtime.
pub(crate) struct Relay {
    shared: Weak<Shared>,
    /// The node's Tokio runtime, where each relayed ask's timer runs
    /// (the relay is called on shard threads and from callers of the
    /// runtime, which need not be in it).
    timers: Handle,
}

impl Relay {
    /// The relay of `shared`'s node.
    ///
    /// # Panics
    /// Outside a Tokio runtime: it is made by the node's control tasks.
    pub(crate) fn of(shared: &Shared) -> Self {
        Self {
            shared: shared.myself.clone(),
            timers: Handle::current(),
        }
    }
}

impl AskRelay for Relay {
    fn relay(&self, owner: &NodeId, message: StoredMessage, durable: bool, reply: AskReply) {
        let Some(shared) = self.shared.upgrade() else {
            return reply.answer(Err(AskError::Send(Error::ShuttingDown)));
        };
        if let Err(error) = super::asks::request_fits(&message, shared.max_payload) {
            return reply.answer(Err(AskError::Send(error)));
        }
        // The owner answers within the runtime's ask timeout; a little
        // beyond it, the caller is told it timed out.
        let timeout = shared.blueprint.config.ask_timeout;
        let deadline = Instant::now() + timeout + Duration::from_secs(1);
        let relayed = Relayed::new(message.to.clone(), owner.clone(), timeout, move |answer| {
            reply.answer(answer)
        });
        let id = shared.asks.relay(relayed, &self.timers, deadline);
        send_request(&shared, owner, id, message, durable, timeout);
    }
}

/// Hands a relayed ask's caller its outcome.
type Answer = Box<dyn FnOnce(Result<Vec<u8>, AskError>) + Send>;

/// The caller of a relayed ask, waiting for the owner's answer.
pub(crate) struct Relayed {
    answer: Answer,
    address: Address,
    owner: NodeId,
    timeout: Duration,
    /// The timer that answers the caller if the owner does not; stopped
    /// when an answer comes first.
    timer: Option<AbortHandle>,
}

impl Relayed {
    /// The caller of an ask of `address` relayed to `owner`, who has
    /// `timeout` to answer; `answer` takes the outcome.
    pub(crate) fn new(
        address: Address,
        owner: NodeId,
        timeout: Duration,
        answer: impl FnOnce(Result<Vec<u8>, AskError>) + Send + 'static,
    ) -> Self {
        Self {
            answer: Box::new(answer),
            address,
            owner,
            timeout,
            timer: None,
        }
    }

    /// Gives the caller the timer that times it out.
    pub(crate) fn watched_by(&mut self, timer: AbortHandle) {
        self.timer = Some(timer);
    }

    /// Hands the caller the owner's answer: the reply as MessagePack, or
    /// why there is none.
    pub(crate) fn answer(self, answer: Result<Vec<u8>, String>) {
        let Self {
            answer: caller,
            address,
            owner,
            timer,
            ..
        } = self;
        if let Some(timer) = timer {
            timer.abort();
        }
        caller(answer.map_err(|reason| AskError::Remote {
            address,
            node: owner.to_string(),
            reason,
        }));
    }

    /// Tells the caller no answer came in time.
    pub(crate) fn time_out(self) {
        (self.answer)(Err(AskError::Timeout {
            address: self.address,
            timeout: self.timeout,
        }));
    }
}
