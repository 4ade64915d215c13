//! A network of Linux network namespaces for partition tests, so that a
//! node can be cut off for real.
//!
//! ```text
//!   node ns 1 ─ veth ─┐
//!   node ns 2 ─ veth ─┤ bridge (hub ns) ├─ veth ─ the host (the test)
//!   node ns 3 ─ veth ─┘
//! ```
//!
//! Each node has its own namespace and address `10.X.Y.n` on a bridge in a
//! namespace of its own, so nothing is forwarded or filtered by the
//! host's firewall; the host has `10.X.Y.254` on the same bridge, so the
//! test reaches every node's HTTP endpoint, cut off or not. The subnet and
//! every name derive from the test's process id and a serial number, so
//! concurrent runs and tests do not meet. [`Network::cut`] drops, with nftables rules inside the node's
//! namespace, every packet between it and the other nodes (TCP and UDP
//! alike: the transport and gossip); [`Network::heal`] deletes them. The
//! namespaces share the host's filesystem, so the nodes share an `fs://`
//! store in a host folder. Dropping the network deletes it all.
//!
//! It needs root (`CAP_NET_ADMIN`), `ip` (iproute2) and `nft` (nftables);
//! [`Network::create`] fails with what is missing rather than letting a
//! test pass without a partition. `.ci/run` installs and checks them.
#![allow(dead_code, unreachable_pub)]

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::cluster_support::Host;

/// The nftables table a cut lives in, inside the cut node's namespace.
const CUT_TABLE: &str = "cairn_cut";

/// Networks created by this process so far: tests in one binary run on
/// threads, so the process id alone does not tell their names apart.
static CREATED: AtomicU32 = AtomicU32::new(0);

/// Node namespaces on a bridge, deleted when dropped.
pub struct Network {
    /// Prefix of namespace names: `ce2e-<pid>-<serial>`.
    prefix: String,
    /// Prefix of interface names, `ce<pid in hex>x<serial>` (names are at
    /// most 15 bytes).
    link_prefix: String,
    /// `10.X.Y`.
    subnet: [u8; 3],
    nodes: usize,
}

impl Network {
    /// Creates the hub with its bridge, `nodes` node namespaces on it, and
    /// the host's link to it; fails naming what is missing or refused.
    pub fn create(nodes: usize) -> Self {
        if let Err(missing) = preflight() {
            panic!(
                "the partition tests need root, `ip` (iproute2) and `nft` (nftables): {missing}. \
                 `.ci/run` installs and checks them; see docs/design.md, \"Cluster end-to-end tests\""
            );
        }
        assert!((1..=250).contains(&nodes), "1 to 250 nodes");
        let pid = std::process::id();
        let serial = CREATED.fetch_add(1, Ordering::Relaxed);
        let slot = (pid * 4 + serial) % 16_384;
        let network = Self {
            prefix: format!("ce2e-{pid}-{serial}"),
            link_prefix: format!("ce{pid:x}x{serial}"),
            subnet: [10, 64 + (slot / 256) as u8, (slot % 256) as u8],
            nodes,
        };
        network.build();
        network
    }

    fn hub(&self) -> String {
        format!("{}-hub", self.prefix)
    }

    /// The namespace of node `index` (0-based).
    pub fn namespace(&self, index: usize) -> String {
        format!("{}-n{}", self.prefix, index + 1)
    }

    /// The address of node `index` (0-based): `10.X.Y.(index + 1)`.
    pub fn address(&self, index: usize) -> Ipv4Addr {
        let [a, b, c] = self.subnet;
        Ipv4Addr::new(a, b, c, index as u8 + 1)
    }

    /// Where member `index` runs: its address, in its namespace.
    pub fn host(&self, index: usize) -> Host {
        Host {
            ip: IpAddr::V4(self.address(index)),
            netns: Some(self.namespace(index)),
        }
    }

