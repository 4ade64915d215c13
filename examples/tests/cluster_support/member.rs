//! One member of a test cluster: where it runs, the `bank node` command it
//! runs with, and its successive lives (a restart is a new life at the
//! same address, with a log of its own).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};

use super::process::Process;
use super::BANK;

/// Where a member runs: an address of its own, and the network namespace
/// it is started in, if any (the partition tests).
#[derive(Debug, Clone)]
pub struct Host {
    /// The address its cluster port and HTTP endpoint bind to.
    pub ip: IpAddr,
    /// The namespace it runs in (`ip netns exec NAME …`); `None` for the
    /// host's own.
    pub netns: Option<String>,
}

impl Host {
    /// `127.0.0.N` in the host's namespace: every member has its own
    /// loopback address, as machines of a cluster have their own.
    pub fn loopback(n: u8) -> Self {
        Self {
            ip: IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)),
            netns: None,
        }
    }
}

/// A member and the process of its current life.
pub struct Member {
    /// `node1`, `node2`, …: the first node started is `node1`.
    pub name: String,
    /// Where it runs.
    pub host: Host,
    /// Its cluster address (`--bind`), the same in every life.
    pub bind: SocketAddr,
    /// The arguments after `bank`, the same in every life.
    args: Vec<String>,
    logs: PathBuf,
    lives: u32,
    process: Option<Process>,
    /// Whether the scenario means it to be running: false once killed or
    /// terminated on purpose, true again when started.
    meant_up: bool,
}

impl Member {
    /// A member that runs `bank ARGS` at `bind`, logging into `logs`; not
    /// started yet.
    pub fn new(
        name: String,
        host: Host,
        bind: SocketAddr,
        args: Vec<String>,
        logs: PathBuf,
    ) -> Self {
        Self {
            name,
            host,
            bind,
            args,
            logs,
            lives: 0,
            process: None,
            meant_up: false,
        }
    }

    /// Starts its next life and waits for it to serve HTTP.
    pub fn start(&mut self) {
        self.spawn();
        self.wait_serving();
    }

    /// Starts its next life without waiting for it to serve; call
    /// [`Member::wait_serving`] then.
    pub fn spawn(&mut self) {
        assert!(
            !self.is_running(),
            "{} is still running: stop it before starting it again",
            self.name
        );
        self.lives += 1;
        let log = self
            .logs
            .join(format!("{}.life{}.log", self.name, self.lives));
        // `ip netns exec` execs the node, so signals reach the node itself.
        let mut command = match &self.host.netns {
            Some(netns) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", netns, BANK]);
                command
            }
            None => Command::new(BANK),
        };
        command.args(&self.args);
        self.meant_up = true;
        self.process = Some(Process::start(command, &log));
    }

    /// Waits until its current life serves.
    pub fn wait_serving(&mut self) {
        self.process
            .as_mut()
            .unwrap_or_else(|| panic!("{} was never started", self.name))
            .wait_serving();
    }

    /// The process of its current life.
    pub fn process(&mut self) -> &mut Process {
        let name = &self.name;
        self.process
            .as_mut()
            .unwrap_or_else(|| panic!("{name} was never started"))
    }

    /// Its HTTP endpoint in its current life.
    pub fn http(&self) -> SocketAddr {
        self.process
            .as_ref()
            .unwrap_or_else(|| panic!("{} was never started", self.name))
            .http
    }

    /// Fails, with its exit status and log tail, if it exited without
    /// being killed or terminated on purpose.
    pub fn check_up(&mut self) {
        if !self.meant_up {
            return;
        }
        let name = self.name.clone();
        let process = self.process();
        if let Some(status) = process.status() {
            panic!(
                "{name} exited by itself ({status}); its log ends:\n{}",
                process.tail(60)
            );
        }
    }

    /// Whether the scenario means it to be running.
    pub fn meant_up(&self) -> bool {
        self.meant_up
    }

    /// Whether its current life has not exited (it may be stopped).
    pub fn is_running(&mut self) -> bool {
        self.process.as_mut().is_some_and(Process::is_running)
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        self.meant_up = false;
        self.process().kill();
    }

    /// `kill -STOP`: frozen, its sockets open but silent.
    pub fn stop(&mut self) {
        self.process().signal("STOP");
    }

    /// `kill -CONT`.
    pub fn resume(&mut self) {
        self.process().signal("CONT");
    }

    /// `kill -TERM`, then waits for it to exit: its status.
    pub fn terminate(&mut self) -> ExitStatus {
        self.meant_up = false;
        self.process().terminate()
    }

    /// The logs of every life so far, oldest first.
    pub fn logs(&self) -> Vec<PathBuf> {
        (1..=self.lives)
            .map(|life| self.logs.join(format!("{}.life{life}.log", self.name)))
            .collect()
    }
}
