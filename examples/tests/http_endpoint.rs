//! Every example binary serves its HTTP endpoint on loopback by default:
//! each is started as a real process on an ephemeral port, learnt from its
//! log, and answers `/healthz`, `/readyz`, `/metrics` and the JSON views
//! with numbers that match the work it did.

mod served;

use std::io::Write as _;
use std::process::Command;

use served::{address_in, strip_ansi, sum, Served};

/// `counter --keep-serving`: after the counts, the endpoint is healthy and
/// ready, its metrics count every message and actor, and SIGTERM ends the
/// process with the check's status and the counts printed.
#[test]
fn counter_serves_http_until_terminated() {
    let mut served = Served::start(
        env!("CARGO_BIN_EXE_counter"),
        &[
            "--counters",
            "3",
            "--increments",
            "4",
            "--http",
            "127.0.0.1:0",
            "--keep-serving",
        ],
    );
    assert!(served.addr.ip().is_loopback(), "{}", served.addr);
    assert_ne!(served.addr.port(), 0);
    served.wait_for_log("run finished");
    assert_eq!(served.get_json("/healthz")["status"], "ok");
    assert_eq!(served.get_json("/readyz")["status"], "ready");
    let all = served.scrape();
    // 12 additions and 3 reads, the reads' replies going to the asker
    // outside, not as messages.
    let counter = [("function", "example/counter")];
    assert_eq!(sum(&all, "cairn_messages_delivered_total", &counter), 15.0);
    assert_eq!(sum(&all, "cairn_messages_sent_total", &counter), 0.0);
    assert_eq!(sum(&all, "cairn_activations_total", &[]), 3.0);
    assert_eq!(
        sum(
            &all,
            "cairn_function_active_actors",
            &[("function", "example/counter")]
        ),
        3.0
    );
    let functions = served.get_json("/v1/functions");
    assert!(
        functions.to_string().contains("example/counter"),
        "{functions}"
    );
    let actor = served.get_json("/v1/actors/example/counter/counter-2");
    assert_eq!(actor["state"]["count"], 12, "{actor}");

    let (status, stdout) = served.terminate();
    assert!(status.success(), "{status}");
    assert_eq!(stdout, "counter-0: 4\ncounter-1: 8\ncounter-2: 12\n");
}

/// `ridesharing --keep-serving`: after the summary, the endpoint lists the
/// ride-sharing actors and counts the simulation's messages.
#[test]
fn ridesharing_serves_http_until_terminated() {
    let mut served = Served::start(
        env!("CARGO_BIN_EXE_ridesharing"),
        &[
            "--drivers",
            "3",
            "--passengers",
            "5",
            "--rides",
            "10",
            "--grid",
            "4",
            "--micros-per-unit",
            "50",
            "--roam-micros",
            "0",
            "--http",
            "127.0.0.1:0",
            "--keep-serving",
        ],
    );
    served.wait_for_log("run finished");
    assert_eq!(served.get_json("/readyz")["status"], "ready");
    let all = served.scrape();
    assert!(sum(&all, "cairn_messages_delivered_total", &[]) > 10.0);
    for (function, actors) in [("ridesharing/driver", 3.0), ("ridesharing/passenger", 5.0)] {
        assert_eq!(
            sum(
                &all,
                "cairn_function_active_actors",
                &[("function", function)]
            ),
            actors,
            "{function}"
        );
    }
    let (status, stdout) = served.terminate();
    assert!(status.success(), "{status}");
    assert!(stdout.contains("rides completed:  10\n"), "{stdout}");
}

