//! `/healthz` and `/readyz`.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::http::error::ApiError;
use crate::http::state::{AppState, Phase};

/// `GET /healthz`: 200 while the node runs, 503 once it is stopping.
pub(crate) async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.phase.get() {
        Phase::Starting | Phase::Ready => Ok(HttpResponse::Ok().json(json!({ "status": "ok" }))),
        Phase::Stopping => Err(ApiError::ShuttingDown),
    }
}

/// `GET /readyz`: 200 once the node has started, 503 before that and once
/// it is stopping. `NodeBuilder::start` marks the node ready only after
/// recovery from the store (if any) is done, so ready means recovered.
pub(crate) async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.phase.get() {
        Phase::Ready => Ok(HttpResponse::Ok().json(json!({ "status": "ready" }))),
        Phase::Starting => Err(ApiError::NotReady),
        Phase::Stopping => Err(ApiError::ShuttingDown),
    }
}
