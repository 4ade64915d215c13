//! A real S3-compatible server for Cairn's tests: moto in server mode,
//! installed into `<target>/moto-venv` on first use (Python's venv and pip,
//! about a minute), started on a free loopback port, and stopped when the
//! tests are done.
//!
//! Set `CAIRN_TEST_S3_ENDPOINT` (and `CAIRN_TEST_S3_BUCKET`, `AWS_*`) to
//! test against another S3-compatible server instead; its bucket must exist.
//!
//! Both `cairn-persistence`'s tests and `cairn-tests` use this crate, so the
//! launcher exists once. It depends on nothing of Cairn's, which keeps the
//! dependency graph free of cycles.
//!
//! # Layout
//! Everything is in this file: [`S3Server`] (one per test, or
//! [`S3Server::shared`], one per test binary), and the private helpers that
//! install moto, pick a port and create the bucket.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How many ports moto is started on before the tests give up.
const START_ATTEMPTS: u32 = 3;

/// Runs moto, and kills it as soon as its standard input closes: when the
/// test process exits for whatever reason (even a panic or a kill), the
/// kernel closes the pipe and the server goes with it. `$0` is the server,
/// the remaining arguments are its own. A background list of a
/// non-interactive shell reads /dev/null, so the pipe is kept as fd 3.
const WATCHDOG: &str = r#"exec 3<&0
"$0" "$@" &
pid=$!
( cat <&3 >/dev/null; kill "$pid" 2>/dev/null ) &
wait "$pid""#;

/// A running S3-compatible server and the bucket the tests use.
#[derive(Debug)]
pub struct S3Server {
    /// The server's endpoint URL.
    pub endpoint: String,
    /// The test bucket, created empty.
    pub bucket: String,
    /// The region to name in store URLs.
    pub region: String,
    child: Option<Child>,
    /// Closing it stops the server (see [`WATCHDOG`]).
    stdin: Option<ChildStdin>,
}

impl S3Server {
    /// Starts moto (installing it if needed), or uses the server named by
    /// `CAIRN_TEST_S3_ENDPOINT`. Blocks until the server answers. The server
    /// stops when the value is dropped, or at the latest when the process
    /// exits.
    pub fn start() -> Self {
        set_default_env("AWS_ACCESS_KEY_ID", "testing");
        set_default_env("AWS_SECRET_ACCESS_KEY", "testing");
        set_default_env("AWS_REGION", "us-east-1");
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
        if let Ok(endpoint) = std::env::var("CAIRN_TEST_S3_ENDPOINT") {
            let bucket =
                std::env::var("CAIRN_TEST_S3_BUCKET").unwrap_or_else(|_| "cairn-test".into());
            return Self {
                endpoint,
                bucket,
                region,
                child: None,
                stdin: None,
            };
        }
        let server = install_moto();
        let mut attempt = 1;
        loop {
            match Self::start_moto(&server, region.clone()) {
                Ok(server) => return server,
                // The port, free when picked, can be taken by another
                // socket before moto binds it; moto then exits.
                Err(exited) if attempt < START_ATTEMPTS => {
                    eprintln!("{exited}; starting moto again on another port");
                    attempt += 1;
                }
                Err(exited) => panic!("{exited} ({START_ATTEMPTS} attempts)"),
            }
        }
    }

