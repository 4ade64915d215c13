//! A Cairn node: the user's handle to the actor system.

use std::time::Duration;

use cairn_core::{
    Address, AskError, EgressSink, Error, Message, Payload, Registry, Result, Runtime,
    RuntimeConfig, ShardCount, ShardStats, StatefulFunction,
};

/// A running Cairn node. Cheap to clone; every clone reaches the same node.
///
/// A single node is a cluster of one: started with no configuration it runs
/// every shard itself.
#[derive(Clone, Debug)]
pub struct Node {
    runtime: Runtime,
}

impl Node {
    /// A builder for a node with the default configuration.
    pub fn builder() -> NodeBuilder {
        NodeBuilder::default()
    }

    /// Sends `message` to the actor at `to`, fire and forget.
    ///
    /// Messages from one caller to one actor — sends and asks alike — are
    /// handled in the order they were made.
    ///
    /// Fails at once, without sending, if `to`'s function type is not
    /// registered or has no handler for `M`.
    pub fn send<M: Message>(&self, to: Address, message: M) -> Result<()> {
        self.runtime.send(to, message)
    }

    /// Sends an already type-erased message, as decoded from JSON.
    pub fn send_payload(&self, to: Address, payload: Payload) -> Result<()> {
        self.runtime.send_payload(to, payload)
    }

    /// Sends `message` to `to` and waits for the handler's `ctx.reply`, up to
    /// the node's ask timeout. `R` is the reply's type.
    ///
    /// The answer is a read of *uncommitted* state: it comes as soon as the
    /// handler has run, so after a crash and a recovery to an earlier
    /// snapshot the effect it reported may be undone.
    pub async fn ask<R: Message, M: Message>(
        &self,
        to: Address,
        message: M,
    ) -> Result<R, AskError> {
        self.runtime.ask(to, message).await
    }

    /// [`Node::ask`] with an explicit timeout.
    pub async fn ask_with_timeout<R: Message, M: Message>(
        &self,
        to: Address,
        message: M,
        timeout: Duration,
    ) -> Result<R, AskError> {
        self.runtime.ask_with_timeout(to, message, timeout).await
    }

    /// Asks with an already type-erased message and returns the reply as is.
    pub async fn ask_payload(
        &self,
        to: Address,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Payload, AskError> {
        self.runtime.ask_payload(to, payload, timeout).await
    }

    /// Waits until every message sent before the call, and everything those
    /// messages caused, has been handled and its egress published. Pending
    /// timers are not waited for.
    pub async fn flush(&self) -> Result<()> {
        self.runtime.flush().await
    }

    /// The counters of every shard.
    pub async fn shard_stats(&self) -> Result<Vec<ShardStats>> {
        self.runtime.shard_stats().await
    }

    /// The registered function types.
    pub fn registry(&self) -> &Registry {
        self.runtime.registry()
    }

    /// The node's fixed shard count.
    pub fn shard_count(&self) -> ShardCount {
        self.runtime.config().shard_count
    }

    /// Stops the node: shards finish their current turn, waiting asks get
    /// `ShuttingDown`, pending egress is written out. Idempotent.
    pub async fn shutdown(&self) {
        self.runtime.shutdown().await
    }
}

/// Configures and starts a [`Node`].
#[derive(Default)]
pub struct NodeBuilder {
    config: RuntimeConfig,
    registry: Registry,
    egress: Vec<(String, Box<dyn EgressSink>)>,
    errors: Vec<Error>,
}

impl NodeBuilder {
    /// Registers the stateful function `F`.
    pub fn register<F: StatefulFunction>(mut self) -> Self {
        if let Err(error) = self.registry.register::<F>() {
            self.errors.push(error);
        }
        self
    }

    /// Sets the number of shards (default 64). Fixed for the life of the
    /// cluster: it decides where every actor lives.
    pub fn shards(mut self, count: u32) -> Self {
        match ShardCount::new(count) {
            Some(count) => self.config.shard_count = count,
            None => self
                .errors
                .push(Error::Config("the shard count must be at least 1".into())),
        }
        self
    }

    /// Sets how long an actor may go without a message before it is
    /// passivated (default 5 minutes).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// Sets the default timeout of [`Node::ask`] (default 30 s).
    pub fn ask_timeout(mut self, timeout: Duration) -> Self {
        self.config.ask_timeout = timeout;
        self
    }

    /// Sets how many messages a shard handles per turn (default 1024).
    pub fn turn_budget(mut self, budget: usize) -> Self {
        self.config.turn_budget = budget;
        self
    }

    /// Adds an egress named `name`, which handlers reach with
    /// `ctx.emit(name, &record)`.
    pub fn egress(mut self, name: impl Into<String>, sink: impl EgressSink) -> Self {
        self.egress.push((name.into(), Box::new(sink)));
        self
    }

    /// Starts the node on the current tokio runtime. Reports the first
    /// configuration error, if any.
    pub async fn start(self) -> Result<Node> {
        if let Some(error) = self.errors.into_iter().next() {
            return Err(error);
        }
        let runtime = Runtime::start(self.config, self.registry, self.egress)?;
        Ok(Node { runtime })
    }
}

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("config", &self.config)
            .field("registry", &self.registry)
            .field(
                "egress",
                &self.egress.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}
