//! The JSON bodies of the HTTP endpoint, written by the node and read by the
//! `cairn` CLI. Field names are the wire contract: add fields, never rename.

use serde::{Deserialize, Serialize};

/// How the node takes part in a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterMode {
    /// One node runs every shard; it is its own coordinator.
    SingleNode,
}

/// What a member of the cluster is known to be doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemberStatus {
    /// Running and reachable.
    Alive,
}

/// `GET /v1/cluster`: the members and who coordinates them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterView {
    /// How the cluster is formed.
    pub mode: ClusterMode,
    /// The id of the node that answered.
    pub node: String,
    /// The id of the coordinating node.
    pub coordinator: String,
    /// The cluster's fixed shard count.
    pub shard_count: u32,
    /// Every member, this node included.
    pub members: Vec<MemberView>,
}

/// One member of the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// The member's id: for now the address its HTTP endpoint is bound to.
    pub id: String,
    /// The address of the member's HTTP endpoint.
    pub http: String,
    /// Whether the member is up.
    pub status: MemberStatus,
    /// How many shards the member owns.
    pub shards: u32,
    /// When the member started, in seconds since the Unix epoch.
    pub started_at_unix_secs: u64,
}

/// `GET /v1/shards`: every shard, in shard order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardsView {
    /// The shards.
    pub shards: Vec<ShardView>,
}

/// One shard's owner and counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardView {
    /// The shard's index.
    pub shard: u32,
    /// The id of the node that runs the shard.
    pub owner: String,
    /// Actors in memory.
    pub active_actors: u64,
    /// Actors passivated, their state kept serialized.
    pub passivated_actors: u64,
    /// Messages queued, not yet handled (the shard's queue depth).
    pub queued_messages: u64,
    /// Timers set and not yet fired or cancelled.
    pub pending_timers: u64,
    /// Messages handled since the shard started.
    pub messages_handled: u64,
    /// Messages sent to other shards since the shard started.
    pub messages_sent_to_shards: u64,
    /// Messages received from other shards since the shard started.
    pub messages_received_from_shards: u64,
    /// Messages no actor could take.
    pub dead_letters: u64,
}

/// `GET /v1/functions`: the registered function types, sorted by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionsView {
    /// The function types.
    pub functions: Vec<FunctionView>,
}

/// One registered function type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionView {
    /// The type's name, as used in addresses and invoke URLs.
    pub name: String,
    /// The hash of the state's schema, as `0x` and 16 hex digits.
    pub schema_hash: String,
    /// The registered names of the messages it takes, sorted.
    pub messages: Vec<String>,
}

/// `POST /v1/invoke/…` without `ask`: the message was handed to the node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The actor's address, `TYPE/ID`.
    pub address: String,
    /// The message's registered name.
    pub message: String,
    /// The shard the actor lives on.
    pub shard: u32,
}

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub error: String,
    /// What went wrong, for a program: a stable snake_case word such as
    /// `unknown_function_type`.
    pub kind: String,
}
