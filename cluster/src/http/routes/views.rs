//! `/v1/cluster`, `/v1/shards` and `/v1/functions`: JSON views of the node.

use actix_web::{web, HttpResponse};
use cairn_core::ShardStats;

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::http::views::{
    ClusterMode, ClusterView, FunctionView, FunctionsView, MemberStatus, MemberView, ShardView,
    ShardsView,
};

/// `GET /v1/cluster`: the members as gossip tells them, the coordinator
/// and the shard map; a single node is the only member and its own
/// coordinator.
pub(crate) async fn cluster(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let node = state.node()?;
    if let Some(view) = node.cluster_view() {
        return Ok(HttpResponse::Ok().json(view));
    }
    let shard_count = node.shard_count().get();
    Ok(HttpResponse::Ok().json(ClusterView {
        mode: ClusterMode::SingleNode,
        node: state.node_id.clone(),
        coordinator: state.node_id.clone(),
        shard_count,
        members: vec![MemberView {
            id: state.node_id.clone(),
            http: state.addr.to_string(),
            status: MemberStatus::Alive,
            shards: shard_count,
            started_at_unix_secs: state.started_at_unix_secs,
            incarnation: None,
        }],
        generation: None,
        shard_owners: Vec::new(),
    }))
}

/// `GET /v1/shards`: the owner and counters of every shard this node runs
/// (all of them on a single node; a cluster member names itself by its
/// cluster address, and `/v1/cluster` lists every shard's owner).
pub(crate) async fn shards(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let node = state.node()?;
    let owner = node
        .cluster_view()
        .map_or_else(|| state.node_id.clone(), |cluster| cluster.node);
    let stats = node.shard_stats().await?;
    let shards = stats
        .iter()
        .map(|stats| shard_view(&owner, stats))
        .collect();
    Ok(HttpResponse::Ok().json(ShardsView { shards }))
}

fn shard_view(owner: &str, stats: &ShardStats) -> ShardView {
    ShardView {
        shard: stats.shard,
        owner: owner.to_owned(),
        active_actors: stats.active_actors as u64,
        passivated_actors: stats.passivated_actors as u64,
        queued_messages: stats.queued_messages as u64,
        pending_timers: stats.pending_timers as u64,
        messages_handled: stats.messages_handled,
        messages_sent_to_shards: stats.messages_sent_to_shards,
        messages_received_from_shards: stats.messages_received_from_shards,
        dead_letters: stats.dead_letters,
    }
}

/// `GET /v1/functions`: the registered function types, with their active
/// and passivated actors over every shard.
pub(crate) async fn functions(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let counts = state.node()?.function_counts().await?;
    let functions = state
        .node()?
        .registry()
        .functions()
        .into_iter()
        .map(|function| {
            let mut messages: Vec<String> = function
                .messages()
                .iter()
                .map(|message| message.name().to_owned())
                .collect();
            messages.sort_unstable();
            let name = function.function_type().name();
            let (active, passivated) = counts.iter().filter(|count| count.function == name).fold(
                (0, 0),
                |(active, passivated), count| {
                    (
                        active + count.active as u64,
                        passivated + count.passivated as u64,
                    )
                },
            );
            FunctionView {
                name: name.to_owned(),
                schema_hash: format!("{:#018x}", function.schema_hash()),
                messages,
                active,
                passivated,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(FunctionsView { functions }))
}
