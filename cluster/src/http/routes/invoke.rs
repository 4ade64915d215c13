//! `POST /v1/invoke/TYPE/ID/MESSAGE`: HTTP ingress.
//!
//! The body is the message as JSON (an empty body is `null`, for unit
//! messages). Without `ask` the message is sent fire-and-forget and the
//! answer is 202; with `?ask=true` the answer is 200 and the handler's
//! reply as JSON, waited for up to the node's ask timeout or
//! `?timeout_ms=N`; with `?ask=durable` the same, but answered only once
//! the snapshot epoch holding the handler's effects has committed (409
//! `no_snapshots` on a node without a store). Everything is checked —
//! type, message name, body size, JSON, the message's shape, a store for a
//! durable ask — before anything is sent.

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
    /// `true` waits for the reply, `durable` for the reply and its commit;
    /// absent or `false` sends and returns.
    ask: Option<String>,
    /// How long `ask=true` or `ask=durable` waits, in milliseconds.
    timeout_ms: Option<u64>,
}

/// Send, or ask and wait this long for the reply (and its commit).
#[derive(Clone, Copy, Debug, Hash)]
enum Mode {
    Send,
    Ask(Duration),
    AskDurable(Duration),
}

impl Mode {
    fn from_query(query: &InvokeQuery, default_timeout: Duration) -> Result<Self, ApiError> {
        let (ask, durable) = match query.ask.as_deref() {
            None | Some("false") => (false, false),
            Some("true") => (true, false),
            Some("durable") => (true, true),
            Some(other) => {
                return Err(ApiError::BadQuery(format!(
                    "`ask` must be `true`, `durable` or `false`, not `{other}`"
                )))
            }
        };
        let timeout = match query.timeout_ms {
            Some(_) if !ask => {
                return Err(ApiError::BadQuery(
                    "`timeout_ms` applies only with `ask=true` or `ask=durable`".into(),
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
        Ok(match (ask, durable) {
            (false, _) => Self::Send,
            (true, false) => Self::Ask(timeout),
            (true, true) => Self::AskDurable(timeout),
        })
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
        .node()?
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
    if matches!(mode, Mode::AskDurable(_)) && !state.node()?.takes_snapshots() {
        return Err(ApiError::NoSnapshots("a durable ask waits for a commit"));
    }
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
        let node = match self.state.node() {
            Ok(node) => node,
            Err(error) => return Reply::error(&error),
        };
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
                answer(self.state, function, self.message, asked)
            }
            Mode::AskDurable(timeout) => {
                let asked = node
                    .ask_durable_payload(self.address, self.payload, timeout)
                    .await;
                answer(self.state, function, self.message, asked)
            }
        }
    }
}

/// The reply of an ask as JSON, or its error; counts the invocation if the
/// message reached the actor.
fn answer(
    state: &AppState,
    function: &str,
    message: &str,
    asked: Result<Payload, AskError>,
) -> Reply {
    if !matches!(asked, Err(AskError::Send(_))) {
        record_invocation(&state.node_id, function, message);
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
