//! The JSON bodies of the HTTP endpoint, written by the node and read by the
//! `cairn` CLI. Field names are the wire contract: add fields, never rename.

use serde::{Deserialize, Serialize};

/// How the node takes part in a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterMode {
    /// One node runs every shard; it is its own coordinator.
    SingleNode,
    /// Members found each other through seeds and share the shards.
    Cluster,
}

/// What a member of the cluster is known to be doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemberStatus {
    /// Running and reachable.
    Alive,
    /// Leaving gracefully: its shards are being handed over.
    Leaving,
    /// Declared dead by the failure detector.
    Dead,
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
    /// The generation of the shard map running on the node that answered
    /// (clusters only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// The node running each shard, by shard index, under that
    /// generation (clusters only; empty for a single node, which runs
    /// them all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shard_owners: Vec<String>,
}

/// One member of the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// The member's id: its cluster address (`--bind`), or for a single
    /// node the address its HTTP endpoint is bound to.
    pub id: String,
    /// The address of the member's HTTP endpoint.
    pub http: String,
    /// Whether the member is up.
    pub status: MemberStatus,
    /// How many shards the member owns.
    pub shards: u32,
    /// When the member started, in seconds since the Unix epoch (for a
    /// cluster member, its incarnation's clock reading).
    pub started_at_unix_secs: u64,
    /// The member's incarnation: larger for each restart at the same
    /// address (cluster members only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incarnation: Option<u64>,
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
    /// Its actors in memory, over every shard.
    #[serde(default)]
    pub active: u64,
    /// Its actors passivated, their state kept serialized, over every shard.
    #[serde(default)]
    pub passivated: u64,
}

/// Whether an actor is in memory, as a view shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorStatusView {
    /// In memory.
    Active,
    /// Its state is kept serialized; it activates on its next message.
    Passivated,
    /// Its shard holds nothing for it (it never got a message, or its state
    /// lives only in the store).
    Absent,
    /// Read from a committed snapshot in the store (`?epoch=E`).
    Stored,
}

/// `GET /v1/actors`: one page of actors, in (type, id) order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorsView {
    /// The actors of this page.
    pub actors: Vec<ActorListItem>,
    /// The `cursor` that fetches the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One actor of a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorListItem {
    /// The actor's address, `TYPE/ID`.
    pub address: String,
    /// Its function type's name.
    pub function: String,
    /// Its id.
    pub id: String,
    /// The shard it lives on.
    pub shard: u32,
    /// Active or passivated.
    pub status: ActorStatusView,
    /// Messages queued for it in its shard.
    pub queued_messages: u64,
    /// About how long since its last message, in milliseconds (to the
    /// shard's sweep granularity); absent for a passivated actor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_for_ms: Option<u64>,
}

/// `GET /v1/actors/TYPE/ID`: one actor, live or (`?epoch=E`) as of a
/// committed snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActorStateView {
    /// The actor's address, `TYPE/ID`.
    pub address: String,
    /// Its function type's name.
    pub function: String,
    /// Its id.
    pub id: String,
    /// The id of the node that answered.
    pub node: String,
    /// The shard it lives on.
    pub shard: u32,
    /// Active, passivated or absent; `stored` when read at an epoch.
    pub status: ActorStatusView,
    /// The committed epoch the state was read at; absent for the live view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// Its state as JSON; `null` when absent or when it cannot be decoded
    /// (see `error`).
    pub state: Option<serde_json::Value>,
    /// Why the state could not be shown, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Messages queued for it in its shard: now, or in the snapshot's
    /// mailbox at the epoch.
    pub queued_messages: u64,
}

/// Whether a snapshot epoch committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochStatus {
    /// Its manifest is in the store: it can be resumed from.
    Committed,
    /// It was given up; its number is used up.
    Aborted,
}

/// `GET /v1/snapshots`: the node's recent snapshot epochs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotsView {
    /// The URL of the store snapshots go to; `null` when the node takes none.
    pub store: Option<String>,
    /// The committed epoch the node resumed from when it started, if any.
    pub recovered_from: Option<u64>,
    /// The newest epoch known committed: in `epochs`, or else the one
    /// resumed from.
    pub last_committed: Option<u64>,
    /// The most recent epochs this node finished (up to 100), oldest first.
    pub epochs: Vec<EpochView>,
}

/// One finished snapshot epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochView {
    /// The epoch.
    pub epoch: u64,
    /// Committed or aborted.
    pub status: EpochStatus,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// From start to commit or abort, in milliseconds.
    pub duration_ms: u64,
    /// Bytes uploaded for it.
    pub bytes: u64,
    /// Objects uploaded for it.
    pub objects: u64,
    /// Bytes of in-flight messages its channel logs recorded.
    #[serde(default)]
    pub channel_log_bytes: u64,
    /// Why it was aborted, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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