    fn build(&self) {
        let hub = self.hub();
        let [a, b, c] = self.subnet;
        ip(&["netns", "add", &hub]);
        ip(&["-n", &hub, "link", "set", "lo", "up"]);
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &hub, "link", "set", "br0", "up"]);
        for index in 0..self.nodes {
            let netns = self.namespace(index);
            let (inner, outer) = (
                format!("{}n{}", self.link_prefix, index + 1),
                format!("{}h{}", self.link_prefix, index + 1),
            );
            ip(&["netns", "add", &netns]);
            ip(&[
                "link", "add", &inner, "type", "veth", "peer", "name", &outer,
            ]);
            ip(&["link", "set", &inner, "netns", &netns]);
            ip(&["link", "set", &outer, "netns", &hub]);
            ip(&["-n", &netns, "link", "set", &inner, "name", "eth0"]);
            let address = format!("{}/24", self.address(index));
            ip(&["-n", &netns, "addr", "add", &address, "dev", "eth0"]);
            ip(&["-n", &netns, "link", "set", "eth0", "up"]);
            ip(&["-n", &netns, "link", "set", "lo", "up"]);
            ip(&["-n", &hub, "link", "set", &outer, "master", "br0", "up"]);
        }
        let (host, hub_side) = (
            format!("{}hs", self.link_prefix),
            format!("{}hh", self.link_prefix),
        );
        ip(&[
            "link", "add", &host, "type", "veth", "peer", "name", &hub_side,
        ]);
        ip(&["link", "set", &hub_side, "netns", &hub]);
        ip(&["-n", &hub, "link", "set", &hub_side, "master", "br0", "up"]);
        ip(&["addr", "add", &format!("{a}.{b}.{c}.254/24"), "dev", &host]);
        ip(&["link", "set", &host, "up"]);
    }

    /// Cuts node `index` off from every other node: packets between them
    /// are dropped both ways (the host still reaches it).
    pub fn cut(&self, index: usize) {
        let others: Vec<String> = (0..self.nodes)
            .filter(|&other| other != index)
            .map(|other| self.address(other).to_string())
            .collect();
        let others = others.join(", ");
        let rules = format!(
            "table inet {CUT_TABLE} {{\n\
             \tchain input {{ type filter hook input priority 0; policy accept; ip saddr {{ {others} }} drop; }}\n\
             \tchain output {{ type filter hook output priority 0; policy accept; ip daddr {{ {others} }} drop; }}\n\
             }}\n"
        );
        nft(&self.namespace(index), &["-f", "-"], Some(&rules));
    }

    /// Lifts node `index`'s cut.
    pub fn heal(&self, index: usize) {
        nft(
            &self.namespace(index),
            &["delete", "table", "inet", CUT_TABLE],
            None,
        );
    }

    /// The rules in node `index`'s namespace, as `nft list ruleset` prints
    /// them.
    pub fn rules(&self, index: usize) -> String {
        nft(&self.namespace(index), &["list", "ruleset"], None)
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        // Deleting a namespace deletes its ends of the veth pairs, and so
        // their peers: the host's link goes with the hub. Failures are
        // ignored here (a test may already be failing); `.ci/run` deletes
        // leftovers named `ce2e-*`.
        for index in 0..self.nodes {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.namespace(index)])
                .stderr(Stdio::null())
                .status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.hub()])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("ip")
            .args(["link", "del", &format!("{}hs", self.link_prefix)])
            .stderr(Stdio::null())
            .status();
    }
}

/// What the network needs and this machine lacks, if anything.
pub fn preflight() -> Result<(), String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|error| format!("running `id -u`: {error}"))?;
    let uid = String::from_utf8_lossy(&uid.stdout).trim().to_owned();
    let mut missing = Vec::new();
    if uid != "0" {
        missing.push(format!("root (running as uid {uid})"));
    }
    for (tool, package) in [("ip", "iproute2"), ("nft", "nftables")] {
        let found = Command::new(tool)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            missing.push(format!("`{tool}` (package {package})"));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("missing {}", missing.join(", ")))
    }
}

/// Runs `ip ARGS`, failing with its stderr.
fn ip(args: &[&str]) {
    run(Command::new("ip").args(args), None);
}

/// Runs `nft ARGS` in namespace `netns`, `input` on its stdin: its stdout.
fn nft(netns: &str, args: &[&str], input: Option<&str>) -> String {
    run(
        Command::new("ip")
            .args(["netns", "exec", netns, "nft"])
            .args(args),
        input,
    )
}

fn run(command: &mut Command, input: Option<&str>) -> String {
    let described = format!("{command:?}");
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{described}: {error}"));
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|error| panic!("{described}: writing its input: {error}"));
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|error| panic!("{described}: {error}"));
    assert!(
        output.status.success(),
        "{described} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
