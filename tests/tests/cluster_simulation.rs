//! Seeded simulation of the cluster control plane (SNAPSHOTS §5): three
//! real members — coordinator, generations, fencing, handoffs, recovery,
//! a shared fs store — on the in-memory transport and gossip, under frame
//! drops, duplicates and delays, with partitions, a crash and replacement,
//! an isolated coordinator, a join and a graceful leave, a member cut off
//! only until the others moved on (back in its same life), a member
//! whose gossip the others stop hearing while it hears theirs (an
//! asymmetric partition), chosen by the seed; then liveness, exact balances, every committed epoch audited,
//! fencing and FIFO checked. Each run prints its seed and schedule.
//!
//! Real time, not paused: the shards, the store and the ingress readers
//! use threads and real I/O. One seed at a time (a lock): each runs three
//! or four members on a machine's few cores.

mod simulation_support;

use simulation_support::simulate;

/// One seed at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Seed 1: a crash and replacement, and an isolated coordinator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_1_crash_and_isolated_coordinator() {
    init_tracing();
    let _serial = SERIAL.lock().await;
    simulate(1).await;
}

/// Seed 2: an isolated coordinator, and a join then a graceful leave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_2_isolated_coordinator_and_join_leave() {
    init_tracing();
    let _serial = SERIAL.lock().await;
    simulate(2).await;
}

/// Seed 3: a join then a graceful leave, and a member cut off briefly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_3_join_leave_and_short_partition() {
    init_tracing();
    let _serial = SERIAL.lock().await;
    simulate(3).await;
}

/// Seed 4: a member cut off briefly, and a member the others stop
/// hearing while it hears them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_4_short_partition_and_unheard_member() {
    init_tracing();
    let _serial = SERIAL.lock().await;
    simulate(4).await;
}

/// Seed 5: a member the others stop hearing, and a partitioned member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_5_unheard_member_and_partition() {
    init_tracing();
    let _serial = SERIAL.lock().await;
    simulate(5).await;
}
