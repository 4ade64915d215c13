//! One life of a node process: started with its output in a log file, its
//! HTTP address read from that log, and the signals the scenarios send it.

use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::served::address_in;

/// How long a process may take to log its HTTP address or to exit after
/// SIGTERM: a deadline against hangs, not a performance bound.
const DEADLINE: Duration = Duration::from_secs(120);

/// A running (or stopped, or exited) process, killed when dropped.
pub struct Process {
    child: Child,
    log: PathBuf,
    exited: Option<ExitStatus>,
    /// Where its HTTP endpoint listens, from its `serving HTTP addr=…` line.
    pub http: SocketAddr,
}

impl Process {
    /// Spawns `command` with stdout and stderr appended to `log`, and waits
    /// for it to log the address its HTTP endpoint is bound to.
    pub fn start(mut command: Command, log: &Path) -> Self {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|error| panic!("creating the log {}: {error}", log.display()));
        let stderr = file.try_clone().expect("a second handle on the log");
        let child = command
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| panic!("spawning {command:?}: {error}"));
        Self {
            child,
            log: log.to_path_buf(),
            exited: None,
            http: SocketAddr::from(([0, 0, 0, 0], 0)),
        }
    }

    /// Waits until the node serves (it logs its HTTP address once it runs
    /// a generation) and learns that address.
    pub fn wait_serving(&mut self) {
        let line = self.wait_for_log("serving HTTP");
        self.http =
            address_in(&line).unwrap_or_else(|| panic!("no address in the log line: {line}"));
    }

    /// Waits for a log line containing `needle` and returns it; fails if
    /// the process exits first or the deadline passes.
    pub fn wait_for_log(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let bytes = std::fs::read(&self.log).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            if let Some(line) = text.lines().find(|line| line.contains(needle)) {
                return line.to_owned();
            }
            if let Some(status) = self.status() {
                panic!(
                    "the process logging to {} exited ({status}) without logging `{needle}`:\n{}",
                    self.log.display(),
                    self.tail(60)
                );
            }
            assert!(
                Instant::now() < deadline,
                "no `{needle}` in {} within {DEADLINE:?}:\n{}",
                self.log.display(),
                self.tail(60)
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, once it has exited (reaped here).
    pub fn status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().expect("the child can be waited on");
        }
        self.exited
    }

    /// Whether it has not exited (it may be stopped).
    pub fn is_running(&mut self) -> bool {
        self.status().is_none()
    }

    /// SIGKILL, then reaps it.
    pub fn kill(&mut self) {
        assert!(self.is_running(), "killing an exited process");
        self.child.kill().expect("SIGKILL is delivered");
        self.exited = Some(self.child.wait().expect("the child is reaped"));
    }

    /// Sends `signal` (a name `kill` takes: STOP, CONT, TERM).
    pub fn signal(&self, signal: &str) {
        let pid = self.pid().to_string();
        let sent = Command::new("kill")
            .args([format!("-{signal}"), pid.clone()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal} {pid} failed");
    }

    /// SIGTERM, then waits for it to exit: its status.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.status() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {DEADLINE:?} of SIGTERM:\n{}",
                self.log.display(),
                self.tail(60)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The log's path.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of its log.
    pub fn tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too.
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last `lines` lines of the file at `path`.
pub fn tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(error) => format!("(no log at {}: {error})", path.display()),
    }
}
