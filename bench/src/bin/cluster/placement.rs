//! Where things run: waiting until a generation spans the expected
//! members, and picking actor ids whose shards a given member runs. (The
//! ring's load bound gives every member of these small clusters shards.)

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use cairn::{Address, Node, ShardCount, StatefulFunction};

/// How long a cluster may take to form: a deadline against hangs.
const FORMING: Duration = Duration::from_secs(60);

/// The shard owners (by shard index) of the generation running on `node`,
/// and that generation.
pub(crate) fn owners(node: &Node) -> Result<(u64, Vec<String>)> {
    let view = node.cluster_view().context("not a cluster member")?;
    Ok((view.generation.unwrap_or(0), view.shard_owners))
}

/// Waits until the generation running on `node` gives shards to exactly
/// the members `expected` (node ids), and returns its owners.
pub(crate) async fn wait_formed(node: &Node, expected: &[String]) -> Result<Vec<String>> {
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    let deadline = Instant::now() + FORMING;
    loop {
        let (_, owners) = owners(node)?;
        let running: BTreeSet<&str> = owners.iter().map(String::as_str).collect();
        if running == expected {
            return Ok(owners);
        }
        if Instant::now() > deadline {
            bail!("no generation of {expected:?} within {FORMING:?}; shards run on {running:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `count` actor ids of `F`, from `from` on, whose shards `owner` runs
/// under `owners`.
pub(crate) fn ids_on<F: StatefulFunction>(
    owners: &[String],
    owner: &str,
    from: u64,
    count: usize,
) -> Vec<u64> {
    let shards = ShardCount::new(owners.len() as u32).expect("a cluster has shards");
    (from..)
        .filter(|id| owners[Address::of::<F>(*id).shard(shards).index()] == owner)
        .take(count)
        .collect()
}

/// For every shard `owner` runs under `owners`, one id of `F` on it.
pub(crate) fn one_per_shard<F: StatefulFunction>(owners: &[String], owner: &str) -> Vec<u64> {
    let shards = ShardCount::new(owners.len() as u32).expect("a cluster has shards");
    let mut wanted: BTreeSet<usize> = (0..owners.len())
        .filter(|shard| owners[*shard] == owner)
        .collect();
    let mut ids = Vec::new();
    for id in 0u64.. {
        if wanted.is_empty() {
            break;
        }
        if wanted.remove(&Address::of::<F>(id).shard(shards).index()) {
            ids.push(id);
        }
    }
    ids
}
