//! `/metrics`: Prometheus text.

use actix_web::{web, HttpResponse};

use crate::http::error::ApiError;
use crate::http::metrics::{
    record_functions, record_members, record_shards, record_snapshots, SnapshotReading,
};
use crate::http::state::AppState;

/// The content type of the Prometheus text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`: reads the shards' counters, the actor counts per
/// function type and the snapshot history into the registry, then renders
/// every metric of the process. While the node is still starting, the
/// series registered at start are rendered as they are.
pub(crate) async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let handle = state
        .metrics
        .as_ref()
        .map_err(|reason| ApiError::MetricsUnavailable(reason.clone()))?;
    if let Ok(node) = state.node() {
        let stats = node.shard_stats().await?;
        record_shards(&state.node_id, node.shard_count(), &stats);
        let functions = node.function_counts().await?;
        record_functions(&state.node_id, node.registry(), &functions);
        let history = node.snapshot_history();
        let reading = SnapshotReading {
            takes_snapshots: node.takes_snapshots(),
            recovered_from: node.recovered_from(),
            history: &history,
            started_at_unix_secs: state.started_at_unix_secs,
        };
        record_snapshots(&state.node_id, &reading, &stats, &state.epochs);
        if let Some(cluster) = node.cluster_view() {
            record_members(&state.node_id, &cluster);
        }
    }
    let text = handle.render();
    Ok(HttpResponse::Ok().content_type(PROMETHEUS_TEXT).body(text))
}
