//! The bank contract in cluster form (issue 4, item 10), end to end: three
//! `bank node` processes, each on its own loopback address, over one
//! shared store and one transfers file, hit by a fault while the transfers
//! run. Each scenario ends with every balance exactly as computed from the
//! file, read from the store with `bank balances --store URL`, and still so
//! two commits later.
//!
//! The scenarios run one at a time (see `cluster_support`). Run them with
//! `cargo test -p cairn-examples --test bank_cluster`; add
//! `-- --nocapture` to follow each step's timing.

mod cluster_support;
mod served;
mod transfers;

use std::time::{Duration, Instant};

use cluster_support::{Cluster, Flags, Host, Workload};

/// How long a frozen member stays frozen at least: past failure detection
/// (at most 5 s).
const STALL: Duration = Duration::from_secs(8);

/// Three members on `127.0.0.1`, `.2` and `.3`, formed: the cluster, the
/// index of the coordinator (the oldest incarnation: the first to join,
/// which need not be the first started, since each member checks the
/// transfers file before it joins) and of another member.
fn three(flags: Flags) -> (Cluster, usize, usize) {
    let mut cluster = Cluster::new(Workload::standard(), flags);
    cluster.start(&[Host::loopback(1), Host::loopback(2), Host::loopback(3)]);
    let coordinator = cluster.wait_formed();
    (cluster, coordinator, (coordinator + 1) % 3)
}

/// A member killed with SIGKILL mid-run: the other two roll back, take its
/// shards and commit without it; restarted at the same address, it
/// rejoins as a new incarnation with shards of its own.
#[test]
fn a_member_killed_mid_run_then_restarted() {
    let (mut cluster, coordinator, member) = three(Flags::Full);
    let before = cluster.incarnation(coordinator, member);
    cluster.wait_mid_run();
    cluster.member(member).kill();
    cluster.note(&format!("killed node{} (SIGKILL)", member + 1));
    cluster.wait_for_fresh_commit("the other two commit without it");
    cluster.member(member).start();
    cluster.note("restarted it at the same address");
    cluster.wait_rejoined(member, before);
    cluster.finish();
}

/// The coordinator killed with SIGKILL mid-run: the next oldest member
/// takes over, the cluster rolls back to the last committed epoch and
/// commits again.
#[test]
fn the_coordinator_killed_mid_run() {
    let (mut cluster, coordinator, _) = three(Flags::Full);
    cluster.wait_mid_run();
    cluster.member(coordinator).kill();
    cluster.note(&format!(
        "killed node{}, the coordinator (SIGKILL)",
        coordinator + 1
    ));
    cluster.wait_for_fresh_commit("the other two commit without the coordinator");
    assert_ne!(
        cluster.wait_formed(),
        coordinator,
        "another member coordinates"
    );
    cluster.finish();
}

/// A member frozen with SIGSTOP past failure detection, until the others
/// have committed without it, then resumed with SIGCONT: it is fenced out
/// and rejoins as a new incarnation.
#[test]
fn a_member_stopped_past_the_failure_timeout_then_resumed() {
    let (mut cluster, coordinator, member) = three(Flags::Full);
    let before = cluster.incarnation(coordinator, member);
    cluster.wait_mid_run();
    cluster.member(member).stop();
    let stopped = Instant::now();
    cluster.note(&format!("froze node{} (SIGSTOP)", member + 1));
    cluster.wait_for_fresh_commit("the other two commit without it");
    std::thread::sleep(STALL.saturating_sub(stopped.elapsed()));
    cluster.member(member).resume();
    cluster.note(&format!(
        "resumed it (SIGCONT) after {:.1}s",
        stopped.elapsed().as_secs_f64()
    ));
    cluster.wait_rejoined(member, before);
    cluster.finish();
}

/// A fourth member joining while the transfers run, in a cluster started
/// with only the required flags (every cluster flag at its default): it is
/// given shards of its own, moved at an epoch cut without a rollback (the
/// generation stays the same).
#[test]
fn a_fourth_member_joins_under_load() {
    let mut cluster = Cluster::new(Workload::standard(), Flags::Required);
    cluster.start(&[Host::loopback(1), Host::loopback(2), Host::loopback(3)]);
    let coordinator = cluster.wait_formed();
    cluster.wait_mid_run();
    let generation = cluster.generation();
    let fourth = cluster.join(Host::loopback(4));
    assert_eq!(
        cluster.wait_formed(),
        coordinator,
        "a join does not move the coordinator"
    );
    assert_eq!(
        cluster.generation(),
        generation,
        "a join rolls nothing back"
    );
    cluster.note(&format!("node{} serves", fourth + 1));
    cluster.finish();
}

/// A member sent SIGTERM while the transfers run: it hands its shards over
/// at an epoch cut, without a rollback (the generation stays the same),
/// and exits 0, and the two others own every shard.
#[test]
fn a_member_leaves_gracefully_under_load() {
    let (mut cluster, coordinator, member) = three(Flags::Full);
    cluster.wait_mid_run();
    let generation = cluster.generation();
    let status = cluster.member(member).terminate();
    cluster.note(&format!("node{} left on SIGTERM: {status}", member + 1));
    assert!(status.success(), "a graceful leave exits 0, not {status}");
    assert_eq!(cluster.wait_formed(), coordinator);
    assert_eq!(
        cluster.generation(),
        generation,
        "a graceful leave rolls nothing back"
    );
    cluster.finish();
}
