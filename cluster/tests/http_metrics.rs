//! `/metrics`: Prometheus text, parsed with a Prometheus parser.

mod common;

use std::collections::BTreeMap;

use cairn::prelude::*;
use cairn::{FileSource, Ingress, ShardCount};
use common::{builder, samples, scalar, store_builder, sum, Add, Counter, Get, TestNode};
use prometheus_parse::Value;
use serde::{Deserialize, Serialize};

/// Tells a relay which counters to add 1 to.
#[derive(Debug, Serialize, Deserialize)]
struct Fan {
    counters: Vec<String>,
}

/// Adds 1 to each counter of a `Fan`, then asks the first for its count
/// with a `Get` sent as a message, so the counter's reply comes back as a
/// message too: a known number of messages sent by two function types.
#[stateful_function(name = "http/relay")]
#[derive(Debug, Default, Serialize, Deserialize)]
struct Relay {
    last_count: u64,
}

#[handlers]
impl Relay {
    fn fan(&self, ctx: &mut Context, msg: Fan) {
        for id in &msg.counters {
            ctx.send(Address::of::<Counter>(id.as_str()), Add { amount: 1 });
        }
        if let Some(first) = msg.counters.first() {
            ctx.send(Address::of::<Counter>(first.as_str()), Get);
        }
    }

    fn count(&mut self, _ctx: &mut Context, count: u64) {
        self.last_count = count;
    }
}

const SHARD_COUNTERS: &[&str] = &[
    "cairn_messages_sent_between_shards_total",
    "cairn_messages_received_between_shards_total",
    "cairn_dead_letters_total",
    "cairn_egress_records_released_total",
    "cairn_shard_credit_waits_total",
    "cairn_shard_credit_overdrafts_total",
];
const SHARD_GAUGES: &[&str] = &[
    "cairn_active_actors",
    "cairn_passivated_actors",
    "cairn_queued_messages",
    "cairn_timers_pending",
    "cairn_egress_records_pending",
];
const NODE_SERIES: &[&str] = &[
    "cairn_epochs_started_total",
    "cairn_epochs_committed_total",
    "cairn_epochs_aborted_total",
    "cairn_snapshot_bytes_total",
    "cairn_channel_log_bytes_total",
    "cairn_recoveries_total",
    "cairn_last_committed_epoch",
    "cairn_last_committed_epoch_age_seconds",
];

const TRANSPORT_COUNTERS: &[&str] = &[
    "cairn_transport_bytes_sent_total",
    "cairn_transport_bytes_received_total",
    "cairn_transport_frames_sent_total",
    "cairn_transport_frames_received_total",
    "cairn_transport_reconnects_total",
];
const FUNCTION_SHARD_COUNTERS: &[&str] = &[
    "cairn_messages_delivered_total",
    "cairn_messages_sent_total",
    "cairn_activations_total",
    "cairn_passivations_total",
];
const FUNCTION_GAUGES: &[&str] = &[
    "cairn_function_active_actors",
    "cairn_function_passivated_actors",
];

