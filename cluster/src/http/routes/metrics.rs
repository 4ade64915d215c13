//! `/metrics`: Prometheus text.

use actix_web::{web, HttpResponse};

use crate::http::error::ApiError;
use crate::http::metrics::record_shards;
use crate::http::state::AppState;

/// The content type of the Prometheus text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`: reads the shards' counters into the registry, then
/// renders every metric of the process.
pub(crate) async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let handle = state
        .metrics
        .as_ref()
        .map_err(|reason| ApiError::MetricsUnavailable(reason.clone()))?;
    let stats = state.node.shard_stats().await?;
    record_shards(&state.node_id, &stats);
    let text = handle.render();
    Ok(HttpResponse::Ok().content_type(PROMETHEUS_TEXT).body(text))
}
