//! `/v1/actors` (a paged listing) and `/v1/actors/TYPE/ID` (one actor,
//! live or as of a committed epoch).

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use cairn_core::{ActorStatus, ActorSummary, Address, FunctionDescriptor};
use serde::Deserialize;

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::http::stored::{read_at_epoch, state_json};
use crate::http::target::{cursor, parse_actor_path, parse_cursor};
use crate::http::views::{ActorListItem, ActorStateView, ActorStatusView, ActorsView};

/// The page size without `limit`.
const DEFAULT_LIMIT: usize = 100;
/// The largest `limit` accepted.
const MAX_LIMIT: usize = 1000;

/// The query string of a listing.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    /// Only actors of this function type.
    #[serde(rename = "type")]
    function: Option<String>,
    /// At most this many actors.
    limit: Option<usize>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// The query string of one actor's view.
#[derive(Debug, Deserialize)]
pub(crate) struct ActorQuery {
    /// Read the state as of this committed epoch, from the store.
    epoch: Option<u64>,
}

/// `GET /v1/actors?type=T&limit=L&cursor=C`: up to `limit` actors, active
/// or passivated, in (type, id) order, after the cursor.
pub(crate) async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let function = match &query.function {
        Some(name) => Some(function(&state, name)?.function_type()),
        None => None,
    };
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
        Some(limit) => {
            return Err(ApiError::BadQuery(format!(
                "`limit` must be between 1 and {MAX_LIMIT}, not {limit}"
            )))
        }
    };
    let after = match &query.cursor {
        Some(raw) => {
            let (name, id) = parse_cursor(raw)?;
            let descriptor = state.node()?.registry().by_name(&name).ok_or_else(|| {
                ApiError::BadQuery(format!("`cursor` names an unknown function type `{name}`"))
            })?;
            Some(Address::new(descriptor.function_type(), id.as_str()))
        }
        None => None,
    };
    // One more than the page tells whether there is a next page.
    let mut page = state
        .node()?
        .list_actors(function, after, limit + 1)
        .await?;
    let next_cursor = if page.len() > limit {
        page.truncate(limit);
        page.last()
            .map(|last| cursor(last.address.function().name(), last.address.id().as_str()))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(ActorsView {
        actors: page.iter().map(list_item).collect(),
        next_cursor,
    }))
}

fn list_item(summary: &ActorSummary) -> ActorListItem {
    ActorListItem {
        address: summary.address.to_string(),
        function: summary.address.function().name().to_owned(),
        id: summary.address.id().as_str().to_owned(),
        shard: summary.shard.0,
        status: status_view(summary.status),
        queued_messages: summary.queued_messages as u64,
        idle_for_ms: summary
            .idle_for
            .map(|idle| u64::try_from(idle.as_millis()).unwrap_or(u64::MAX)),
    }
}

/// `GET /v1/actors/TYPE/ID`: the actor as its shard holds it now, never
/// activating it; `?epoch=E`: its state in committed epoch E.
pub(crate) async fn actor(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ActorQuery>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = parse_actor_path(request.path())?;
    let address = Address::new(function(&state, &name)?.function_type(), id.as_str());
    let view = match query.epoch {
        None => live(&state, address).await?,
        Some(epoch) => stored(&state, address, epoch).await?,
    };
    Ok(HttpResponse::Ok().json(view))
}

async fn live(state: &AppState, address: Address) -> Result<ActorStateView, ApiError> {
    let view = state.node()?.inspect_actor(address).await?;
    Ok(ActorStateView {
        address: view.address.to_string(),
        function: view.address.function().name().to_owned(),
        id: view.address.id().as_str().to_owned(),
        node: state.node_id.clone(),
        shard: view.shard.0,
        status: status_view(view.status),
        epoch: None,
        state: view.state,
        error: view.error,
        queued_messages: view.queued_messages as u64,
    })
}

async fn stored(
    state: &AppState,
    address: Address,
    epoch: u64,
) -> Result<ActorStateView, ApiError> {
    let store = state
        .node()?
        .store()
        .ok_or(ApiError::NoSnapshots("there is no epoch to read state at"))?;
    let stored = read_at_epoch(store, &address, epoch).await?;
    let (json, error) = match state_json(&stored.state) {
        Ok(json) => (Some(json), None),
        Err(error) => (None, Some(error)),
    };
    Ok(ActorStateView {
        address: address.to_string(),
        function: address.function().name().to_owned(),
        id: address.id().as_str().to_owned(),
        node: state.node_id.clone(),
        shard: address.shard(state.node()?.shard_count()).0,
        status: ActorStatusView::Stored,
        epoch: Some(epoch),
        state: json,
        error,
        queued_messages: stored.queued_messages,
    })
}

/// The registered function type named `name`, or 404.
fn function<'a>(state: &'a AppState, name: &str) -> Result<&'a Arc<FunctionDescriptor>, ApiError> {
    state
        .node()?
        .registry()
        .by_name(name)
        .ok_or_else(|| ApiError::UnknownFunctionType(name.to_owned()))
}

fn status_view(status: ActorStatus) -> ActorStatusView {
    match status {
        ActorStatus::Active => ActorStatusView::Active,
        ActorStatus::Passivated => ActorStatusView::Passivated,
        ActorStatus::Absent => ActorStatusView::Absent,
    }
}
