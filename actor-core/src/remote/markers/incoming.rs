//! The receiving node's side: a marker batch expanded into one marker per
//! covered channel, each at its listed cut or, unlisted, at the last cut
//! received for that channel on the same node link.

use std::collections::{HashMap, HashSet};

use crate::address::{ShardCount, ShardId};
use crate::error::MarkerBatchError;

use super::batch::MarkerBatch;

/// A marker for a shard hosted here: `to` takes `Marker(epoch, cut_seq)`
/// on the channel from `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expanded {
    pub(crate) from: ShardId,
    pub(crate) to: ShardId,
    pub(crate) cut_seq: u64,
}

/// The last cut received for each channel, per node link. Fresh for each
/// runtime: after a cluster rollback both ends start again empty.
#[derive(Debug, Default)]
pub(crate) struct LinkCuts {
    /// Sending node → (source, destination) → last cut received.
    links: HashMap<String, HashMap<(ShardId, ShardId), u64>>,
}

impl LinkCuts {
    /// Forgets the cuts received from `node`.
    pub(crate) fn forget(&mut self, node: &str) {
        self.links.remove(node);
    }

    /// Expands `batch`, which came from node `from`, into a marker per
    /// covered channel, and remembers its listed cuts. `hosted` tells
    /// whether a shard is hosted on this node. A batch that is not
    /// well-formed is refused whole: nothing is remembered.
    pub(crate) fn expand(
        &mut self,
        from: &str,
        batch: &MarkerBatch,
        count: ShardCount,
        hosted: impl Fn(ShardId) -> bool,
    ) -> Result<Vec<Expanded>, MarkerBatchError> {
        check_shards(&batch.sources, count)?;
        check_shards(&batch.destinations, count)?;
        if let Some(shard) = batch.destinations.iter().find(|shard| !hosted(**shard)) {
            return Err(MarkerBatchError::NotHosted { shard: shard.0 });
        }
        let sources: HashSet<ShardId> = batch.sources.iter().copied().collect();
        let destinations: HashSet<ShardId> = batch.destinations.iter().copied().collect();
        let mut listed = HashMap::with_capacity(batch.cuts.len());
        for cut in &batch.cuts {
            let covered =
                cut.from != cut.to && sources.contains(&cut.from) && destinations.contains(&cut.to);
            if !covered || listed.insert((cut.from, cut.to), cut.cut_seq).is_some() {
                return Err(MarkerBatchError::NotCovered {
                    from: cut.from.0,
                    to: cut.to.0,
                });
            }
        }
        let last = self.links.get(from);
        let mut markers = Vec::with_capacity(batch.sources.len() * batch.destinations.len());
        for &to in &batch.destinations {
            for &source in &batch.sources {
                if source == to {
                    continue;
                }
                let channel = (source, to);
                let cut_seq = listed
                    .get(&channel)
                    .or_else(|| last.and_then(|last| last.get(&channel)))
                    .copied()
                    .ok_or(MarkerBatchError::Unlisted {
                        from: source.0,
                        to: to.0,
                    })?;
                markers.push(Expanded {
                    from: source,
                    to,
                    cut_seq,
                });
            }
        }
        if !listed.is_empty() {
            self.links
                .entry(from.to_owned())
                .or_default()
                .extend(listed);
        }
        Ok(markers)
    }
}

/// Fails on a shard out of range or named twice.
fn check_shards(shards: &[ShardId], count: ShardCount) -> Result<(), MarkerBatchError> {
    let mut seen = HashSet::with_capacity(shards.len());
    for shard in shards {
        if shard.0 >= count.get() {
            return Err(MarkerBatchError::ShardOutOfRange {
                shard: shard.0,
                shards: count.get(),
            });
        }
        if !seen.insert(*shard) {
            return Err(MarkerBatchError::Repeated { shard: shard.0 });
        }
    }
    Ok(())
}
