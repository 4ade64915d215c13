//! The `cairn` binary, run as a real process against a running node.

mod common;

use std::process::{Command, Output};

use cairn::http::views::{FunctionsView, ShardsView};
use common::{builder, TestNode};

fn cairn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env_remove("CAIRN_HTTP_TOKEN")
        .output()
        .expect("the cairn binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// `inspect functions` prints a table: a header, then one row per type
/// with its schema hash and messages.
#[test]
fn inspect_functions_prints_a_table() {
    let node = TestNode::start(builder(2));
    let addr = node.addr.to_string();
    let text = stdout(&cairn(&["inspect", "--http", &addr, "functions"]));
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert!(
        lines[0].contains("FUNCTION") && lines[0].contains("SCHEMA HASH"),
        "{text}"
    );
    assert!(lines[1].contains("http/counter"), "{text}");
    assert!(
        lines[1].contains("Add, Dawdle, Explode, Get, Ignore"),
        "{text}"
    );
    assert!(
        lines[2].contains("http/greeter") && lines[2].contains("greet"),
        "{text}"
    );
    // Columns are aligned: the hashes start at the same place on each row.
    let column = |line: &str| line.find("0x").expect("a schema hash");
    assert_eq!(column(lines[1]), column(lines[2]), "{text}");
}

/// `inspect shards` prints one row per shard, with the actors on it.
#[test]
fn inspect_shards_prints_one_row_per_shard() {
    let node = TestNode::start(builder(4));
    for i in 0..8 {
        let answer = node.post(
            &format!("/v1/invoke/http/counter/s{i}/Add"),
            r#"{"amount": 1}"#,
        );
        assert_eq!(answer.status, 202);
    }
    node.flush();
    let addr = node.addr.to_string();
    let text = stdout(&cairn(&["inspect", "--http", &addr, "shards"]));
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 5, "a header and 4 shards: {text}");
    assert!(
        lines[0].contains("SHARD") && lines[0].contains("QUEUED"),
        "{text}"
    );
    let active: u64 = lines[1..]
        .iter()
        .map(|line| {
            line.split_whitespace()
                .nth(2)
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(active, 8, "{text}");
    assert!(lines[1..].iter().all(|line| line.contains(&addr)), "{text}");
}

/// `inspect cluster` names the mode, the coordinator and the member.
#[test]
fn inspect_cluster_prints_the_member() {
    let node = TestNode::start(builder(2));
    let addr = node.addr.to_string();
    let text = stdout(&cairn(&[
        "inspect",
        "--http",
        &format!("http://{addr}/"),
        "cluster",
    ]));
    assert!(text.contains("single-node"), "{text}");
    assert!(text.contains(&format!("coordinator: {addr}")), "{text}");
    assert!(
        text.lines()
            .any(|line| line.contains(&addr) && line.contains("alive")),
        "{text}"
    );
}

/// `--json` prints the node's JSON, which decodes into the view.
#[test]
fn json_output_is_the_raw_view() {
    let node = TestNode::start(builder(4));
    let addr = node.addr.to_string();
    let text = stdout(&cairn(&["inspect", "--http", &addr, "--json", "shards"]));
    let view: ShardsView = serde_json::from_str(&text).expect("JSON");
    assert_eq!(view.shards.len(), 4);
    let text = stdout(&cairn(&["inspect", "--http", &addr, "functions", "--json"]));
    let view: FunctionsView = serde_json::from_str(&text).expect("JSON");
    assert_eq!(view.functions.len(), 2);
}

/// A protected node needs `--token`; without it the tool exits 1 and says
/// why.
#[test]
fn protected_views_need_the_token() {
    let node = TestNode::start(builder(2).http_token("s3cret").http_protect_reads(true));
    let addr = node.addr.to_string();
    let refused = cairn(&["inspect", "--http", &addr, "cluster"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("unauthorized"),
        "{stderr}"
    );
    let text = stdout(&cairn(&[
        "inspect", "--http", &addr, "--token", "s3cret", "cluster",
    ]));
    assert!(text.contains("single-node"), "{text}");
}

/// Wrong flags are clap's error and exit code 2; an unreachable node is
/// exit code 1.
#[test]
fn mistakes_exit_2_and_failures_exit_1() {
    for args in [
        &["inspect", "shards"][..],
        &["inspect", "--http", "127.0.0.1:1", "everything"],
        &["inspect", "--http", "127.0.0.1:1", "--bogus", "shards"],
        &["explode"],
        &[],
    ] {
        let output = cairn(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
    let bad_address = cairn(&["inspect", "--http", "nowhere", "shards"]);
    assert_eq!(bad_address.status.code(), Some(1));
    // Port 1 on loopback: nothing listens there.
    let unreachable = cairn(&["inspect", "--http", "127.0.0.1:1", "shards"]);
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("cannot reach"));
}

/// Adds `amount` to counters `c0..c{count}` and waits until it is done.
fn fill_counters(node: &TestNode, count: u64, amount: u64) {
    for n in 0..count {
        let counter = cairn::Address::of::<common::Counter>(format!("c{n}"));
        node.node
            .send(counter, common::Add { amount })
            .expect("the counter takes Add");
    }
    node.runtime.block_on(node.node.flush()).expect("flush");
}

/// `inspect actors` prints a page, and the cursor it prints fetches the
/// next one.
#[test]
fn inspect_actors_pages_with_the_printed_cursor() {
    let node = TestNode::start(builder(2));
    fill_counters(&node, 5, 1);
    let addr = node.addr.to_string();
    let first = stdout(&cairn(&[
        "inspect",
        "--http",
        &addr,
        "actors",
        "--type",
        "http/counter",
        "--limit",
        "3",
    ]));
    assert!(
        first.contains("http/counter/c0") && first.contains("http/counter/c2"),
        "{first}"
    );
    assert!(!first.contains("http/counter/c3"), "{first}");
    let cursor = first
        .lines()
        .find_map(|line| line.strip_prefix("next page: --cursor '"))
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no cursor in {first}"));
    let second = stdout(&cairn(&[
        "inspect",
        "--http",
        &addr,
        "actors",
        "--type",
        "http/counter",
        "--limit",
        "3",
        "--cursor",
        cursor,
    ]));
    assert!(
        second.contains("http/counter/c3") && second.contains("http/counter/c4"),
        "{second}"
    );
    assert!(!second.contains("next page"), "{second}");
}

/// `inspect actor` shows the live state, and `--epoch` the state as of a
/// committed snapshot; `inspect snapshots` lists the epochs.
#[test]
fn inspect_actor_live_and_at_an_epoch_and_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start(common::store_builder(2, dir.path()));
    fill_counters(&node, 1, 5);
    let epoch = node.snapshot();
    fill_counters(&node, 1, 2);
    let addr = node.addr.to_string();

    let live = stdout(&cairn(&[
        "inspect",
        "--http",
        &addr,
        "actor",
        "http/counter",
        "c0",
    ]));
    assert!(
        live.contains("as of:  live") && live.contains("\"count\": 7"),
        "{live}"
    );
    let epoch_arg = epoch.to_string();
    let then = stdout(&cairn(&[
        "inspect",
        "--http",
        &addr,
        "actor",
        "http/counter",
        "c0",
        "--epoch",
        &epoch_arg,
    ]));
    assert!(then.contains(&format!("as of:  epoch {epoch}")), "{then}");
    assert!(then.contains("\"count\": 5"), "{then}");

    let snapshots = stdout(&cairn(&["inspect", "--http", &addr, "snapshots"]));
    assert!(
        snapshots.contains(&store_url_line(dir.path())),
        "{snapshots}"
    );
    assert!(
        snapshots
            .lines()
            .any(|line| line.trim_start().starts_with(&epoch_arg) && line.contains("committed")),
        "{snapshots}"
    );
    let json = stdout(&cairn(&["inspect", "--http", &addr, "--json", "snapshots"]));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["last_committed"], serde_json::json!(epoch));
}

fn store_url_line(dir: &std::path::Path) -> String {
    format!("store:          {}", common::store_url(dir))
}
