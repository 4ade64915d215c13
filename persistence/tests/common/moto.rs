//! A real S3-compatible server for the tests: moto in server mode, installed
//! into `target/moto-venv` on first use (Python's venv and pip, about a
//! minute), started on a free loopback port, and killed when dropped.
//!
//! Set `CAIRN_TEST_S3_ENDPOINT` (and `CAIRN_TEST_S3_BUCKET`, `AWS_*`) to
//! test against another S3-compatible server instead.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running S3-compatible server and the bucket the tests use.
pub(crate) struct S3Server {
    /// The server's endpoint URL.
    pub(crate) endpoint: String,
    /// The test bucket, created empty.
    pub(crate) bucket: String,
    child: Option<Child>,
}

impl S3Server {
    /// Starts moto (installing it if needed), or uses the server named by
    /// `CAIRN_TEST_S3_ENDPOINT`.
    pub(crate) fn start() -> Self {
        set_default_env("AWS_ACCESS_KEY_ID", "testing");
        set_default_env("AWS_SECRET_ACCESS_KEY", "testing");
        set_default_env("AWS_REGION", "us-east-1");
        if let Ok(endpoint) = std::env::var("CAIRN_TEST_S3_ENDPOINT") {
            let bucket =
                std::env::var("CAIRN_TEST_S3_BUCKET").unwrap_or_else(|_| "cairn-test".into());
            return Self {
                endpoint,
                bucket,
                child: None,
            };
        }
        let server = install_moto();
        let port = free_port();
        let log = std::fs::File::create(target_dir().join(format!("moto-{port}.log")))
            .expect("create the moto log");
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start moto_server");
        let mut server = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "cairn-test".into(),
            child: Some(child),
        };
        server.wait_until_answering(port);
        let status = http_status(port, &format!("PUT /{} HTTP/1.1", server.bucket));
        assert_eq!(status, 200, "creating the test bucket on moto");
        server
    }

    fn wait_until_answering(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("moto_server exited with {status}; see target/moto-{port}.log");
                }
            }
            assert!(Instant::now() < deadline, "moto did not answer within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn set_default_env(name: &str, value: &str) {
    if std::env::var_os(name).is_none() {
        std::env::set_var(name, value);
    }
}

/// The workspace's `target` folder.
fn target_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&dir).expect("create target/");
    dir
}

/// Installs `moto[server]` into `target/moto-venv` unless it is there, under
/// a lock folder so that concurrent test processes install it once.
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
