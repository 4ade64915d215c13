//! Recovery after kill -9: with three members and steady traffic, one
//! member that is not the coordinator is killed, and this node (the
//! coordinator) records when it declared the member dead, when a
//! generation without it ran here, when every shard it ran answered an
//! ask again, and when the first epoch after the kill committed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Result};
use cairn::http::views::MemberStatus;
use cairn::{Address, Node};
use tokio::task::JoinSet;

use crate::functions::{Echo, Echoed, Echoer, Item, Sink};
use crate::member::MemberProcess;
use crate::placement::{one_per_shard, owners};
use crate::PAYLOAD;

/// How long after the kill the cluster may take to serve and commit: a
/// deadline against hangs, not a bound the measurement checks.
const DEADLINE: Duration = Duration::from_secs(60);

/// How often the view and the history are read.
const TICK: Duration = Duration::from_millis(5);

/// How often each killed shard is probed with a new ask.
const PROBE_EVERY: Duration = Duration::from_millis(20);

/// How long one probe waits for its answer.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The steady traffic: this many tells every [`TRAFFIC_EVERY`] to sinks
/// on every shard.
const TRAFFIC_BURST: u64 = 100;
const TRAFFIC_EVERY: Duration = Duration::from_millis(5);
const TRAFFIC_SINKS: u64 = 256;

/// When things happened, measured from the kill.
pub(crate) struct Recovery {
    /// This node's membership view declared the victim dead.
    pub(crate) detected: Duration,
    /// A generation without the victim ran on this node.
    pub(crate) reconfigured: Duration,
    /// Every shard the victim ran had answered an ask again.
    pub(crate) serving: Duration,
    /// The first epoch started after the kill committed.
    pub(crate) committed: Duration,
    /// The longest a probe took to fail: one asked of the dead owner
    /// waits out its whole timeout, and more.
    pub(crate) slowest_failure: Duration,
}

/// Kills `victim` (a member other than `node`, which coordinates) under
/// steady traffic and times the cluster's recovery.
pub(crate) async fn kill_and_recover(node: &Node, victim: &mut MemberProcess) -> Result<Recovery> {
    let victim_id = victim.bind.to_string();
    let view = node.cluster_view().expect("a member");
    ensure!(
        view.coordinator != victim_id,
        "the victim {victim_id} coordinates; the scenario kills another member"
    );
    let (generation_before, owners_before) = owners(node)?;
    let probes: Vec<(usize, Address)> = one_per_shard::<Echoer>(&owners_before, &victim_id)
        .into_iter()
        .map(|id| {
            let address = Address::of::<Echoer>(id);
            let shards = cairn::ShardCount::new(owners_before.len() as u32).expect("shards");
            (address.shard(shards).index(), address)
        })
        .collect();
    ensure!(!probes.is_empty(), "the victim runs no shard");
    for (_, address) in &probes {
        probe(node.clone(), address.clone()).await?;
    }
    let traffic = tokio::spawn(steady_traffic(node.clone()));
    tokio::time::sleep(Duration::from_secs(1)).await;

    let killed_unix_ms = unix_ms();
    let killed = Instant::now();
    victim.kill()?;

    let mut detected = None;
    let mut reconfigured = None;
    let mut committed = None;
    let mut served: BTreeMap<usize, Duration> = BTreeMap::new();
    let mut slowest_failure = Duration::ZERO;
    let mut in_flight = JoinSet::new();
    let mut last_probe: Option<Instant> = None;
    let mut ticks = tokio::time::interval(TICK);
    let outcome = loop {
        if served.len() == probes.len() && committed.is_some() && detected.is_some() {
            break Ok(());
        }
        if killed.elapsed() > DEADLINE {
            break Err(anyhow::anyhow!(
                "no recovery within {DEADLINE:?}: detected {detected:?}, reconfigured \
                 {reconfigured:?}, {} of {} shards served, committed {committed:?}",
                served.len(),
                probes.len()
            ));
        }
        tokio::select! {
            _ = ticks.tick() => {
                let view = node.cluster_view().expect("a member");
                let alive = view.members.iter().any(|member| {
                    member.id == victim_id && member.status != MemberStatus::Dead
                });
                if !alive && detected.is_none() {
                    detected = Some(killed.elapsed());
                }
                let runs_without = view.generation.unwrap_or(0) > generation_before
                    && !view.shard_owners.contains(&victim_id);
                if runs_without && reconfigured.is_none() {
                    reconfigured = Some(killed.elapsed());
                }
                if committed.is_none() {
                    committed = node
                        .snapshot_history()
                        .iter()
                        .filter(|record| record.committed && record.started_unix_ms >= killed_unix_ms)
                        .map(|record| record.started_unix_ms + record.duration_ms - killed_unix_ms)
                        .min()
                        .map(Duration::from_millis);
                }
                if last_probe.is_none_or(|at| at.elapsed() >= PROBE_EVERY) {
                    last_probe = Some(Instant::now());
                    for (shard, address) in &probes {
                        if !served.contains_key(shard) {
                            let (shard, node, address) = (*shard, node.clone(), address.clone());
                            in_flight.spawn(async move {
                                let started = Instant::now();
                                let answered = probe(node, address).await.is_ok();
                                (shard, answered, started.elapsed())
                            });
                        }
                    }
                }
            }
            Some(joined) = in_flight.join_next() => match joined {
                Ok((shard, true, _)) => {
                    served.entry(shard).or_insert_with(|| killed.elapsed());
                }
                Ok((_, false, took)) => slowest_failure = slowest_failure.max(took),
                Err(_) => {}
            }
        }
    };
    traffic.abort();
    outcome?;
    // Probes still waiting were asked of the dead owner: see how long
    // they take to give up.
    while let Some(joined) = in_flight.join_next().await {
        if let Ok((_, false, took)) = joined {
            slowest_failure = slowest_failure.max(took);
        }
    }
    let (Some(detected), Some(committed)) = (detected, committed) else {
        bail!("this is a bug: the loop ends only once both are known");
    };
    Ok(Recovery {
        detected,
        reconfigured: reconfigured.unwrap_or_default(),
        serving: served.values().copied().max().unwrap_or_default(),
        committed,
        slowest_failure,
    })
}

/// One ask of an echo, with its own timeout.
async fn probe(node: Node, address: Address) -> Result<()> {
    let _: Echoed = node
        .ask_with_timeout(address, Echo(vec![7; PAYLOAD]), PROBE_TIMEOUT)
        .await?;
    Ok(())
}

/// Tells spread over every shard at a steady rate, until aborted. Sends
/// refused while the cluster reconfigures are dropped.
async fn steady_traffic(node: Node) {
    let mut ticks = tokio::time::interval(TRAFFIC_EVERY);
    let mut next = 0u64;
    loop {
        ticks.tick().await;
        for _ in 0..TRAFFIC_BURST {
            let sink = Address::of::<Sink>(next % TRAFFIC_SINKS);
            let _ = node.send(sink, Item(vec![7; PAYLOAD]));
            next += 1;
        }
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}