/// Right after start, a scrape lists every metric at zero: each shard
/// series for every shard, the message counters for every function type on
/// every shard, the HTTP series of every route, the invocation counter of
/// every registered message, the actor gauges of every function type, and
/// the transport series although a node alone runs no transport.
#[test]
fn every_metric_is_listed_at_zero_right_after_start() {
    let node = TestNode::start(builder(4));
    let all = node.scrape();
    for metric in SHARD_COUNTERS {
        let series = samples(&all, metric, &[]);
        assert_eq!(series.len(), 4, "{metric}: one series per shard");
        for sample in series {
            assert!(matches!(sample.value, Value::Counter(0.0)), "{sample:?}");
        }
    }
    for metric in SHARD_GAUGES {
        let series = samples(&all, metric, &[]);
        assert_eq!(series.len(), 4, "{metric}: one series per shard");
        for sample in series {
            assert!(matches!(sample.value, Value::Gauge(0.0)), "{sample:?}");
        }
    }
    for metric in FUNCTION_SHARD_COUNTERS {
        for function in ["http/counter", "http/greeter"] {
            let series = samples(&all, metric, &[("function", function)]);
            let mut shards: Vec<&str> = series
                .iter()
                .map(|sample| sample.labels.get("shard").expect("a shard label"))
                .collect();
            shards.sort_unstable();
            assert_eq!(shards, ["0", "1", "2", "3"], "{metric} {function}");
            for sample in series {
                assert!(matches!(sample.value, Value::Counter(0.0)), "{sample:?}");
            }
        }
    }
    for metric in NODE_SERIES {
        let series = samples(&all, metric, &[]);
        assert_eq!(series.len(), 1, "{metric}: one series per node");
        assert_eq!(scalar(series[0]), 0.0, "{metric}");
    }
    let epochs = samples(&all, "cairn_epoch_duration_seconds", &[]);
    assert_eq!(epochs.len(), 1);
    assert!(
        matches!(epochs[0].value, Value::Histogram(_)),
        "{:?}",
        epochs[0]
    );
    for function in ["http/counter", "http/greeter"] {
        let process = node.scrape_all();
        let handler = samples(
            &process,
            "cairn_handler_duration_seconds",
            &[("function", function)],
        );
        assert_eq!(handler.len(), 1, "{function}");
        assert!(
            matches!(handler[0].value, Value::Histogram(_)),
            "{:?}",
            handler[0]
        );
        assert!(!handler[0].labels.contains_key("node"));
    }
    for metric in TRANSPORT_COUNTERS {
        let series = samples(&all, metric, &[]);
        assert_eq!(series.len(), 1, "{metric}: one series per node");
        assert!(
            matches!(series[0].value, Value::Counter(0.0)),
            "{:?}",
            series[0]
        );
    }
    let refused = samples(&all, "cairn_transport_connections_refused_total", &[]);
    assert_eq!(
        refused.len(),
        cairn::transport::Refusal::ALL.len(),
        "one series per reason: {refused:?}"
    );
    for sample in &refused {
        assert!(sample.labels.get("reason").is_some(), "{sample:?}");
        assert!(matches!(sample.value, Value::Counter(0.0)), "{sample:?}");
    }
    for metric in FUNCTION_GAUGES {
        for function in ["http/counter", "http/greeter"] {
            let series = samples(&all, metric, &[("function", function)]);
            assert_eq!(series.len(), 1, "{metric} {function}");
            assert!(
                matches!(series[0].value, Value::Gauge(0.0)),
                "{:?}",
                series[0]
            );
        }
    }
    let alive = samples(&all, "cairn_members_alive", &[]);
    assert_eq!(alive.len(), 1);
    assert_eq!(scalar(alive[0]), 1.0);
    for route in ["cluster", "shards", "functions", "healthz", "readyz"] {
        let requests = samples(
            &all,
            "cairn_http_requests_total",
            &[("route", route), ("status", "200")],
        );
        assert_eq!(requests.len(), 1, "{route}");
        assert_eq!(scalar(requests[0]), 0.0, "{route}");
    }
    let invoke = samples(
        &all,
        "cairn_http_requests_total",
        &[("route", "invoke"), ("status", "202")],
    );
    assert_eq!(scalar(invoke[0]), 0.0);
    for (function, message) in [
        ("http/counter", "Add"),
        ("http/counter", "Get"),
        ("http/greeter", "greet"),
    ] {
        let invocations = samples(
            &all,
            "cairn_invocations_total",
            &[("function", function), ("message", message)],
        );
        assert_eq!(invocations.len(), 1, "{function} {message}");
        assert_eq!(scalar(invocations[0]), 0.0);
    }
    let durations = samples(
        &all,
        "cairn_http_request_duration_seconds",
        &[("route", "invoke")],
    );
    assert_eq!(durations.len(), 1);
    let Value::Histogram(buckets) = &durations[0].value else {
        panic!("not a histogram: {:?}", durations[0]);
    };
    assert!(buckets.len() > 5, "explicit buckets: {buckets:?}");
    assert!(buckets.iter().all(|bucket| bucket.count == 0.0));
}

