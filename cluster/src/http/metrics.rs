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
//! registry before rendering. That includes the per function type message
//! counters ([`MESSAGES_DELIVERED`], [`MESSAGES_SENT`]), labelled by
//! `function` and `shard`: a shard counts them in a plain array indexed by
//! the registry's function index, and only the scrape formats labels. The
//! snapshot series are filled the same way, from `Node::snapshot_history`,
//! each finished epoch counted once.
//!
//! The per-function actor gauges are read the same way on each scrape
//! (`Node::function_counts`), every registered function type included, so
//! a type whose last actor went away reads 0 rather than a stale count.
//!
//! A few series have no `node` label, because `cairn-core` records them
//! itself and knows no node id: the handler latency histogram
//! ([`HANDLER_DURATION`]), with only a `function` label, and the ingress
//! series ([`INGRESS_RECORDS`], [`INGRESS_REJECTED`], [`INGRESS_IN_FLIGHT`]),
//! with only a `source` label, registered when the node's shards start
//! (so every configured source is listed from the first scrape). Nodes
//! sharing a process share them.
//!
//! The transport's series (`cairn_transport_*`) are registered at zero for
//! every node with an endpoint, whether or not a transport runs: a node
//! alone is a cluster of one that sends nothing to peers, and a dashboard
//! or an alert on reconnects should find the series from the first scrape
//! rather than an absent metric. They carry the same `node` label as the
//! rest of this registry.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use cairn_core::{
    FunctionCount, FunctionTraffic, Registry, ShardCount, ShardStats, HANDLER_DURATION,
    INGRESS_IN_FLIGHT, INGRESS_RECORDS, INGRESS_REJECTED, PROTOCOL_ERRORS,
};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics::{Label, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use parking_lot::Mutex;

use super::routes::ROUTES;
use super::state::AppState;

/// Messages handled by actors, per function type and shard.
pub(crate) const MESSAGES_DELIVERED: &str = "cairn_messages_delivered_total";
/// Messages handlers sent to actors, per function type (of the sender) and
/// shard.
pub(crate) const MESSAGES_SENT: &str = "cairn_messages_sent_total";
/// Messages a shard sent to other shards.
pub(crate) const SENT_BETWEEN_SHARDS: &str = "cairn_messages_sent_between_shards_total";
/// Messages a shard received from other shards.
pub(crate) const RECEIVED_BETWEEN_SHARDS: &str = "cairn_messages_received_between_shards_total";
/// Messages no actor could take, per shard.
pub(crate) const DEAD_LETTERS: &str = "cairn_dead_letters_total";
/// Times a shard stopped running turns for lack of credit, per shard.
pub(crate) const CREDIT_WAITS: &str = "cairn_shard_credit_waits_total";
/// Times a shard waited its whole patience for credit and ran on anyway,
/// per shard.
pub(crate) const CREDIT_OVERDRAFTS: &str = "cairn_shard_credit_overdrafts_total";
/// Actors in memory, per shard.
pub(crate) const ACTIVE_ACTORS: &str = "cairn_active_actors";
/// Actors passivated, per shard.
pub(crate) const PASSIVATED_ACTORS: &str = "cairn_passivated_actors";
/// Actors in memory, per function type.
pub(crate) const FUNCTION_ACTIVE_ACTORS: &str = "cairn_function_active_actors";
/// Actors passivated, per function type.
pub(crate) const FUNCTION_PASSIVATED_ACTORS: &str = "cairn_function_passivated_actors";
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
/// Actors activated, per shard.
pub(crate) const ACTIVATIONS: &str = "cairn_activations_total";
/// Actors passivated, per shard.
pub(crate) const PASSIVATIONS: &str = "cairn_passivations_total";
/// Egress records waiting for their epoch to commit, per shard.
pub(crate) const EGRESS_PENDING: &str = "cairn_egress_records_pending";
/// Egress records handed to their sinks, per shard.
pub(crate) const EGRESS_RELEASED: &str = "cairn_egress_records_released_total";
/// Snapshot epochs started.
pub(crate) const EPOCHS_STARTED: &str = "cairn_epochs_started_total";
/// Snapshot epochs committed.
pub(crate) const EPOCHS_COMMITTED: &str = "cairn_epochs_committed_total";
/// Snapshot epochs aborted.
pub(crate) const EPOCHS_ABORTED: &str = "cairn_epochs_aborted_total";
/// Snapshot epoch duration, start to commit or abort.
pub(crate) const EPOCH_DURATION: &str = "cairn_epoch_duration_seconds";
/// Bytes uploaded for snapshots.
pub(crate) const SNAPSHOT_BYTES: &str = "cairn_snapshot_bytes_total";
/// Bytes of in-flight messages recorded in channel logs.
pub(crate) const CHANNEL_LOG_BYTES: &str = "cairn_channel_log_bytes_total";
/// The newest committed epoch.
pub(crate) const LAST_COMMITTED_EPOCH: &str = "cairn_last_committed_epoch";
/// Seconds since the newest commit.
pub(crate) const LAST_COMMITTED_AGE: &str = "cairn_last_committed_epoch_age_seconds";
/// Times the node resumed from a committed snapshot.
pub(crate) const RECOVERIES: &str = "cairn_recoveries_total";

/// Histogram buckets for durations in seconds: 100 µs to 30 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

/// Histogram buckets for handler latency: 1 µs to 10 s, since most
/// handlers take microseconds.
const HANDLER_BUCKETS: &[f64] = &[
    0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
    0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Histogram buckets for snapshot epochs: 1 ms to 5 min, since an epoch
/// waits on every shard and on the store.
const EPOCH_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0,
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
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full(HANDLER_DURATION.into()),
                        HANDLER_BUCKETS,
                    )
                })
                .and_then(|builder| {
                    builder
                        .set_buckets_for_metric(Matcher::Full(EPOCH_DURATION.into()), EPOCH_BUCKETS)
                })
                .map_err(|error| error.to_string())?
                .install_recorder()
                .map_err(|error| error.to_string())?;
            describe();
            Ok(handle)
        })
        .clone()
}

