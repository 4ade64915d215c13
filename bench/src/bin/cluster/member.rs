//! Cluster members: how every member's node is built, the hidden
//! `--member` mode a child process runs, and the parent's handle on such
//! a child.
//!
//! A child joins the cluster, starts beside it a raw TCP server (the
//! baseline) and a transport echo (the transport alone), prints
//! `ready RAW_ADDR TRANSPORT_ADDR` on stdout, and leaves gracefully when
//! its stdin closes.

use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use cairn::transport::Secret;
use cairn::{ClusterSettings, Node};

use crate::functions::{Driver, Echoer, Sink, Tally};

/// Shards in the whole cluster.
pub(crate) const SHARDS: u32 = 8;

/// The snapshot interval of every member (the default).
const SNAPSHOT_INTERVAL: Duration = Duration::from_secs(1);

/// How long a member may take to join, or to leave: deadlines against
/// hangs, not measurements.
const DEADLINE: Duration = Duration::from_secs(60);

/// Starts a member bound at `bind`, joining through `seed`, snapshotting
/// to `store`.
pub(crate) async fn start_node(bind: SocketAddr, seed: SocketAddr, store: &str) -> Result<Node> {
    let settings = ClusterSettings::new(bind, [seed.to_string()])
        .with_cluster_id("bench-cluster")
        .with_secret(Some(Secret::new("bench-cluster-secret")));
    Node::builder()
        .register::<Echoer>()
        .register::<Sink>()
        .register::<Tally>()
        .register::<Driver>()
        .shards(SHARDS)
        .store(store)
        .snapshot_interval(Some(SNAPSHOT_INTERVAL))
        .cluster(settings)
        .start()
        .await
        .with_context(|| format!("the member at {bind} cannot join"))
}

/// The child's side: `--member BIND SEED STORE`.
pub(crate) async fn run_child(args: &[String]) -> Result<()> {
    let [bind, seed, store] = args else {
        bail!("usage: cluster --member BIND SEED STORE");
    };
    let bind: SocketAddr = bind.parse().context("BIND")?;
    let seed: SocketAddr = seed.parse().context("SEED")?;
    let node = start_node(bind, seed, store).await?;
    let raw = tokio::net::TcpListener::bind((bind.ip(), 0)).await?;
    let raw_addr = raw.local_addr()?;
    let server = tokio::spawn(crate::raw::serve(raw));
    let (transport_addr, transport_echo) = crate::transport_echo::serve(bind.ip()).await?;
    println!("ready {raw_addr} {transport_addr}");
    // The parent closes stdin when this member should leave.
    let _ = tokio::task::spawn_blocking(|| {
        let mut rest = Vec::new();
        std::io::stdin().read_to_end(&mut rest)
    })
    .await;
    server.abort();
    transport_echo.abort();
    if tokio::time::timeout(DEADLINE, node.shutdown())
        .await
        .is_err()
    {
        bail!("the member at {bind} did not leave within {DEADLINE:?}");
    }
    Ok(())
}

/// A member running in a child process.
pub(crate) struct MemberProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// The member's cluster address (its node id).
    pub(crate) bind: SocketAddr,
    /// Its raw TCP server.
    pub(crate) raw: SocketAddr,
    /// Its transport echo.
    pub(crate) transport: SocketAddr,
    log: PathBuf,
}

impl MemberProcess {
    /// Starts this binary as a member at `bind` joining through `seed`,
    /// its log in `logs`, and waits until it runs a generation.
    pub(crate) fn spawn(
        bind: SocketAddr,
        seed: SocketAddr,
        store: &str,
        logs: &Path,
    ) -> Result<Self> {
        let log = logs.join(format!("member-{}-{}.log", bind.ip(), bind.port()));
        let file = std::fs::File::create(&log)?;
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--member", &bind.to_string(), &seed.to_string(), store])
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(file)
            .spawn()
            .context("spawning a member")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("the member's stdout")?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let ready = lines.next().and_then(|line| line.ok());
            let _ = ready_tx.send(ready);
            // Keep draining, so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let mut member = Self {
            child,
            stdin,
            bind,
            raw: SocketAddr::from(([0, 0, 0, 0], 0)),
            transport: SocketAddr::from(([0, 0, 0, 0], 0)),
            log,
        };
        let line = ready_rx
            .recv_timeout(DEADLINE)
            .ok()
            .flatten()
            .with_context(|| {
                format!("the member at {bind} never became ready; {}", member.tail())
            })?;
        let addrs: Vec<SocketAddr> = line
            .strip_prefix("ready ")
            .map(|addrs| {
                addrs
                    .split(' ')
                    .filter_map(|addr| addr.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let [raw, transport] = addrs[..] else {
            bail!("unexpected line from the member: {line}");
        };
        (member.raw, member.transport) = (raw, transport);
        Ok(member)
    }

    /// SIGKILL, then reaps it.
    pub(crate) fn kill(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Closes its stdin (it leaves gracefully) and waits for it to exit;
    /// kills it after the deadline.
    pub(crate) fn leave(mut self) -> Result<()> {
        drop(self.stdin.take());
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!(
                        "the member at {} exited with {status}; {}",
                        self.bind,
                        self.tail()
                    );
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill()?;
        bail!(
            "the member at {} did not leave in time; {}",
            self.bind,
            self.tail()
        )
    }

    /// The end of its log, for error messages.
    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("log {}:\n{tail}", self.log.display())
    }
}

impl Drop for MemberProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An address on `ip` whose port is free for both TCP (the transport) and
/// UDP (gossip) now.
pub(crate) fn free_addr(ip: IpAddr) -> Result<SocketAddr> {
    for _ in 0..1_000 {
        let tcp = TcpListener::bind((ip, 0))?;
        let addr = tcp.local_addr()?;
        if UdpSocket::bind(addr).is_ok() {
            return Ok(addr);
        }
    }
    bail!("no port on {ip} is free for both TCP and UDP")
}
