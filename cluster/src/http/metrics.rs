//! The process-wide Prometheus recorder and every metric the endpoint
//! exposes.
//!
//! The `metrics` facade has one global recorder per process, so it is
//! installed once (the first node with HTTP on installs it) and every node
//! of the process renders the same registry. Each series carries a `node`
//! label, so nodes sharing a process (tests, simulations) stay apart.
//!
//! The shard series are not updated on the shards' hot path: each scrape
//! reads the shards' counters (`Node::shard_stats`) and copies them into the
//! registry before rendering.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use cairn_core::{Registry, ShardCount, ShardStats};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics::{Label, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::routes::ROUTES;
use super::state::AppState;

/// Messages handled, per shard.
pub(crate) const MESSAGES_HANDLED: &str = "cairn_messages_handled_total";
/// Messages a shard sent to other shards.
pub(crate) const SENT_BETWEEN_SHARDS: &str = "cairn_messages_sent_between_shards_total";
/// Messages a shard received from other shards.
pub(crate) const RECEIVED_BETWEEN_SHARDS: &str = "cairn_messages_received_between_shards_total";
/// Messages no actor could take, per shard.
pub(crate) const DEAD_LETTERS: &str = "cairn_dead_letters_total";
/// Actors in memory, per shard.
pub(crate) const ACTIVE_ACTORS: &str = "cairn_active_actors";
/// Actors passivated, per shard.
pub(crate) const PASSIVATED_ACTORS: &str = "cairn_passivated_actors";
/// Messages queued in a shard.
pub(crate) const QUEUED_MESSAGES: &str = "cairn_queued_messages";
/// Timers pending in a shard.
pub(crate) const TIMERS_PENDING: &str = "cairn_timers_pending";
/// Members of the cluster seen alive by this node.
pub(crate) const MEMBERS_ALIVE: &str = "cairn_members_alive";
/// HTTP requests answered, by route and status.
pub(crate) const HTTP_REQUESTS: &str = "cairn_http_requests_total";
/// HTTP request latency, by route.
pub(crate) const HTTP_DURATION: &str = "cairn_http_request_duration_seconds";
/// Messages sent through HTTP ingress, by function type and message.
pub(crate) const INVOCATIONS: &str = "cairn_invocations_total";

/// Histogram buckets for durations in seconds: 100 µs to 30 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use. Fails if
/// another recorder was installed first.
pub(crate) fn recorder() -> Result<PrometheusHandle, String> {
    RECORDER
        .get_or_init(|| {
            // Every histogram gets explicit buckets, so none is exposed as a
            // summary.
            let handle = PrometheusBuilder::new()
                .set_buckets(SECONDS_BUCKETS)
                .map_err(|error| error.to_string())?
                .install_recorder()
                .map_err(|error| error.to_string())?;
            describe();
            Ok(handle)
        })
        .clone()
}

fn describe() {
    describe_counter!(MESSAGES_HANDLED, "Messages handled by a shard.");
    describe_counter!(
        SENT_BETWEEN_SHARDS,
        "Messages a shard sent to other shards."
    );
    describe_counter!(
        RECEIVED_BETWEEN_SHARDS,
        "Messages a shard received from other shards."
    );
    describe_counter!(
        DEAD_LETTERS,
        "Messages dropped because no actor could take them."
    );
    describe_gauge!(ACTIVE_ACTORS, "Actors in memory.");
    describe_gauge!(
        PASSIVATED_ACTORS,
        "Actors passivated, their state kept serialized."
    );
    describe_gauge!(
        QUEUED_MESSAGES,
        "Messages queued in a shard, not yet handled."
    );
    describe_gauge!(TIMERS_PENDING, "Timers set and not yet fired or cancelled.");
    describe_gauge!(MEMBERS_ALIVE, "Members of the cluster seen alive.");
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "HTTP request latency.");
    describe_counter!(INVOCATIONS, "Messages sent to actors through HTTP ingress.");
}

fn shard_labels(node: &str, shard: u32) -> Vec<Label> {
    vec![
        Label::new("node", node.to_owned()),
        Label::new("shard", shard.to_string()),
    ]
}

fn invocation_labels(node: &str, function: &str, message: &str) -> Vec<Label> {
    vec![
        Label::new("node", node.to_owned()),
        Label::new("function", function.to_owned()),
        Label::new("message", message.to_owned()),
    ]
}

/// Registers every series this node will have, at zero, so that the first
/// scrape lists them all.
pub(crate) fn register_at_zero(node: &str, shards: ShardCount, registry: &Registry) {
    for shard in shards.ids() {
        record_shard(
            node,
            &ShardStats {
                shard: shard.0,
                ..ShardStats::default()
            },
        );
    }
    gauge!(MEMBERS_ALIVE, "node" => node.to_owned()).set(1.0);
    for route in ROUTES {
        for status in route.statuses {
            counter!(HTTP_REQUESTS, "node" => node.to_owned(), "route" => route.name, "status" => status.to_string())
                .absolute(0);
        }
        let _registered =
            histogram!(HTTP_DURATION, "node" => node.to_owned(), "route" => route.name);
    }
    for function in registry.functions() {
        for message in function.messages() {
            let labels = invocation_labels(node, function.function_type().name(), message.name());
            counter!(INVOCATIONS, labels).absolute(0);
        }
    }
}

/// Copies one shard's counters into the registry.
fn record_shard(node: &str, stats: &ShardStats) {
    let labels = shard_labels(node, stats.shard);
    counter!(MESSAGES_HANDLED, labels.clone()).absolute(stats.messages_handled);
    counter!(SENT_BETWEEN_SHARDS, labels.clone()).absolute(stats.messages_sent_to_shards);
    counter!(RECEIVED_BETWEEN_SHARDS, labels.clone()).absolute(stats.messages_received_from_shards);
    counter!(DEAD_LETTERS, labels.clone()).absolute(stats.dead_letters);
    gauge!(ACTIVE_ACTORS, labels.clone()).set(stats.active_actors as f64);
    gauge!(PASSIVATED_ACTORS, labels.clone()).set(stats.passivated_actors as f64);
    gauge!(QUEUED_MESSAGES, labels.clone()).set(stats.queued_messages as f64);
    gauge!(TIMERS_PENDING, labels).set(stats.pending_timers as f64);
}

/// Copies every shard's counters into the registry, before a scrape.
pub(crate) fn record_shards(node: &str, stats: &[ShardStats]) {
    for shard in stats {
        record_shard(node, shard);
    }
}

/// Counts one message sent through HTTP ingress.
pub(crate) fn record_invocation(node: &str, function: &str, message: &str) {
    counter!(INVOCATIONS, invocation_labels(node, function, message)).increment(1);
}

/// Middleware: counts every request by route and status and times it.
///
/// The route label is the matched resource's name (`invoke`, `shards`, …),
/// or `unmatched`: a bounded set whatever the clients send.
pub(crate) async fn record_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let node = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.node_id.clone());
    let response = next.call(request).await?;
    if let Some(node) = node {
        let route = response.request().match_name().unwrap_or("unmatched");
        let route = ROUTES
            .iter()
            .find(|known| known.name == route)
            .map_or("unmatched", |known| known.name);
        let status = response.status().as_u16().to_string();
        counter!(HTTP_REQUESTS, "node" => node.clone(), "route" => route, "status" => status)
            .increment(1);
        histogram!(HTTP_DURATION, "node" => node, "route" => route)
            .record(started.elapsed().as_secs_f64());
    }
    Ok(response)
}
