//! Why a request failed, and its JSON error body.

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use cairn_core::{AskError, Error};

use super::views::ErrorBody;

/// Why an HTTP request failed. Each variant has one status code and one
/// `kind` word in the JSON body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// No route has this path.
    #[error("no route for {0}")]
    NotFound(String),
    /// The route exists but not for this method.
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// The bearer token is missing or wrong.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The invoke path names no registered function type.
    #[error("no function type `{0}` is registered on this node")]
    UnknownFunctionType(String),
    /// The function type takes no message of this name.
    #[error("function type `{function}` takes no message named `{message}` (it takes: {known})")]
    UnknownMessage {
        function: String,
        message: String,
        known: String,
    },
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but not the message's shape.
    #[error("the body is not a `{message}`: {reason}")]
    Decode { message: String, reason: String },
    /// The body is larger than the limit.
    #[error("the body is larger than the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// The message is larger than a frame between nodes carries, and its
    /// actor runs on another node.
    #[error("the message takes {size} bytes encoded; a frame between nodes carries at most {max}")]
    MessageTooLarge { size: usize, max: usize },
    /// The body could not be read.
    #[error("cannot read the body: {0}")]
    BodyRead(String),
    /// A query parameter is invalid.
    #[error("{0}")]
    BadQuery(String),
    /// The `Idempotency-Key` header is invalid.
    #[error("{0}")]
    BadIdempotencyKey(&'static str),
    /// The key was used before for another request.
    #[error("Idempotency-Key `{0}` was already used for a different request")]
    IdempotencyKeyReused(String),
    /// The node is not ready.
    #[error("the node is not ready")]
    NotReady,
    /// The node is shutting down.
    #[error("the node is shutting down")]
    ShuttingDown,
    /// The actor did not reply in time.
    #[error("no reply within {0:?}")]
    AskTimeout(Duration),
    /// The handler ran without replying.
    #[error("{0}")]
    NoReply(String),
    /// The handler panicked.
    #[error("{0}")]
    HandlerPanicked(String),
    /// The node takes no snapshots (it was started without a store), so
    /// nothing durable or stored can be asked of it.
    #[error("this node takes no snapshots (it was started without a store): {0}")]
    NoSnapshots(&'static str),
    /// The store holds no committed manifest for this epoch.
    #[error("no committed snapshot epoch {0} in the store")]
    EpochNotFound(u64),
    /// The committed epoch holds no state for this actor.
    #[error("snapshot epoch {epoch} holds no state for {address}")]
    NotInSnapshot { address: String, epoch: u64 },
    /// The ask was forwarded to the node running the actor, and failed
    /// there or on the way.
    #[error("{0}")]
    Remote(String),
    /// The metrics recorder could not be installed.
    #[error("metrics are unavailable: {0}")]
    MetricsUnavailable(String),
    /// Anything else: a bug or an unexpected runtime error.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The stable word for the error in the JSON body.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::Unauthorized(_) => "unauthorized",
            Self::UnknownFunctionType(_) => "unknown_function_type",
            Self::UnknownMessage { .. } => "unknown_message",
            Self::MalformedJson(_) => "malformed_json",
            Self::Decode { .. } => "decode_failed",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::MessageTooLarge { .. } => "message_too_large",
            Self::BodyRead(_) => "body_unreadable",
            Self::BadQuery(_) => "bad_query",
            Self::BadIdempotencyKey(_) => "bad_idempotency_key",
            Self::IdempotencyKeyReused(_) => "idempotency_key_reused",
            Self::NotReady => "not_ready",
            Self::ShuttingDown => "shutting_down",
            Self::AskTimeout(_) => "ask_timeout",
            Self::NoReply(_) => "no_reply",
            Self::HandlerPanicked(_) => "handler_panicked",
            Self::NoSnapshots(_) => "no_snapshots",
            Self::EpochNotFound(_) => "epoch_not_found",
            Self::NotInSnapshot { .. } => "not_in_snapshot",
            Self::Remote(_) => "remote_failed",
            Self::MetricsUnavailable(_) => "metrics_unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The body of the error response.
    pub(crate) fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.to_string(),
            kind: self.kind().to_owned(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_)
            | Self::UnknownFunctionType(_)
            | Self::UnknownMessage { .. }
            | Self::EpochNotFound(_)
            | Self::NotInSnapshot { .. } => StatusCode::NOT_FOUND,
            Self::NoSnapshots(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::MalformedJson(_)
            | Self::Decode { .. }
            | Self::BodyRead(_)
            | Self::BadQuery(_)
            | Self::BadIdempotencyKey(_) => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge { .. } | Self::MessageTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::IdempotencyKeyReused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotReady | Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::AskTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::NoReply(_) | Self::Remote(_) => StatusCode::BAD_GATEWAY,
            Self::HandlerPanicked(_) | Self::MetricsUnavailable(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, Self::Unauthorized(_)) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(self.body())
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::ShuttingDown => Self::ShuttingDown,
            Error::NoSnapshots => Self::NoSnapshots("a durable ask waits for a commit"),
            Error::UnknownFunctionType(function) => Self::UnknownFunctionType(function),
            Error::MessageTooLarge { size, max } => Self::MessageTooLarge { size, max },
            Error::UnknownMessage { function, message } => Self::UnknownMessage {
                function,
                message,
                known: String::new(),
            },
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<AskError> for ApiError {
    fn from(error: AskError) -> Self {
        match error {
            AskError::Timeout { timeout, .. } => Self::AskTimeout(timeout),
            AskError::NoReply { .. } => Self::NoReply(error.to_string()),
            AskError::HandlerPanicked { .. } => Self::HandlerPanicked(error.to_string()),
            AskError::Send(error) => error.into(),
            AskError::Remote { .. } => Self::Remote(error.to_string()),
            AskError::ReplyType { .. } => Self::Internal(format!(
                "{error}; an untyped ask cannot mismatch: this is a bug"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message too large to cross to its actor's node is the client's
    /// to fix: 413, whether a send or an ask met it.
    #[test]
    fn a_message_too_large_for_a_frame_is_payload_too_large() {
        let too_large = Error::MessageTooLarge { size: 20, max: 10 };
        for error in [
            ApiError::from(too_large.clone()),
            ApiError::from(AskError::Send(too_large)),
        ] {
            assert_eq!(error.status_code(), StatusCode::PAYLOAD_TOO_LARGE);
            assert_eq!(error.kind(), "message_too_large");
        }
    }
}
