//! `/v1/snapshots`: the node's recent snapshot epochs.

use actix_web::{web, HttpResponse};

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::http::views::{EpochStatus, EpochView, SnapshotsView};

/// `GET /v1/snapshots`: the store, the epoch resumed from, and the recent
/// finished epochs, oldest first. A node without a store answers an empty
/// list and `"store": null`.
pub(crate) async fn snapshots(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let node = state.node()?;
    let history = node.snapshot_history();
    let recovered_from = node.recovered_from();
    let last_committed = history
        .iter()
        .rev()
        .find(|record| record.committed)
        .map(|record| record.epoch)
        .or(recovered_from);
    let epochs = history
        .into_iter()
        .map(|record| EpochView {
            epoch: record.epoch,
            status: if record.committed {
                EpochStatus::Committed
            } else {
                EpochStatus::Aborted
            },
            started_unix_ms: record.started_unix_ms,
            duration_ms: record.duration_ms,
            bytes: record.bytes,
            objects: record.objects as u64,
            channel_log_bytes: record.channel_log_bytes,
            error: record.error,
        })
        .collect();
    Ok(HttpResponse::Ok().json(SnapshotsView {
        store: node.store_url().map(str::to_owned),
        recovered_from,
        last_committed,
        epochs,
    }))
}
