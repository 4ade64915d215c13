//! `POST /v1/invoke/TYPE/ID/MESSAGE`: HTTP ingress.
//!
//! The body is the message as JSON (an empty body is `null`, for unit
//! messages). Without `ask` the message is sent fire-and-forget and the
//! answer is 202; with `?ask=true` the answer is 200 and the handler's
//! reply as JSON, waited for up to the node's ask timeout or
//! `?timeout_ms=N`. Everything is checked — type, message name, body size,
//! JSON, the message's shape — before anything is sent.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use cairn_core::{Address, AskError, Payload};
use serde::Deserialize;

use crate::http::body::read_limited;
use crate::http::error::ApiError;
use crate::http::idempotency::{idempotency_key, Reply};
use crate::http::metrics::record_invocation;
use crate::http::state::AppState;
use crate::http::target::Target;
use crate::http::views::Accepted;

/// The longest `timeout_ms` accepted: 10 minutes.
const MAX_ASK_TIMEOUT: Duration = Duration::from_secs(600);

/// The query string of an invoke.
#[derive(Debug, Deserialize)]
pub(crate) struct InvokeQuery {
    /// `true` waits for the reply; absent or `false` sends and returns.
    ask: Option<String>,
    /// How long `ask=true` waits, in milliseconds.
    timeout_ms: Option<u64>,
}

/// Send, or ask and wait this long.
#[derive(Clone, Copy, Debug, Hash)]
enum Mode {
    Send,
    Ask(Duration),
}

impl Mode {
    fn from_query(query: &InvokeQuery, default_timeout: Duration) -> Result<Self, ApiError> {
        let ask = match query.ask.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ApiError::BadQuery(format!(
                    "`ask` must be `true` or `false`, not `{other}`"
                )))
            }
        };
        let timeout = match query.timeout_ms {
            Some(_) if !ask => {
                return Err(ApiError::BadQuery(
                    "`timeout_ms` applies only with `ask=true`".into(),
                ))
            }
            Some(ms) if Duration::from_millis(ms) > MAX_ASK_TIMEOUT || ms == 0 => {
                return Err(ApiError::BadQuery(format!(
                    "`timeout_ms` must be between 1 and {}",
                    MAX_ASK_TIMEOUT.as_millis()
                )))
            }
            Some(ms) => Duration::from_millis(ms),
            None => default_timeout,
        };
        Ok(if ask { Self::Ask(timeout) } else { Self::Send })
    }
}

/// `POST /v1/invoke/TYPE/ID/MESSAGE`.
pub(crate) async fn invoke(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<InvokeQuery>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let target = Target::parse(request.path())?;
    let function = state
        .node
        .registry()
        .by_name(&target.function)
        .ok_or_else(|| ApiError::UnknownFunctionType(target.function.clone()))?
        .clone();
    let message_type =
        *function
            .message(&target.message)
            .ok_or_else(|| ApiError::UnknownMessage {
                function: target.function.clone(),
                message: target.message.clone(),
                known: function
                    .messages()
                    .iter()
                    .map(|message| message.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
    let mode = Mode::from_query(&query, state.ask_timeout)?;
    let key = idempotency_key(request.headers())?;
    let bytes = read_limited(body, request.headers(), state.body_limit).await?;
    let value = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|error| ApiError::MalformedJson(error.to_string()))?
    };
    let payload = message_type
        .decode_json(value)
        .map_err(|error| ApiError::Decode {
            message: target.message.clone(),
            reason: error.to_string(),
        })?;
    let address = Address::new(function.function_type(), target.id.as_str());
    let delivery = Delivery {
        state: &state,
        address,
        payload,
        mode,
        message: message_type.name(),
    };
    Ok(match key {
        None => delivery.run().await.to_response(false),
        Some(key) => {
            let mut hasher = DefaultHasher::new();
            (&target, mode, &bytes[..]).hash(&mut hasher);
            state
                .idempotency
                .run(&key, hasher.finish(), || delivery.run())
                .await
        }
    })
}

/// A checked message, ready to go to its actor.
struct Delivery<'a> {
    state: &'a AppState,
    address: Address,
    payload: Payload,
    mode: Mode,
    message: &'static str,
}

impl Delivery<'_> {
    /// Sends or asks, and answers with the reply or the error as JSON.
    async fn run(self) -> Reply {
        let node = &self.state.node;
        let function = self.address.function().name();
        match self.mode {
            Mode::Send => {
                let shard = self.address.shard(node.shard_count()).0;
                let address = self.address.to_string();
                match node.send_payload(self.address, self.payload) {
                    Ok(()) => {
                        record_invocation(&self.state.node_id, function, self.message);
                        Reply::json(
                            StatusCode::ACCEPTED,
                            &Accepted {
                                address,
                                message: self.message.to_owned(),
                                shard,
                            },
                        )
                    }
                    Err(error) => Reply::error(&error.into()),
                }
            }
            Mode::Ask(timeout) => {
                let asked = node.ask_payload(self.address, self.payload, timeout).await;
                if !matches!(asked, Err(AskError::Send(_))) {
                    record_invocation(&self.state.node_id, function, self.message);
                }
                match asked {
                    Ok(reply) => match reply.to_json() {
                        Ok(json) => Reply::json(StatusCode::OK, &json),
                        Err(error) => Reply::error(&ApiError::Internal(format!(
                            "cannot encode the reply as JSON: {error}"
                        ))),
                    },
                    Err(error) => Reply::error(&error.into()),
                }
            }
        }
    }
}
