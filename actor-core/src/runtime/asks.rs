//! Asking an actor from outside the actor system: waiting on the reply,
//! with a timeout, durably (released once the effect's epoch commits), or
//! with a callback run on the shard's thread.

use std::time::Duration;

use tokio::sync::oneshot;

use crate::address::Address;
use crate::envelope::{AskResult, Envelope, ReplyCallback, ReplyTo};
use crate::error::{AskError, Error, Result};
use crate::message::{Message, Payload};

use super::Runtime;

impl Runtime {
    /// Sends `message` and waits for the handler's reply, with the default
    /// ask timeout.
    ///
    /// The reply is a read of *uncommitted* state: it is answered as soon as
    /// the handler runs, so after a crash and recovery to an earlier snapshot
    /// the effect it reported may be undone.
    pub async fn ask<R: Message, M: Message>(
        &self,
        to: Address,
        message: M,
    ) -> Result<R, AskError> {
        self.ask_with_timeout(to, message, self.inner.config.ask_timeout)
            .await
    }

    /// [`Runtime::ask`] with an explicit timeout.
    pub async fn ask_with_timeout<R: Message, M: Message>(
        &self,
        to: Address,
        message: M,
        timeout: Duration,
    ) -> Result<R, AskError> {
        let reply = self
            .ask_payload(to.clone(), Payload::new(message), timeout)
            .await?;
        typed_reply(to, reply)
    }

    /// [`Runtime::ask`], answered only once the epoch holding the handler's
    /// effects has committed; see [`Runtime::ask_durable_payload`].
    pub async fn ask_durable<R: Message, M: Message>(
        &self,
        to: Address,
        message: M,
    ) -> Result<R, AskError> {
        let timeout = self.inner.config.ask_timeout;
        let reply = self
            .ask_durable_payload(to.clone(), Payload::new(message), timeout)
            .await?;
        typed_reply(to, reply)
    }

    /// Asks with an already type-erased message and returns the reply as is.
    pub async fn ask_payload(
        &self,
        to: Address,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Payload, AskError> {
        self.ask_with(to, payload, timeout, ReplyTo::Ask).await
    }

    /// Sends `payload` and waits for the handler's reply, which is answered
    /// only once the snapshot epoch holding the handler's effects has
    /// committed (SNAPSHOTS §3.5 rule 17): what it reports survives any
    /// crash. Needs a node with snapshots.
    pub async fn ask_durable_payload(
        &self,
        to: Address,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Payload, AskError> {
        if !self.inner.snapshots {
            return Err(AskError::Send(Error::NoSnapshots));
        }
        self.ask_with(to, payload, timeout, ReplyTo::DurableAsk)
            .await
    }

    /// Sends `payload` to `to` and hands the handler's reply — or why
    /// there is none — to `reply`, on the thread of the shard that ran the
    /// handler (or at once, if the message cannot be sent). For callers
    /// that must not wait on a task of their own, such as an ask forwarded
    /// from another node: `reply` must be quick and must not block. There
    /// is no timeout here; the caller keeps its own. Like
    /// [`Runtime::ask`], the reply is a read of uncommitted state.
    pub fn ask_then(
        &self,
        to: Address,
        payload: Payload,
        reply: impl FnOnce(Result<Payload, AskError>) + Send + 'static,
    ) {
        if let Err(error) = self.inner.registry.check_accepts(to.function(), &payload) {
            reply(Err(AskError::Send(error)));
            return;
        }
        let callback = ReplyCallback::new(to.clone(), reply);
        // A message that cannot be delivered drops its callback, which
        // answers that there is no reply.
        if let Err(error) = self.deliver(Envelope::ask(
            to,
            payload,
            ReplyTo::Callback(Box::new(callback)),
        )) {
            tracing::debug!(%error, "ask not delivered");
        }
    }

    async fn ask_with(
        &self,
        to: Address,
        payload: Payload,
        timeout: Duration,
        reply_to: fn(oneshot::Sender<AskResult>) -> ReplyTo,
    ) -> Result<Payload, AskError> {
        self.inner.registry.check_accepts(to.function(), &payload)?;
        let (reply, answer) = oneshot::channel();
        self.deliver(Envelope::ask(to.clone(), payload, reply_to(reply)))?;
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_dropped)) if self.is_shutting_down() => {
                Err(AskError::Send(Error::ShuttingDown))
            }
            Ok(Err(_dropped)) => Err(AskError::NoReply { address: to }),
            Err(_elapsed) => Err(AskError::Timeout {
                address: to,
                timeout,
            }),
        }
    }
}

/// The reply as the type the caller asked for.
fn typed_reply<R: Message>(to: Address, reply: Payload) -> Result<R, AskError> {
    reply.downcast::<R>().map_err(|reply| AskError::ReplyType {
        address: to,
        expected: std::any::type_name::<R>(),
        actual: reply.type_name(),
    })
}