fn describe() {
    describe_counter!(
        MESSAGES_DELIVERED,
        "Messages handled by actors of a function type on a shard (not dead letters)."
    );
    describe_counter!(
        MESSAGES_SENT,
        "Messages the handlers of a function type on a shard sent to actors."
    );
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
    describe_counter!(
        CREDIT_WAITS,
        "Times a shard stopped running turns: a shard it sends to had a full window unhandled."
    );
    describe_counter!(
        CREDIT_OVERDRAFTS,
        "Times a shard waited its whole patience for credit and ran on anyway."
    );
    describe_gauge!(ACTIVE_ACTORS, "Actors in memory.");
    describe_gauge!(
        PASSIVATED_ACTORS,
        "Actors passivated, their state kept serialized."
    );
    describe_gauge!(
        FUNCTION_ACTIVE_ACTORS,
        "Actors in memory, per function type."
    );
    describe_gauge!(
        FUNCTION_PASSIVATED_ACTORS,
        "Actors passivated, per function type."
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
    describe_counter!(
        ACTIVATIONS,
        "Actors of a function type activated by a shard."
    );
    describe_counter!(
        PASSIVATIONS,
        "Actors of a function type passivated by a shard."
    );
    describe_gauge!(
        EGRESS_PENDING,
        "Egress records waiting for their snapshot epoch to commit."
    );
    describe_counter!(EGRESS_RELEASED, "Egress records handed to their sinks.");
    describe_counter!(EPOCHS_STARTED, "Snapshot epochs started.");
    describe_counter!(EPOCHS_COMMITTED, "Snapshot epochs committed.");
    describe_counter!(EPOCHS_ABORTED, "Snapshot epochs aborted.");
    describe_histogram!(
        EPOCH_DURATION,
        Unit::Seconds,
        "Snapshot epoch duration, from start to commit or abort."
    );
    describe_counter!(SNAPSHOT_BYTES, Unit::Bytes, "Bytes uploaded for snapshots.");
    describe_counter!(
        CHANNEL_LOG_BYTES,
        Unit::Bytes,
        "Bytes of in-flight messages recorded in snapshot channel logs."
    );
    describe_gauge!(
        LAST_COMMITTED_EPOCH,
        "The newest committed snapshot epoch (0: none)."
    );
    describe_gauge!(
        LAST_COMMITTED_AGE,
        Unit::Seconds,
        "Seconds since the newest commit (since start before the first; 0 without a store)."
    );
    describe_counter!(
        RECOVERIES,
        "Times the node resumed from a committed snapshot."
    );
    describe_histogram!(
        HANDLER_DURATION,
        Unit::Seconds,
        "Handler latency, one handler in 64 timed; per process, no node label."
    );
    describe_gauge!(
        INGRESS_IN_FLIGHT,
        "Ingress records read and not yet handled, per source (flow control)."
    );
    describe_counter!(
        INGRESS_RECORDS,
        "Ingress records read and admitted, per source."
    );
    describe_counter!(
        INGRESS_REJECTED,
        "Ingress records the source's route refused and skipped."
    );
    describe_counter!(
        PROTOCOL_ERRORS,
        "Channel-order or snapshot-protocol violations shards found (each a bug); per process, no node label."
    );
    crate::transport::describe_transport_metrics();
}

fn shard_labels(node: &str, shard: u32) -> Vec<Label> {
    vec![
        Label::new("node", node.to_owned()),
        Label::new("shard", shard.to_string()),
    ]
}

fn function_shard_labels(node: &str, function: &str, shard: u32) -> Vec<Label> {
    vec![
        Label::new("node", node.to_owned()),
        Label::new("function", function.to_owned()),
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
    let functions: Vec<FunctionTraffic> = registry
        .functions()
        .into_iter()
        .map(|function| FunctionTraffic {
            function: function.function_type(),
            delivered: 0,
            sent: 0,
            activations: 0,
            passivations: 0,
        })
        .collect();
    for shard in shards.ids() {
        record_shard(
            node,
            &ShardStats {
                shard: shard.0,
                functions: functions.clone(),
                ..ShardStats::default()
            },
        );
    }
    gauge!(MEMBERS_ALIVE, "node" => node.to_owned()).set(1.0);
    crate::transport::register_transport_metrics(&crate::transport::NodeId::new(node));
    for route in ROUTES {
        for status in route.statuses {
            counter!(HTTP_REQUESTS, "node" => node.to_owned(), "route" => route.name, "status" => status.to_string())
                .absolute(0);
        }
        let _registered =
            histogram!(HTTP_DURATION, "node" => node.to_owned(), "route" => route.name);
    }
    for name in [
        EPOCHS_STARTED,
        EPOCHS_COMMITTED,
        EPOCHS_ABORTED,
        SNAPSHOT_BYTES,
        CHANNEL_LOG_BYTES,
    ] {
        counter!(name, "node" => node.to_owned()).absolute(0);
    }
    counter!(RECOVERIES, "node" => node.to_owned()).absolute(0);
    let _registered = histogram!(EPOCH_DURATION, "node" => node.to_owned());
    gauge!(LAST_COMMITTED_EPOCH, "node" => node.to_owned()).set(0.0);
    gauge!(LAST_COMMITTED_AGE, "node" => node.to_owned()).set(0.0);
    for function in registry.functions() {
        let _registered =
            histogram!(HANDLER_DURATION, "function" => function.function_type().name());
        record_function(node, function.function_type().name(), 0, 0);
        for message in function.messages() {
            let labels = invocation_labels(node, function.function_type().name(), message.name());
            counter!(INVOCATIONS, labels).absolute(0);
        }
    }
}

/// Counts the recovery the node started with, if it started from a
/// committed snapshot.
pub(crate) fn record_recovery(node: &str, recovered: bool) {
    counter!(RECOVERIES, "node" => node.to_owned()).absolute(u64::from(recovered));
}

/// Copies one shard's counters into the registry.
fn record_shard(node: &str, stats: &ShardStats) {
    for traffic in &stats.functions {
        let labels = function_shard_labels(node, traffic.function.name(), stats.shard);
        counter!(MESSAGES_DELIVERED, labels.clone()).absolute(traffic.delivered);
        counter!(MESSAGES_SENT, labels.clone()).absolute(traffic.sent);
        counter!(ACTIVATIONS, labels.clone()).absolute(traffic.activations);
        counter!(PASSIVATIONS, labels).absolute(traffic.passivations);
    }
    let labels = shard_labels(node, stats.shard);
    counter!(SENT_BETWEEN_SHARDS, labels.clone()).absolute(stats.messages_sent_to_shards);
    counter!(RECEIVED_BETWEEN_SHARDS, labels.clone()).absolute(stats.messages_received_from_shards);
    counter!(DEAD_LETTERS, labels.clone()).absolute(stats.dead_letters);
    counter!(CREDIT_WAITS, labels.clone()).absolute(stats.credit_waits);
    counter!(CREDIT_OVERDRAFTS, labels.clone()).absolute(stats.credit_overdrafts);
    gauge!(ACTIVE_ACTORS, labels.clone()).set(stats.active_actors as f64);
    gauge!(PASSIVATED_ACTORS, labels.clone()).set(stats.passivated_actors as f64);
    gauge!(QUEUED_MESSAGES, labels.clone()).set(stats.queued_messages as f64);
    gauge!(TIMERS_PENDING, labels.clone()).set(stats.pending_timers as f64);
    gauge!(EGRESS_PENDING, labels.clone()).set(stats.egress_pending as f64);
    counter!(EGRESS_RELEASED, labels).absolute(stats.egress_released);
}

/// Sets one function type's actor gauges.
fn record_function(node: &str, function: &str, active: usize, passivated: usize) {
    let labels = || {
        vec![
            Label::new("node", node.to_owned()),
            Label::new("function", function.to_owned()),
        ]
    };
    gauge!(FUNCTION_ACTIVE_ACTORS, labels()).set(active as f64);
    gauge!(FUNCTION_PASSIVATED_ACTORS, labels()).set(passivated as f64);
}

/// Sets `cairn_members_alive` from a cluster member's view (a single node
/// keeps the 1 it registered at start).
pub(crate) fn record_members(node: &str, cluster: &crate::http::views::ClusterView) {
    let alive = cluster
        .members
        .iter()
        .filter(|member| member.status == crate::http::views::MemberStatus::Alive)
        .count();
    gauge!(MEMBERS_ALIVE, "node" => node.to_owned()).set(alive as f64);
}

/// Copies the actor counts of every registered function type into the
/// registry, before a scrape; a type absent from `counts` has no actors.
pub(crate) fn record_functions(node: &str, registry: &Registry, counts: &[FunctionCount]) {
    for function in registry.functions() {
        let name = function.function_type().name();
        let (active, passivated) = counts
            .iter()
            .find(|count| count.function == name)
            .map_or((0, 0), |count| (count.active, count.passivated));
        record_function(node, name, active, passivated);
    }
}

/// Copies the counters of every shard running here into the registry,
/// before a scrape. A shard of `shards` that does not run here (it moved
/// to another member) holds nothing here: its gauges read 0, while its
/// counters keep what it did here.
pub(crate) fn record_shards(node: &str, shards: ShardCount, stats: &[ShardStats]) {
    for shard in stats {
        record_shard(node, shard);
    }
    for shard in shards.ids() {
        if !stats.iter().any(|running| running.shard == shard.0) {
            let labels = shard_labels(node, shard.0);
            for gauge in [
                ACTIVE_ACTORS,
                PASSIVATED_ACTORS,
                QUEUED_MESSAGES,
                TIMERS_PENDING,
                EGRESS_PENDING,
            ] {
                gauge!(gauge, labels.clone()).set(0.0);
            }
        }
    }
}

/// How much of the node's snapshot history the registry has seen.
#[derive(Debug, Default)]
pub(crate) struct EpochTally {
    /// The newest epoch counted so far.
    last_counted: Option<u64>,
    /// Epochs counted as finished (committed or aborted).
    finished: u64,
    /// The newest committed epoch and when it committed, in milliseconds
    /// since the Unix epoch.
    last_commit: Option<(u64, u64)>,
}

/// What a scrape knows of the node's snapshots.
pub(crate) struct SnapshotReading<'a> {
    /// Whether the node takes snapshots at all.
    pub(crate) takes_snapshots: bool,
    /// The epoch resumed from at start.
    pub(crate) recovered_from: Option<u64>,
    /// The recent finished epochs, oldest first.
    pub(crate) history: &'a [crate::EpochRecord],
    /// When the node started, in seconds since the Unix epoch.
    pub(crate) started_at_unix_secs: u64,
}

/// Copies the snapshot history into the registry: each epoch finished
/// since the last scrape is counted once (committed or aborted, its
/// duration and bytes); one in progress, seen as a shard having recorded a
/// newer epoch than the last finished one, counts as started.
///
/// Epochs are counted from the history, which keeps the last 100: more than
/// 100 finishing between two scrapes would go uncounted.
pub(crate) fn record_snapshots(
    node: &str,
    reading: &SnapshotReading<'_>,
    shards: &[ShardStats],
    tally: &Mutex<EpochTally>,
) {
    let mut tally = tally.lock();
    for record in reading.history {
        if tally.last_counted.is_some_and(|last| record.epoch <= last) {
            continue;
        }
        tally.last_counted = Some(record.epoch);
        tally.finished += 1;
        let outcome = if record.committed {
            tally.last_commit = Some((record.epoch, record.started_unix_ms + record.duration_ms));
            EPOCHS_COMMITTED
        } else {
            EPOCHS_ABORTED
        };
        counter!(outcome, "node" => node.to_owned()).increment(1);
        counter!(SNAPSHOT_BYTES, "node" => node.to_owned()).increment(record.bytes);
        counter!(CHANNEL_LOG_BYTES, "node" => node.to_owned()).increment(record.channel_log_bytes);
        histogram!(EPOCH_DURATION, "node" => node.to_owned())
            .record(record.duration_ms as f64 / 1000.0);
    }
    let finished_up_to = tally.last_counted.max(reading.recovered_from).unwrap_or(0);
    let in_progress = shards.iter().any(|shard| shard.epoch > finished_up_to);
    counter!(EPOCHS_STARTED, "node" => node.to_owned())
        .absolute(tally.finished + u64::from(in_progress));
    if !reading.takes_snapshots {
        return;
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    let (epoch, committed_at_ms) = match (tally.last_commit, reading.recovered_from) {
        (Some((epoch, at)), _) => (epoch, at),
        // Resumed, nothing committed since: the age counts from the start,
        // a lower bound (the manifest keeps no commit time).
        (None, Some(epoch)) => (epoch, reading.started_at_unix_secs * 1000),
        (None, None) => (0, reading.started_at_unix_secs * 1000),
    };
    gauge!(LAST_COMMITTED_EPOCH, "node" => node.to_owned()).set(epoch as f64);
    gauge!(LAST_COMMITTED_AGE, "node" => node.to_owned())
        .set(now_ms.saturating_sub(committed_at_ms) as f64 / 1000.0);
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
