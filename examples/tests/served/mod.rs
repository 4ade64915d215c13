//! An example binary run as a real process with its HTTP endpoint on an
//! ephemeral loopback port, and a blocking HTTP client for it.
//!
//! The port is learnt from the process itself: the binary logs
//! `serving HTTP addr=HOST:PORT` on stderr once it is bound, so there is no
//! window in which another process could take a port the test picked.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a process may take to reach a log line or to exit before the
/// test fails: a deadline against hangs, not a performance bound.
const DEADLINE: Duration = Duration::from_secs(120);

/// A running example binary, killed if the test ends without stopping it.
pub struct Served {
    child: Child,
    stderr: Receiver<String>,
    stdout: Option<JoinHandle<String>>,
    log: Vec<String>,
    /// The HTTP endpoint's address, from the binary's log.
    pub addr: SocketAddr,
    agent: ureq::Agent,
}

impl Served {
    /// Starts `binary` with `args` and waits for it to log its HTTP address.
    pub fn start(binary: &str, args: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("{binary} starts: {error}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let (lines, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if lines.send(strip_ansi(&line)).is_err() {
                    return;
                }
            }
        });
        let mut stdout = child.stdout.take().expect("piped stdout");
        let stdout = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut served = Self {
            child,
            stderr: receiver,
            stdout: Some(stdout),
            log: Vec::new(),
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            agent,
        };
        let line = served.wait_for_log("serving HTTP");
        served.addr =
            address_in(&line).unwrap_or_else(|| panic!("no address in the log line: {line}"));
        served
    }

    /// Waits for a stderr line containing `needle` and returns it.
    pub fn wait_for_log(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no `{needle}` logged in time; log:\n{}", self.log())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the process ended without logging `{needle}`; log:\n{}",
                        self.log()
                    )
                }
            }
        }
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        self.log.join("\n")
    }

    /// `GET path`: the status and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut response = self
            .agent
            .get(format!("http://{}{path}", self.addr))
            .call()
            .unwrap_or_else(|error| panic!("GET {path}: {error}"));
        let body = response
            .body_mut()
            .read_to_string()
            .expect("a readable body");
        (response.status().as_u16(), body)
    }

    /// `GET path`, which must answer 200, as JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|error| panic!("not JSON ({error}): {body}"))
    }

    /// Scrapes `/metrics` and parses it as Prometheus text.
    pub fn scrape(&self) -> Vec<prometheus_parse::Sample> {
        let (status, body) = self.get("/metrics");
        assert_eq!(status, 200, "{body}");
        let lines = body.lines().map(|line| Ok(line.to_owned()));
        prometheus_parse::Scrape::parse(lines)
            .expect("Prometheus text")
            .samples
    }

    /// Sends SIGTERM and waits for the process to exit: its status and
    /// everything it printed on stdout.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let signalled = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(signalled.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited on") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the process did not stop on SIGTERM; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(5)) {
            self.log.push(line);
        }
        let stdout = self
            .stdout
            .take()
            .expect("stdout read once")
            .join()
            .expect("the stdout reader");
        (status, stdout)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `addr=HOST:PORT` field of a log line.
pub fn address_in(line: &str) -> Option<SocketAddr> {
    let (_, rest) = line.split_once("addr=")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// `line` without ANSI colour sequences (`ESC [ … m`).
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for code in chars.by_ref() {
                if code.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The samples of `metric` whose labels include every pair of `labels`.
pub fn samples<'a>(
    all: &'a [prometheus_parse::Sample],
    metric: &str,
    labels: &[(&str, &str)],
) -> Vec<&'a prometheus_parse::Sample> {
    all.iter()
        .filter(|sample| sample.metric == metric)
        .filter(|sample| {
            labels
                .iter()
                .all(|(name, value)| sample.labels.get(name) == Some(*value))
        })
        .collect()
}

/// The sum of `metric`'s counter or gauge samples matching `labels`.
pub fn sum(all: &[prometheus_parse::Sample], metric: &str, labels: &[(&str, &str)]) -> f64 {
    samples(all, metric, labels)
        .into_iter()
        .map(|sample| match sample.value {
            prometheus_parse::Value::Counter(value)
            | prometheus_parse::Value::Gauge(value)
            | prometheus_parse::Value::Untyped(value) => value,
            ref other => panic!("{metric} is not a scalar: {other:?}"),
        })
        .sum()
}
