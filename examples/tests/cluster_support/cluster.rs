//! A bank cluster of real `bank node` processes over one shared store and
//! one transfers file: its members' command lines, their start, and its
//! logs shown when a test fails.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::member::{Host, Member};
use super::ports::free_port;
use super::store::SharedStore;
use crate::transfers::write_transfers;

/// The cluster port of members in their own network namespace, where
/// every port is free.
const NETNS_PORT: u16 = 7400;

/// One cluster runs at a time in a test binary: three or four nodes already
/// load two cores, and failure detection runs on wall-clock time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The transfers every member is given.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// How many transfers the file holds.
    pub transfers: u64,
    /// Accounts `0..accounts`.
    pub accounts: u64,
    /// Every account's opening balance.
    pub initial: i64,
    /// The seed the transfers are drawn from.
    pub seed: u64,
}

impl Workload {
    /// 1,000,000 transfers between 1,000 accounts: enough for a fault to land
    /// after the first commit and long before the end on two cores (each
    /// scenario asserts it did). `CAIRN_E2E_TRANSFERS` sets another count.
    pub fn standard() -> Self {
        let transfers = std::env::var("CAIRN_E2E_TRANSFERS")
            .ok()
            .map(|count| count.parse().expect("CAIRN_E2E_TRANSFERS is a count"))
            .unwrap_or(1_000_000);
        Self {
            transfers,
            accounts: 1_000,
            initial: 1_000,
            seed: 11,
        }
    }
}

/// Which node flags the members are started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flags {
    /// Every flag of the contract: a cluster id and a secret of the test's
    /// own, 16 shards, an epoch every 300 ms.
    Full,
    /// Only the bank's own flags and `--bind`, `--seeds`, `--store`,
    /// `--http`: every cluster flag at its default.
    Required,
}

/// A cluster of `bank node` processes, killed when dropped; on a failed
/// test it prints every member's log tail and keeps its folder.
pub struct Cluster {
    pub(super) members: Vec<Member>,
    pub(super) store: SharedStore,
    pub(super) transfers: PathBuf,
    pub(super) workload: Workload,
    pub(super) expected: Vec<i64>,
    pub(super) flags: Flags,
    pub(super) cluster_id: String,
    pub(super) started: Instant,
    pub(super) dir: Option<tempfile::TempDir>,
    _serial: MutexGuard<'static, ()>,
}

impl Cluster {
    /// A cluster not started yet: its folder, its transfers file and the
    /// balances that file leads to.
    pub fn new(workload: Workload, flags: Flags) -> Self {
        let serial = SERIAL.lock().unwrap_or_else(|poison| poison.into_inner());
        let dir = tempfile::tempdir().expect("a temporary folder");
        let transfers = dir.path().join("transfers.csv");
        let expected = write_transfers(
            &transfers,
            workload.transfers,
            workload.accounts,
            workload.initial,
            workload.seed,
        );
        let store = SharedStore::new(dir.path().join("store"));
        std::fs::create_dir_all(store.dir()).expect("the store's folder");
        let cluster_id = format!(
            "e2e-{}-{}",
            std::process::id(),
            dir.path().file_name().unwrap().to_string_lossy()
        );
        Self {
            members: Vec::new(),
            store,
            transfers,
            workload,
            expected,
            flags,
            cluster_id,
            started: Instant::now(),
            dir: Some(dir),
            _serial: serial,
        }
    }

