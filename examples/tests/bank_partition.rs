//! The bank contract in cluster form under a real network partition: three
//! `bank node` processes, each in its own network namespace, one of them
//! cut off from the two others by nftables rules for longer than failure
//! detection, then healed. The two sides share the store (a host folder);
//! the cut-off member must be fenced out and rejoin as a new incarnation,
//! and the balances must end exactly as computed from the file.
//!
//! It needs root, iproute2 and nftables, which `.ci/run` installs and
//! checks before `cargo test --workspace`. Run without them, it fails
//! saying what is missing; it never passes without cutting anything. By
//! hand, as root: `cargo test -p cairn-examples --test bank_partition`.

mod cluster_support;
mod netns;
mod served;
mod transfers;

use std::time::{Duration, Instant};

use cluster_support::{Cluster, Flags, Workload};
use netns::Network;

/// How long a cut lasts at least: twice failure detection (at most 5 s).
const CUT: Duration = Duration::from_secs(10);

/// Three members in namespaces of `network`, formed: the cluster, the
/// index of the coordinator and of another member.
fn three(network: &Network) -> (Cluster, usize, usize) {
    let mut cluster = Cluster::new(Workload::standard(), Flags::Full);
    cluster.start(&[network.host(0), network.host(1), network.host(2)]);
    let coordinator = cluster.wait_formed();
    (cluster, coordinator, (coordinator + 1) % 3)
}

/// Cuts member `index` off for at least [`CUT`] and until the others have
/// committed without it, then heals the cut.
fn partition(network: &Network, cluster: &mut Cluster, index: usize) {
    network.cut(index);
    let cut = Instant::now();
    cluster.note(&format!("cut node{} off", index + 1));
    assert!(
        network.rules(index).contains("drop"),
        "the cut's rules are in place"
    );
    cluster.wait_for_fresh_commit("the other side commits without the cut-off member");
    std::thread::sleep(CUT.saturating_sub(cut.elapsed()));
    network.heal(index);
    cluster.note(&format!(
        "healed node{} after {:.1}s",
        index + 1,
        cut.elapsed().as_secs_f64()
    ));
}

/// A member cut off mid-run: the two others roll back, take its shards and
/// commit; healed, it is fenced out and rejoins as a new incarnation.
#[test]
fn a_member_cut_off_by_a_partition_is_fenced_and_rejoins() {
    let network = Network::create(3);
    let (mut cluster, coordinator, member) = three(&network);
    let before = cluster.incarnation(coordinator, member);
    cluster.wait_mid_run();
    partition(&network, &mut cluster, member);
    cluster.wait_rejoined(member, before);
    cluster.finish();
}

/// The coordinator cut off mid-run: the two others choose the next oldest
/// to coordinate and commit without it; healed, the old coordinator is
/// fenced out and rejoins as a new incarnation, no longer coordinating.
#[test]
fn the_coordinator_cut_off_by_a_partition_is_fenced_and_rejoins() {
    let network = Network::create(3);
    let (mut cluster, coordinator, member) = three(&network);
    let before = cluster.incarnation(member, coordinator);
    cluster.wait_mid_run();
    partition(&network, &mut cluster, coordinator);
    cluster.wait_rejoined(coordinator, before);
    assert_ne!(
        cluster.wait_formed(),
        coordinator,
        "another member coordinates: the old coordinator came back younger"
    );
    cluster.finish();
}
