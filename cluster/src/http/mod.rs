//! The node's HTTP endpoint: Prometheus metrics, JSON views of the node, and
//! HTTP ingress that sends messages to actors by their registered names.
//!
//! Off unless [`crate::NodeBuilder::http`] is given an address. The server
//! is actix-web with one worker, on a thread of its own with its own actix
//! system, so a slow client or a scrape never takes time from the shards'
//! tokio workers. [`crate::Node::shutdown`] stops it and joins the thread.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /healthz` | 200 while the node runs, 503 once it is shutting down |
//! | `GET /readyz` | 200 once the node has started (recovery included), 503 before and while stopping |
//! | `GET /metrics` | Prometheus text |
//! | `GET /v1/cluster` | [`views::ClusterView`] |
//! | `GET /v1/shards` | [`views::ShardsView`] |
//! | `GET /v1/functions` | [`views::FunctionsView`] |
//! | `GET /v1/actors?type=T&limit=L&cursor=C` | [`views::ActorsView`] |
//! | `GET /v1/actors/TYPE/ID[?epoch=E]` | [`views::ActorStateView`] |
//! | `GET /v1/snapshots` | [`views::SnapshotsView`] |
//! | `POST /v1/invoke/TYPE/ID/MESSAGE` | 202 [`views::Accepted`]; `?ask=true`: 200 and the reply; `?ask=durable`: the reply once its epoch committed |
//!
//! Every error is a JSON [`views::ErrorBody`]. A bearer token
//! ([`crate::NodeBuilder::http_token`]) protects invoke, and the read-only
//! views too with [`crate::NodeBuilder::http_protect_reads`]; the health
//! probes are always open.
//!
//! # Layout
//! - `server`: startup on its own thread, shutdown, the settings.
//! - `app`: the actix `App`: routes, middleware, extractor configuration.
//! - `routes`: one module per route family.
//! - `auth`: the bearer-token middleware.
//! - `metrics`: the process-wide Prometheus recorder and every metric name.
//! - `idempotency`: the `Idempotency-Key` table of HTTP ingress.
//! - `body`: reading a request body under the size limit.
//! - `target`: parsing invoke and actor paths, and listing cursors.
//! - `stored`: reading an actor's state at a committed epoch from the store.
//! - `error`: `ApiError`, rendered as a JSON error body.
//! - `state`: what every handler shares.
//! - [`views`]: the JSON bodies, shared with the `cairn` CLI.

mod app;
mod auth;
mod body;
mod error;
mod idempotency;
mod metrics;
mod routes;
mod server;
mod state;
mod stored;
mod target;
pub mod views;

pub(crate) use server::{HttpServer, HttpSettings};

/// The largest request body HTTP ingress takes by default: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;