    /// Starts one member per host, each seeded with all of them, a moment
    /// apart so that the first has the oldest incarnation and coordinates,
    /// and close enough that the coordinator's first generation holds them
    /// all; then waits until every one serves.
    pub fn start(&mut self, hosts: &[Host]) {
        let binds: Vec<SocketAddr> = hosts.iter().map(cluster_address).collect();
        let seeds = join_addresses(&binds);
        let first = self.members.len();
        for (host, bind) in hosts.iter().zip(binds) {
            let index = self.members.len();
            let name = format!("node{}", index + 1);
            let args = self.node_args(host, bind, &seeds);
            let logs = self.dir().to_path_buf();
            let mut member = Member::new(name, host.clone(), bind, args, logs);
            member.spawn();
            self.members.push(member);
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        for index in first..self.members.len() {
            self.members[index].wait_serving();
            let member = &self.members[index];
            self.note(&format!(
                "started {} at {} (HTTP {})",
                member.name,
                member.bind,
                member.http()
            ));
        }
    }

    /// Starts a new member at `host`, seeded with every member so far: its
    /// index.
    pub fn join(&mut self, host: Host) -> usize {
        let seeds: Vec<SocketAddr> = self.members.iter().map(|member| member.bind).collect();
        self.add(
            host.clone(),
            cluster_address(&host),
            &join_addresses(&seeds),
        )
    }

    fn add(&mut self, host: Host, bind: SocketAddr, seeds: &str) -> usize {
        let index = self.members.len();
        let name = format!("node{}", index + 1);
        let args = self.node_args(&host, bind, seeds);
        let logs = self.dir().to_path_buf();
        let mut member = Member::new(name, host, bind, args, logs);
        member.start();
        self.note(&format!(
            "started {} at {} (HTTP {})",
            member.name,
            member.bind,
            member.http()
        ));
        self.members.push(member);
        index
    }

    fn node_args(&self, host: &Host, bind: SocketAddr, seeds: &str) -> Vec<String> {
        let mut args: Vec<String> = [
            "node",
            "--bind",
            &bind.to_string(),
            "--seeds",
            seeds,
            "--store",
            &self.store.url(),
            "--http",
            &SocketAddr::new(host.ip, 0).to_string(),
            "--transfers",
            &self.transfers.display().to_string(),
            "--accounts",
            &self.workload.accounts.to_string(),
            "--initial-balance",
            &self.workload.initial.to_string(),
        ]
        .map(str::to_owned)
        .to_vec();
        if self.flags == Flags::Full {
            args.extend(
                [
                    "--snapshot-interval-ms",
                    "300",
                    "--cluster-id",
                    &self.cluster_id,
                    "--secret",
                    &format!("secret-of-{}", self.cluster_id),
                    "--shards",
                    "16",
                ]
                .map(str::to_owned),
            );
        }
        args
    }

    fn dir(&self) -> &std::path::Path {
        self.dir
            .as_ref()
            .expect("the folder is kept until drop")
            .path()
    }

    /// Member `index` (0 for `node1`).
    pub fn member(&mut self, index: usize) -> &mut Member {
        &mut self.members[index]
    }

    /// The shared store.
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// Logs a step with the time since the cluster was created (shown with
    /// the test's output when it fails, or with `--nocapture`).
    pub fn note(&self, step: &str) {
        eprintln!("[{:7.2}s] {step}", self.started.elapsed().as_secs_f64());
    }

    /// The members the scenario means to be running, checked to be so.
    pub(super) fn running(&mut self) -> Vec<usize> {
        for member in &mut self.members {
            member.check_up();
        }
        (0..self.members.len())
            .filter(|&index| self.members[index].meant_up())
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for member in &self.members {
            for log in member.logs() {
                eprintln!(
                    "----- {} (last 80 lines)\n{}",
                    log.display(),
                    super::process::tail(&log, 80)
                );
            }
        }
        if let Some(dir) = self.dir.take() {
            eprintln!("----- kept for a post-mortem: {}", dir.keep().display());
        }
    }
}

/// Where a member on `host` listens for the cluster.
fn cluster_address(host: &Host) -> SocketAddr {
    let port = match host.netns {
        Some(_) => NETNS_PORT,
        None => free_port(host.ip),
    };
    SocketAddr::new(host.ip, port)
}

/// `--seeds`' value.
fn join_addresses(addresses: &[SocketAddr]) -> String {
    addresses
        .iter()
        .map(SocketAddr::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