/// Counters move with traffic: ten adds and a greeting through HTTP
/// ingress show up as handled messages, active actors per function type,
/// invocations, 202 and 200 requests and latency samples.
#[test]
fn counters_move_with_traffic() {
    let node = TestNode::start(builder(4));
    for i in 0..10 {
        let answer = node.post(
            &format!("/v1/invoke/http/counter/c{i}/Add"),
            r#"{"amount": 1}"#,
        );
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    node.flush();
    let greeting = node.post(
        "/v1/invoke/http/greeter/g/greet?ask=true",
        r#"{"name": "x"}"#,
    );
    assert_eq!(greeting.status, 200, "{}", greeting.body);
    let all = node.scrape();
    assert_eq!(sum(&all, "cairn_messages_delivered_total", &[]), 11.0);
    assert_eq!(sum(&all, "cairn_active_actors", &[]), 11.0);
    assert_eq!(
        sum(
            &all,
            "cairn_function_active_actors",
            &[("function", "http/counter")]
        ),
        10.0
    );
    assert_eq!(
        sum(
            &all,
            "cairn_function_active_actors",
            &[("function", "http/greeter")]
        ),
        1.0
    );
    assert_eq!(sum(&all, "cairn_queued_messages", &[]), 0.0);
    assert_eq!(
        sum(
            &all,
            "cairn_invocations_total",
            &[("function", "http/counter"), ("message", "Add")]
        ),
        10.0
    );
    assert_eq!(
        sum(
            &all,
            "cairn_http_requests_total",
            &[("route", "invoke"), ("status", "202")]
        ),
        10.0
    );
    assert_eq!(
        sum(
            &all,
            "cairn_http_requests_total",
            &[("route", "invoke"), ("status", "200")]
        ),
        1.0
    );
    assert_eq!(
        sum(
            &all,
            "cairn_invocations_total",
            &[("function", "http/greeter"), ("message", "greet")]
        ),
        1.0
    );
    let durations = samples(
        &all,
        "cairn_http_request_duration_seconds",
        &[("route", "invoke")],
    );
    let Value::Histogram(buckets) = &durations[0].value else {
        panic!("not a histogram: {:?}", durations[0]);
    };
    let infinite = buckets
        .iter()
        .find(|bucket| bucket.less_than.is_infinite())
        .expect("a +Inf bucket");
    // Ten adds and the greeting.
    assert_eq!(infinite.count, 11.0);
    let count = samples(
        &all,
        "cairn_http_request_duration_seconds_count",
        &[("route", "invoke")],
    );
    assert_eq!(scalar(count[0]), 11.0);

    let unknown = node.post("/v1/invoke/http/nothing/1/Add", "{}");
    assert_eq!(unknown.status, 404);
    let all = node.scrape();
    assert_eq!(
        sum(
            &all,
            "cairn_http_requests_total",
            &[("route", "invoke"), ("status", "404")]
        ),
        1.0
    );
    assert!(sum(&all, "cairn_http_requests_total", &[("route", "metrics")]) >= 1.0);
}

/// An ingress source is listed from the first scrape, by its `source`
/// label, and its counters move with the records: every good line admitted,
/// the bad one rejected, none left in flight once all are handled.
#[test]
fn ingress_series_are_listed_and_move_with_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adds.txt");
    let lines: String = (0..20).map(|i| format!("a{}\n", i % 4)).collect();
    std::fs::write(&path, format!("{lines}not a record\n")).unwrap();
    let ingress = Ingress::new(
        "metrics-adds",
        FileSource::open(&path, 2).unwrap(),
        |line: &[u8]| {
            let id = std::str::from_utf8(line).map_err(|error| error.to_string())?;
            if !id.starts_with('a') {
                return Err(format!("not a counter id: {id}"));
            }
            Ok((Address::of::<Counter>(id), Add { amount: 1 }))
        },
    );
    let node = TestNode::start(builder(4).ingress(ingress));
    let source = [("source", "metrics-adds")];
    let first = node.scrape_all();
    for metric in [
        "cairn_ingress_records_total",
        "cairn_ingress_records_rejected_total",
        "cairn_ingress_records_in_flight",
    ] {
        assert_eq!(samples(&first, metric, &source).len(), 1, "{metric}");
    }
    node.runtime.block_on(async {
        while !node.node.ingress_finished().await.expect("the node runs") {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    node.flush();
    let all = node.scrape_all();
    assert_eq!(sum(&all, "cairn_ingress_records_total", &source), 20.0);
    assert_eq!(
        sum(&all, "cairn_ingress_records_rejected_total", &source),
        1.0
    );
    assert_eq!(sum(&all, "cairn_ingress_records_in_flight", &source), 0.0);
    assert_eq!(
        (0..4).map(|i| node.count(&format!("a{i}"))).sum::<u64>(),
        20
    );
}

/// The scrape is in the Prometheus text format, with its content type.
#[test]
fn metrics_are_served_as_prometheus_text() {
    let node = TestNode::start(builder(2));
    let response = ureq::get(node.url("/metrics")).call().expect("an answer");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.into_body().read_to_string().expect("a body");
    assert!(text.contains("# TYPE cairn_http_request_duration_seconds histogram"));
    assert!(text.contains("# TYPE cairn_messages_delivered_total counter"));
    assert!(text.contains("# TYPE cairn_messages_sent_total counter"));
    assert!(text.contains("# TYPE cairn_active_actors gauge"));
}

/// The count of a histogram's `+Inf` bucket.
fn histogram_count(sample: &prometheus_parse::Sample) -> f64 {
    let Value::Histogram(buckets) = &sample.value else {
        panic!("not a histogram: {sample:?}");
    };
    buckets
        .iter()
        .find(|bucket| bucket.less_than.is_infinite())
        .expect("a +Inf bucket")
        .count
}

/// Activations move with traffic and the handler histogram gets samples;
/// two snapshots count as two started and committed epochs with their
/// bytes, durations and last committed epoch; a node restarted on the store
/// counts one recovery.
#[test]
fn activations_and_epochs_move_with_traffic_and_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let second = {
        let node = TestNode::start(store_builder(4, dir.path()));
        for i in 0..5 {
            node.node
                .send(Address::of::<Counter>(format!("m{i}")), Add { amount: 1 })
                .unwrap();
        }
        // One handler in 64 per shard is timed: enough on one shard for two.
        for _ in 0..128 {
            node.node
                .send(Address::of::<Counter>("m0"), Add { amount: 1 })
                .unwrap();
        }
        node.flush();
        let all = node.scrape();
        assert_eq!(sum(&all, "cairn_activations_total", &[]), 5.0);
        assert_eq!(
            sum(
                &all,
                "cairn_activations_total",
                &[("function", "http/counter")]
            ),
            5.0,
            "activations carry their function type"
        );
        assert_eq!(sum(&all, "cairn_passivations_total", &[]), 0.0);
        let process = node.scrape_all();
        let handler = samples(
            &process,
            "cairn_handler_duration_seconds",
            &[("function", "http/counter")],
        );
        assert!(histogram_count(handler[0]) >= 1.0, "{:?}", handler[0]);

        node.snapshot();
        let second = node.snapshot();
        let all = node.scrape();
        assert_eq!(sum(&all, "cairn_epochs_started_total", &[]), 2.0);
        assert_eq!(sum(&all, "cairn_epochs_committed_total", &[]), 2.0);
        assert_eq!(sum(&all, "cairn_epochs_aborted_total", &[]), 0.0);
        assert!(sum(&all, "cairn_snapshot_bytes_total", &[]) > 0.0);
        assert_eq!(sum(&all, "cairn_last_committed_epoch", &[]), second as f64);
        let age = sum(&all, "cairn_last_committed_epoch_age_seconds", &[]);
        assert!((0.0..60.0).contains(&age), "{age}");
        let durations = samples(&all, "cairn_epoch_duration_seconds", &[]);
        assert_eq!(histogram_count(durations[0]), 2.0);
        // A second scrape counts nothing twice.
        let again = node.scrape();
        assert_eq!(sum(&again, "cairn_epochs_committed_total", &[]), 2.0);
        let durations = samples(&again, "cairn_epoch_duration_seconds", &[]);
        assert_eq!(histogram_count(durations[0]), 2.0);
        assert_eq!(sum(&again, "cairn_recoveries_total", &[]), 0.0);
        second
    };

    let restarted = TestNode::start(store_builder(4, dir.path()));
    let all = restarted.scrape();
    assert_eq!(sum(&all, "cairn_recoveries_total", &[]), 1.0);
    assert_eq!(sum(&all, "cairn_last_committed_epoch", &[]), second as f64);
    assert_eq!(sum(&all, "cairn_epochs_started_total", &[]), 0.0);
}

/// Messages delivered and sent per (function type, shard) in one scrape of
/// this node; series missing from the scrape are absent from the map.
fn traffic(all: &[prometheus_parse::Sample]) -> BTreeMap<(String, String), (f64, f64)> {
    let mut traffic = BTreeMap::new();
    for (metric, sent) in [
        ("cairn_messages_delivered_total", false),
        ("cairn_messages_sent_total", true),
    ] {
        for sample in samples(all, metric, &[]) {
            let key = (
                sample
                    .labels
                    .get("function")
                    .expect("a function")
                    .to_owned(),
                sample.labels.get("shard").expect("a shard").to_owned(),
            );
            let entry = traffic.entry(key).or_insert((0.0, 0.0));
            if sent {
                entry.1 = scalar(sample);
            } else {
                entry.0 = scalar(sample);
            }
        }
    }
    traffic
}

/// Two fans through HTTP ingress, each adding to three counters and
/// getting the first one's count back as a message, and one greeting
/// asked from outside: every (function type, shard) series of delivered
/// and sent messages moves by exactly that traffic, on the shard of the
/// actor that handled or sent it, and every other series stays at zero.
#[test]
fn messages_delivered_and_sent_are_counted_per_function_and_shard() {
    let node = TestNode::start(builder(4).register::<Relay>());
    let before = traffic(&node.scrape());
    assert_eq!(
        before.len(),
        3 * 4,
        "every function on every shard: {before:?}"
    );
    assert!(before.values().all(|counts| *counts == (0.0, 0.0)));

    for _ in 0..2 {
        let answer = node.post(
            "/v1/invoke/http/relay/r/Fan",
            r#"{"counters": ["a", "b", "c"]}"#,
        );
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    let greeting = node.post(
        "/v1/invoke/http/greeter/g/greet?ask=true",
        r#"{"name": "x"}"#,
    );
    assert_eq!(greeting.status, 200, "{}", greeting.body);
    node.flush();

    let shards = ShardCount::new(4).unwrap();
    let shard_of = |address: Address| address.shard(shards).0.to_string();
    let mut expected = before;
    let mut add = |function: &str, address: Address, delivered: f64, sent: f64| {
        let counts = expected
            .get_mut(&(function.to_owned(), shard_of(address)))
            .expect("registered at zero");
        counts.0 += delivered;
        counts.1 += sent;
    };
    // Each fan: the relay handles it and sends three adds and a get; the
    // first counter's reply comes back to the relay as a message.
    add(
        "http/relay",
        Address::of::<Relay>("r"),
        2.0 + 2.0,
        2.0 * 4.0,
    );
    add("http/counter", Address::of::<Counter>("a"), 2.0 * 2.0, 2.0);
    add("http/counter", Address::of::<Counter>("b"), 2.0, 0.0);
    add("http/counter", Address::of::<Counter>("c"), 2.0, 0.0);
    // The greeting's reply completes an ask from outside: not a message.
    add(
        "http/greeter",
        Address::of::<common::Greeter>("g"),
        1.0,
        0.0,
    );
    assert_eq!(traffic(&node.scrape()), expected);
    assert_eq!(node.count("a"), 2);
}
