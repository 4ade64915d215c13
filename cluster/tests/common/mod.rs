//! What the HTTP tests share: test functions, and a node with its endpoint
//! on a loopback port, driven from a plain test thread through a real
//! blocking HTTP client.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use cairn::prelude::*;
use cairn::NodeBuilder;
use serde::{Deserialize, Serialize};

/// Adds to a counter.
#[derive(Debug, Serialize, Deserialize)]
pub struct Add {
    /// How much.
    pub amount: u64,
}

/// Asks a counter for its count.
#[derive(Debug, Serialize, Deserialize)]
pub struct Get;

/// Handled without a reply.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ignore;

/// Makes the handler panic.
#[derive(Debug, Serialize, Deserialize)]
pub struct Explode;

/// Blocks the handler for a while, then replies with the count.
#[derive(Debug, Serialize, Deserialize)]
pub struct Dawdle {
    /// How long, in milliseconds.
    pub millis: u64,
}

/// A counter: adds, answers its count, and misbehaves on request.
#[stateful_function(name = "http/counter")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Counter {
    /// The sum of every `Add`.
    pub count: u64,
}

#[handlers]
impl Counter {
    fn add(&mut self, _ctx: &mut Context, msg: Add) {
        self.count += msg.amount;
    }

    fn get(&self, ctx: &mut Context, _msg: Get) {
        ctx.reply(self.count);
    }

    fn ignore(&self, _ctx: &mut Context, _msg: Ignore) {}

    fn explode(&self, _ctx: &mut Context, _msg: Explode) {
        panic!("asked to explode");
    }

    fn dawdle(&self, ctx: &mut Context, msg: Dawdle) {
        std::thread::sleep(Duration::from_millis(msg.millis));
        ctx.reply(self.count);
    }
}

/// Asks a greeter to greet someone.
#[derive(Debug, Serialize, Deserialize)]
pub struct Greet {
    /// Whom.
    pub name: String,
}

/// A greeter's answer.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Greeting {
    /// The greeting.
    pub text: String,
    /// How many greetings this greeter has made, this one included.
    pub number: u64,
}

/// Greets by name and counts its greetings.
#[stateful_function(name = "http/greeter")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Greeter {
    /// Greetings made.
    pub greeted: u64,
}

#[handlers]
impl Greeter {
    #[message(name = "greet")]
    fn greet(&mut self, ctx: &mut Context, msg: Greet) {
        self.greeted += 1;
        ctx.reply(Greeting {
            text: format!("hello, {} from {}", msg.name, ctx.self_id()),
            number: self.greeted,
        });
    }
}

/// A node serving HTTP on a loopback port, with the tokio runtime its
/// shards run on. Dropping it shuts the node down.
pub struct TestNode {
    pub runtime: tokio::runtime::Runtime,
    pub node: Node,
    pub addr: SocketAddr,
    agent: ureq::Agent,
}

/// An HTTP answer: status, headers of interest, body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub replayed: bool,
    pub www_authenticate: Option<String>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// The `kind` of a JSON error body.
    pub fn kind(&self) -> String {
        self.json()["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("no kind in {}", self.body))
            .to_owned()
    }
}

/// Both test functions, on a node with `shards` shards.
pub fn builder(shards: u32) -> NodeBuilder {
    Node::builder()
        .shards(shards)
        .register::<Counter>()
        .register::<Greeter>()
}

/// Both test functions, on a node with `shards` shards that snapshots to an
/// fs store in `dir`, only on demand.
pub fn store_builder(shards: u32, dir: &std::path::Path) -> NodeBuilder {
    builder(shards)
        .store(store_url(dir))
        .snapshot_interval(None)
}

/// The URL of an fs store in `dir`.
pub fn store_url(dir: &std::path::Path) -> String {
    format!("fs://{}", dir.display())
}

