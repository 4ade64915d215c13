//! The `Idempotency-Key` table of HTTP ingress.
//!
//! A bounded cache from key to the response the first request with that key
//! got. A retry within the time to live gets the stored response back (with
//! `Idempotent-Replayed: true`) and sends nothing; a retry that arrives
//! while the first request is still running waits for its response. The
//! table is per node and in memory: a restart, or more distinct keys than
//! the capacity, forgets keys, so delivery is at most once only within one
//! node's life until durable ingress exists.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{HeaderMap, HeaderName, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, ResponseError};
use quick_cache::sync::Cache;
use serde::Serialize;
use tokio::time::Instant;

use super::error::ApiError;

/// The request header that carries the key.
pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The response header set on a replayed response.
pub(crate) const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a key is remembered by default: 10 minutes.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(600);
/// How many keys are remembered at most by default.
pub(crate) const DEFAULT_CAPACITY: usize = 10_000;
/// The longest key accepted, in bytes.
const MAX_KEY_LEN: usize = 255;

/// A response as stored: status and JSON body.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

impl Reply {
    /// A JSON reply.
    pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self {
                status,
                body: body.into(),
            },
            Err(error) => Self::error(&ApiError::Internal(format!("cannot encode JSON: {error}"))),
        }
    }

    /// The reply of an error.
    pub(crate) fn error(error: &ApiError) -> Self {
        Self::json(error.status_code(), &error.body())
    }

    /// The reply as an HTTP response.
    pub(crate) fn to_response(&self, replayed: bool) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((CONTENT_TYPE, "application/json"));
        if replayed {
            response.insert_header((REPLAYED, "true"));
        }
        response.body(self.body.clone())
    }
}

/// One remembered response.
#[derive(Debug)]
struct Stored {
    /// A hash of what the request asked for, so that a key reused for
    /// another request is refused instead of answered with the wrong reply.
    fingerprint: u64,
    reply: Reply,
    at: Instant,
}

/// Responses remembered by `Idempotency-Key`.
pub(crate) struct IdempotencyTable {
    cache: Cache<String, Arc<Stored>>,
    ttl: Duration,
}

impl IdempotencyTable {
    /// A table of at most `capacity` keys, each kept for `ttl`.
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            cache: Cache::new(capacity),
            ttl,
        }
    }

    /// Answers the request `fingerprint` under `key`: the stored reply if
    /// the key was seen within the time to live, else `execute`'s reply,
    /// which is then stored.
    pub(crate) async fn run<F, Fut>(&self, key: &str, fingerprint: u64, execute: F) -> HttpResponse
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Reply>,
    {
        loop {
            match self.cache.get_value_or_guard_async(key).await {
                Ok(stored) if stored.at.elapsed() >= self.ttl => {
                    self.cache
                        .remove_if(key, |current| Arc::ptr_eq(current, &stored));
                }
                Ok(stored) if stored.fingerprint != fingerprint => {
                    return ApiError::IdempotencyKeyReused(key.to_owned()).error_response();
                }
                Ok(stored) => return stored.reply.to_response(true),
                Err(guard) => {
                    let reply = execute().await;
                    let response = reply.to_response(false);
                    let _ = guard.insert(Arc::new(Stored {
                        fingerprint,
                        reply,
                        at: Instant::now(),
                    }));
                    return response;
                }
            }
        }
    }
}

/// The request's `Idempotency-Key`, if it has one: 1 to 255 visible ASCII
/// characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::BadIdempotencyKey("Idempotency-Key must be visible ASCII"))?;
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ApiError::BadIdempotencyKey(
            "Idempotency-Key must have 1 to 255 characters",
        ));
    }
    Ok(Some(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn accepted() -> Reply {
        Reply::json(StatusCode::ACCEPTED, &"done")
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_is_executed_once_until_its_ttl_passes() {
        let table = IdempotencyTable::new(16, Duration::from_secs(60));
        let runs = AtomicU32::new(0);
        let execute = || async {
            runs.fetch_add(1, Ordering::SeqCst);
            accepted()
        };
        let first = table.run("k", 1, execute).await;
        let second = table.run("k", 1, execute).await;
        assert_eq!(first.status(), StatusCode::ACCEPTED);
        assert_eq!(second.status(), StatusCode::ACCEPTED);
        assert!(second.headers().contains_key(REPLAYED));
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        tokio::time::advance(Duration::from_secs(61)).await;
        let third = table.run("k", 1, execute).await;
        assert!(!third.headers().contains_key(REPLAYED));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_reused_for_another_request_is_refused() {
        let table = IdempotencyTable::new(16, DEFAULT_TTL);
        table.run("k", 1, || async { accepted() }).await;
        let reused = table.run("k", 2, || async { accepted() }).await;
        assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
