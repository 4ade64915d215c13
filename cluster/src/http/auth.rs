//! Bearer-token protection.
//!
//! With a token set, invoke requires `Authorization: Bearer TOKEN`; so do
//! `/metrics` and the `/v1` views when reads are protected. The health
//! probes never do: orchestrators probe them without credentials.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use actix_web::middleware::Next;
use actix_web::web;

use super::error::ApiError;
use super::state::AppState;

/// Middleware: lets the request through if no token is set or it carries
/// the right one, and answers 401 otherwise.
pub(crate) async fn require_token(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let verdict = match request.app_data::<web::Data<AppState>>() {
        Some(state) => check(state.token.as_deref(), request.headers()),
        None => Err(ApiError::Internal(
            "the endpoint's state is missing; this is a bug".into(),
        )),
    };
    match verdict {
        Ok(()) => Ok(next.call(request).await?.map_into_left_body()),
        Err(error) => Ok(request.error_response(error).map_into_right_body()),
    }
}

/// Whether `headers` carry `token` as a bearer token.
fn check(token: Option<&str>, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = token else {
        return Ok(());
    };
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, credentials) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| credentials.trim())
        })
        .ok_or(ApiError::Unauthorized(
            "this route needs `Authorization: Bearer TOKEN`",
        ))?;
    if constant_time_eq(presented.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("the bearer token is not valid"))
    }
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell an attacker how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn headers(authorization: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn without_a_token_everything_passes() {
        assert!(check(None, &headers(None)).is_ok());
    }

    #[test]
    fn only_the_right_bearer_token_passes() {
        let token = Some("s3cret");
        assert!(check(token, &headers(Some("Bearer s3cret"))).is_ok());
        assert!(check(token, &headers(Some("bearer s3cret"))).is_ok());
        for wrong in [
            None,
            Some("Bearer s3cre"),
            Some("Basic s3cret"),
            Some("s3cret"),
        ] {
            assert!(check(token, &headers(wrong)).is_err(), "{wrong:?}");
        }
    }
}
