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
    /// The actor's shard was leaving this node at the cut of `epoch`, and
    /// that epoch did not commit (or the node stopped first): the message
    /// was taken along for the new owner and never handled anywhere, so it
    /// is safe to send again.
    #[error("shard {shard} was moving to another node at epoch {epoch}, which did not commit; the message was not handled")]
    HandoffAborted {
        /// The shard.
        shard: u32,
        /// The epoch at whose cut the shard was leaving.
        epoch: u64,
    },
    /// The message, encoded, is larger than one frame between nodes can
    /// carry (in a cluster, `ClusterSettings::max_frame`), so it cannot
    /// reach its actor's shard on another node.
    #[error("the message takes {size} bytes encoded; a frame between nodes carries at most {max}")]
    MessageTooLarge {
        /// The encoded message's size, in bytes.
        size: usize,
        /// The largest encoded message that fits in a frame with its
        /// addresses, in bytes.
        max: usize,
    },
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A batch of markers from another node was refused; nothing of it
    /// was delivered.
    #[error("marker batch from node {node} for epoch {epoch} refused: {reason}")]
    MarkerBatch {
        /// The node it came from.
        node: String,
        /// The epoch it was for.
        epoch: u64,
        /// What is wrong with it.
        reason: MarkerBatchError,
    },
}

/// Why a batch of markers from another node cannot be taken (SNAPSHOTS
/// §3.2 rule 5). Each names a broken or forged batch: taking it would
/// close a channel at a wrong cut, or reach a shard that is not here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkerBatchError {
    /// A shard id is not below the shard count.
    #[error("shard {shard} is not one of the {shards} shards")]
    ShardOutOfRange {
        /// The shard named.
        shard: u32,
        /// The shard count.
        shards: u32,
    },
    /// A source or destination shard is named twice.
    #[error("shard {shard} is named twice")]
    Repeated {
        /// The shard named twice.
        shard: u32,
    },
    /// A destination shard is not hosted on the receiving node.
    #[error("destination shard {shard} is not hosted on this node")]
    NotHosted {
        /// The shard.
        shard: u32,
    },
    /// A listed cut is for a channel the batch does not cover (its source
    /// or destination is not among the batch's, or it is a shard to
    /// itself), or is listed twice.
    #[error("the cut listed for channel {from}→{to} is not one of the batch's channels, or is listed twice")]
    NotCovered {
        /// The source shard.
        from: u32,
        /// The destination shard.
        to: u32,
    },
    /// A covered channel is not listed, and no cut was ever received for
    /// it on this link: the sender must list a channel's first cut.
    #[error("channel {from}→{to} is not listed and has no earlier cut on this link")]
    Unlisted {
        /// The source shard.
        from: u32,
        /// The destination shard.
        to: u32,
    },
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