    /// Starts moto on a free port and creates the test bucket; `Err` if
    /// moto exited before it answered.
    fn start_moto(server: &Path, region: String) -> Result<Self, String> {
        let port = free_port();
        let log_path = target_dir().join(format!("moto-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("create the moto log");
        let mut child = Command::new("sh")
            .args(["-c", WATCHDOG])
            .arg(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start moto_server");
        let stdin = child.stdin.take();
        let mut server = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "cairn-test".into(),
            region,
            child: Some(child),
            stdin,
        };
        server.wait_until_answering(port, &log_path)?;
        let status = http_status(port, &format!("PUT /{} HTTP/1.1", server.bucket));
        assert_eq!(status, 200, "creating the test bucket on moto");
        Ok(server)
    }

    /// One server for the whole test binary, started on first use; tests
    /// that share it each take their own prefix ([`S3Server::fresh_url`]).
    /// It stops when the process exits.
    pub fn shared() -> &'static S3Server {
        static SHARED: OnceLock<S3Server> = OnceLock::new();
        SHARED.get_or_init(S3Server::start)
    }

    /// The URL of a store in a prefix of the test bucket that no other
    /// store of any test process has used.
    pub fn fresh_url(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let prefix = format!(
            "run-{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        format!(
            "s3://{}/{prefix}?endpoint={}&region={}",
            self.bucket, self.endpoint, self.region
        )
    }

    /// Waits until moto answers on `port`; `Err` if it exits first.
    fn wait_until_answering(&mut self, port: u16, log: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "moto_server exited with {status}; see {}",
                        log.display()
                    ));
                }
            }
            assert!(
                Instant::now() < deadline,
                "moto did not answer within 60 s; see {}",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        // Closing the pipe makes the watchdog stop the server.
        drop(self.stdin.take());
        if let Some(child) = self.child.as_mut() {
            let _ = child.wait();
        }
    }
}

fn set_default_env(name: &str, value: &str) {
    if std::env::var_os(name).is_none() {
        std::env::set_var(name, value);
    }
}

/// The build's `target` folder: `CARGO_TARGET_DIR` if set, else the
/// workspace's.
fn target_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    std::fs::create_dir_all(&dir).expect("create the target folder");
    dir
}

/// Installs `moto[server]` into `<target>/moto-venv` unless it is there,
/// under a lock folder so that concurrent test processes install it once.
fn install_moto() -> PathBuf {
    let venv = target_dir().join("moto-venv");
    let server = venv.join("bin/moto_server");
    let lock = target_dir().join("moto-venv.lock");
    let deadline = Instant::now() + Duration::from_secs(600);
    while std::fs::create_dir(&lock).is_err() {
        assert!(Instant::now() < deadline, "waited 10 min for {lock:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let installed = server.exists() || {
        let venv_ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        venv_ok
            && Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "moto[server]",
                ])
                .status()
                .is_ok_and(|s| s.success())
    };
    let _ = std::fs::remove_dir(&lock);
    assert!(
        installed && server.exists(),
        "could not install moto[server] into {venv:?} (python3 -m venv, then pip install)"
    );
    server
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free loopback port")
        .port()
}

/// Sends one request line with an empty body and returns the status code.
fn http_status(port: u16, request_line: &str) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to moto");
    write!(
        stream,
        "{request_line}\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send to moto");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read from moto");
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The watchdog stops the server once its standard input closes, and
    /// the shell ends when the server does.
    #[test]
    fn the_watchdog_stops_the_server_when_the_pipe_closes() {
        let mut child = Command::new("sh")
            .args(["-c", WATCHDOG, "sleep", "600"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("start the watchdog");
        drop(child.stdin.take());
        let status = child.wait().expect("wait for the watchdog");
        // `wait` reports the server killed by SIGTERM: 128 + 15.
        assert_eq!(status.code(), Some(143), "{status}");
    }

    /// Fresh URLs never repeat and parse as the store expects.
    #[test]
    fn fresh_urls_are_unique() {
        let server = S3Server {
            endpoint: "http://127.0.0.1:1".into(),
            bucket: "cairn-test".into(),
            region: "us-east-1".into(),
            child: None,
            stdin: None,
        };
        let (a, b) = (server.fresh_url(), server.fresh_url());
        assert_ne!(a, b);
        assert!(a.starts_with("s3://cairn-test/run-"), "{a}");
        assert!(
            a.ends_with("?endpoint=http://127.0.0.1:1&region=us-east-1"),
            "{a}"
        );
    }
}