/// `bank simulate --keep-serving`: after the check, the endpoint has one
/// active account per account and counts every transfer's messages.
#[test]
fn bank_simulate_serves_http_until_terminated() {
    let mut served = Served::start(
        env!("CARGO_BIN_EXE_bank"),
        &[
            "simulate",
            "--accounts",
            "4",
            "--transfers",
            "40",
            "--http",
            "127.0.0.1:0",
            "--keep-serving",
        ],
    );
    served.wait_for_log("run finished");
    assert_eq!(served.get_json("/healthz")["status"], "ok");
    let all = served.scrape();
    // A debit and a credit per transfer at least, and each debit sends its
    // credit.
    let account = [("function", "bank/account")];
    assert!(sum(&all, "cairn_messages_delivered_total", &account) >= 80.0);
    assert_eq!(sum(&all, "cairn_messages_sent_total", &account), 40.0);
    assert_eq!(
        sum(
            &all,
            "cairn_function_active_actors",
            &[("function", "bank/account")]
        ),
        4.0
    );
    let (status, stdout) = served.terminate();
    assert!(status.success(), "{status}");
    assert!(stdout.contains("total: 4000 (expected 4000)"), "{stdout}");
}

/// `bank run` without `--exit-when-done` serves until SIGTERM: its first
/// scrape lists its ingress source, whose admitted records reach the file's
/// count, and `/v1/snapshots` names the store.
#[test]
fn bank_run_serves_http_with_its_ingress_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let transfers = dir.path().join("transfers.csv");
    let mut file = std::fs::File::create(&transfers).unwrap();
    for id in 0..30 {
        writeln!(file, "{id},{},{},5", id % 3, (id + 1) % 3).unwrap();
    }
    drop(file);
    let data = dir.path().join("store");
    let served = Served::start(
        env!("CARGO_BIN_EXE_bank"),
        &[
            "run",
            "--data",
            data.to_str().unwrap(),
            "--transfers",
            transfers.to_str().unwrap(),
            "--accounts",
            "3",
            "--initial-balance",
            "100",
            "--snapshot-interval-ms",
            "50",
            "--http",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(served.get_json("/readyz")["status"], "ready");
    let source = [("source", "transfers")];
    let first = served.scrape();
    for metric in [
        "cairn_ingress_records_total",
        "cairn_ingress_records_rejected_total",
        "cairn_ingress_records_in_flight",
    ] {
        assert_eq!(
            served::samples(&first, metric, &source).len(),
            1,
            "{metric}"
        );
    }
    // Reading the file takes as long as it takes: poll until every record
    // is admitted (the deadline is only against a hang).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let all = served.scrape();
        if sum(&all, "cairn_ingress_records_total", &source) == 30.0 {
            assert_eq!(
                sum(&all, "cairn_ingress_records_rejected_total", &source),
                0.0
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", served.log());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let snapshots = served.get_json("/v1/snapshots");
    assert!(
        snapshots["store"]
            .as_str()
            .unwrap_or_default()
            .starts_with("fs://"),
        "{snapshots}"
    );
    let (status, _) = served.terminate();
    assert!(status.success(), "{status}");
}

/// Without `--http`, every binary still serves, on a loopback port it logs;
/// each `--help` says so.
#[test]
fn the_default_endpoint_is_on_loopback_and_documented() {
    let output = Command::new(env!("CARGO_BIN_EXE_counter"))
        .args(["--counters", "1", "--increments", "1"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .output()
        .expect("the counter binary runs");
    let stderr = strip_ansi(&String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find(|line| line.contains("serving HTTP"))
        .unwrap_or_else(|| panic!("no address logged: {stderr}"));
    let addr = address_in(line).unwrap_or_else(|| panic!("{line}"));
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_ne!(addr.port(), 0);

    for (binary, args) in [
        (env!("CARGO_BIN_EXE_counter"), &["--help"][..]),
        (env!("CARGO_BIN_EXE_ridesharing"), &["--help"][..]),
        (env!("CARGO_BIN_EXE_bank"), &["simulate", "--help"][..]),
        (env!("CARGO_BIN_EXE_bank"), &["run", "--help"][..]),
    ] {
        let help = Command::new(binary).args(args).output().expect("help runs");
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(help.status.success(), "{binary} {args:?}");
        assert!(
            text.contains("--http <HOST:PORT>") && text.contains("127.0.0.1:0"),
            "{binary} {args:?}: {text}"
        );
    }
}
