//! Errors of the actor runtime, in the domain's words.

use std::time::Duration;

use crate::address::Address;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Encoding or decoding a message or a state failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// A value could not be encoded.
    #[error("cannot encode: {0}")]
    Encode(String),
    /// Bytes or JSON could not be decoded into the expected type.
    #[error("cannot decode: {0}")]
    Decode(String),
}

/// Errors of sending, asking and running actors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No function of this type is registered on the node.
    #[error("unknown function type `{0}`: register it with `Node::builder().register::<T>()`")]
    UnknownFunctionType(String),
    /// The function type has no handler for this message type.
    #[error("function type `{function}` has no handler for message `{message}`")]
    UnknownMessage {
        /// The function type.
        function: String,
        /// The message's type or registered name.
        message: String,
    },
    /// No egress of this name is registered on the node.
    #[error("unknown egress `{0}`: add it with `Node::builder().egress(name, sink)`")]
    UnknownEgress(String),
    /// A message, reply or state could not be encoded or decoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The node is shutting down and takes no more messages.
    #[error("the node is shutting down")]
    ShuttingDown,
    /// The operation needs snapshots, and this node takes none.
    #[error(
        "this node takes no snapshots: durable operations need a store (`NodeBuilder::store`)"
    )]
    NoSnapshots,
    /// The actor's shard runs on another node, and the operation works
    /// only on this node's shards (asks, inspection).
    #[error("shard {shard} runs on another node")]
    RemoteShard {
        /// The shard.
        shard: u32,
    },
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Why an `ask` got no reply of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AskError {
    /// No reply came within the timeout.
    #[error("no reply from {address} within {timeout:?}")]
    Timeout {
        /// The actor asked.
        address: Address,
        /// The timeout that elapsed.
        timeout: Duration,
    },
    /// The handler finished without calling `ctx.reply`.
    #[error("{address} handled the message without replying")]
    NoReply {
        /// The actor asked.
        address: Address,
    },
    /// The handler panicked.
    #[error("the handler of {address} panicked: {message}")]
    HandlerPanicked {
        /// The actor asked.
        address: Address,
        /// The panic's message.
        message: String,
    },
    /// The reply has another type than the one asked for.
    #[error("{address} replied with `{actual}`, not the expected `{expected}`")]
    ReplyType {
        /// The actor asked.
        address: Address,
        /// The type the caller asked for.
        expected: &'static str,
        /// The type of the reply.
        actual: &'static str,
    },
    /// The ask was forwarded to the node running the actor's shard, and
    /// failed there or on the way (the reason as that node told it).
    #[error("asking {address} on node {node}: {reason}")]
    Remote {
        /// The actor asked.
        address: Address,
        /// The node running its shard.
        node: String,
        /// What went wrong.
        reason: String,
    },
    /// The message could not be sent or handled.
    #[error(transparent)]
    Send(#[from] Error),
}
