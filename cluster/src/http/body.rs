//! Reading a request body under a size limit.

use actix_web::http::header::{HeaderMap, CONTENT_LENGTH};
use actix_web::web::{self, Bytes, BytesMut};
use futures_util::StreamExt;

use super::error::ApiError;

/// How far past the limit a body is still read (and thrown away) before the
/// 413 is sent: a client that is still writing when the server answers gets
/// a reset connection instead of the error, so modest overruns are drained.
const DRAIN_FACTOR: u64 = 4;

/// Reads the whole body, or fails with `BodyTooLarge` if it has more than
/// `limit` bytes. Bodies declared (by `Content-Length`) far larger than the
/// limit are refused without reading them.
pub(crate) async fn read_limited(
    mut payload: web::Payload,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let limit = limit as u64;
    let drain_limit = limit.saturating_mul(DRAIN_FACTOR);
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|declared| declared > drain_limit) {
        return Err(too_large(limit));
    }
    let mut body = BytesMut::new();
    let mut seen = 0u64;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| ApiError::BodyRead(error.to_string()))?;
        seen += chunk.len() as u64;
        if seen > drain_limit {
            break;
        }
        if seen <= limit {
            body.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(too_large(limit));
    }
    Ok(body.freeze())
}

fn too_large(limit: u64) -> ApiError {
    ApiError::BodyTooLarge {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    }
}