impl TestNode {
    /// Takes a snapshot now and returns its committed epoch.
    pub fn snapshot(&self) -> u64 {
        self.runtime
            .block_on(self.node.snapshot_now())
            .expect("the snapshot commits")
    }

    /// Starts `builder`'s node with HTTP on 127.0.0.1, port 0.
    pub fn start(builder: NodeBuilder) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let node = runtime
            .block_on(builder.http("127.0.0.1:0".parse().unwrap()).start())
            .expect("the node starts");
        let addr = node.http_addr().expect("the node serves HTTP");
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Self {
            runtime,
            node,
            addr,
            agent,
        }
    }

    /// The URL of `path` on this node.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Answer {
        self.get_with(path, &[])
    }

    /// `GET path` with extra headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.agent.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.call().expect("the node answers"))
    }

    /// `POST path` with `body`.
    pub fn post(&self, path: &str, body: &str) -> Answer {
        self.post_with(path, body, &[])
    }

    /// `POST path` with `body` and extra headers.
    pub fn post_with(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .agent
            .post(self.url(path))
            .header("Content-Type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.send(body).expect("the node answers"))
    }

    /// Waits until everything sent so far has been handled.
    pub fn flush(&self) {
        self.runtime.block_on(self.node.flush()).expect("flush");
    }

    /// Asks counter `id` for its count, bypassing HTTP.
    pub fn count(&self, id: &str) -> u64 {
        self.runtime
            .block_on(self.node.ask(Address::of::<Counter>(id), Get))
            .expect("the counter answers")
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.runtime.block_on(self.node.shutdown());
    }
}

fn answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let replayed = header("idempotent-replayed").as_deref() == Some("true");
    let www_authenticate = header("www-authenticate");
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .expect("a readable body");
    Answer {
        status,
        body,
        replayed,
        www_authenticate,
    }
}

impl TestNode {
    /// This node's id, the `node` label of its metrics.
    pub fn id(&self) -> String {
        self.addr.to_string()
    }

    /// Scrapes `/metrics` and parses it, keeping this node's samples.
    pub fn scrape(&self) -> Vec<prometheus_parse::Sample> {
        let id = self.id();
        self.scrape_all()
            .into_iter()
            .filter(|sample| sample.labels.get("node") == Some(id.as_str()))
            .collect()
    }

    /// Scrapes `/metrics` and parses it, keeping every sample of the
    /// process (some series, like handler latency, have no `node` label).
    pub fn scrape_all(&self) -> Vec<prometheus_parse::Sample> {
        let answer = self.get("/metrics");
        assert_eq!(answer.status, 200, "{}", answer.body);
        let lines = answer.body.lines().map(|line| Ok(line.to_owned()));
        prometheus_parse::Scrape::parse(lines)
            .expect("Prometheus text")
            .samples
    }
}

/// The samples of `metric` whose labels include every pair of `labels`.
pub fn samples<'a>(
    samples: &'a [prometheus_parse::Sample],
    metric: &str,
    labels: &[(&str, &str)],
) -> Vec<&'a prometheus_parse::Sample> {
    samples
        .iter()
        .filter(|sample| sample.metric == metric)
        .filter(|sample| {
            labels
                .iter()
                .all(|(name, value)| sample.labels.get(name) == Some(*value))
        })
        .collect()
}

/// The value of a counter or gauge sample.
pub fn scalar(sample: &prometheus_parse::Sample) -> f64 {
    match sample.value {
        prometheus_parse::Value::Counter(value)
        | prometheus_parse::Value::Gauge(value)
        | prometheus_parse::Value::Untyped(value) => value,
        ref other => panic!("{} is not a scalar: {other:?}", sample.metric),
    }
}

/// The sum of `metric` over the samples matching `labels`.
pub fn sum(all: &[prometheus_parse::Sample], metric: &str, labels: &[(&str, &str)]) -> f64 {
    samples(all, metric, labels).into_iter().map(scalar).sum()
}
