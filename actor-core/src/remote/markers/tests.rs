//! The batcher and the expansion against each other, without a network.

use std::sync::Arc;

use crate::address::{ShardCount, ShardId};
use crate::error::MarkerBatchError;
use crate::remote::placement::{RemoteChannel, RemoteShards};

use super::batch::{ListedCut, MarkerBatch};
use super::incoming::{Expanded, LinkCuts};
use super::outgoing::{MarkerBatcher, Ready, RemoteCut, Role};

/// Places shards on named nodes, as a cluster sink would; sends nothing
/// (the batcher returns its batches).
struct Nodes {
    owners: Vec<&'static str>,
    max_frame: usize,
}

impl RemoteShards for Nodes {
    fn send(&self, _channel: RemoteChannel, _frame: Vec<u8>) {}

    fn max_frame(&self) -> usize {
        self.max_frame
    }

    fn node_of(&self, shard: u32) -> Option<&str> {
        self.owners
            .get(shard as usize)
            .copied()
            .filter(|node| *node != "here")
    }

    fn send_markers(&self, _node: &str, _frame: Vec<u8>) {}

    fn send_credit(&self, _channel: RemoteChannel, _through_seq: u64) {}
}

/// Shards 0–1 here, 2–3 on `b`, 4–5 on `c`.
fn sink() -> Arc<dyn RemoteShards> {
    Arc::new(Nodes {
        owners: vec!["here", "here", "b", "b", "c", "c"],
        max_frame: 1 << 20,
    })
}

fn count() -> ShardCount {
    ShardCount::new(6).unwrap()
}

fn batcher() -> MarkerBatcher {
    let mut roles = vec![Role::Absent; 6];
    roles[0] = Role::Steady;
    roles[1] = Role::Steady;
    MarkerBatcher::new(roles)
}

/// `source` records `epoch`, having sent `sent[d]` messages to each
/// remote shard `d` (2–5).
fn record(
    batcher: &mut MarkerBatcher,
    sink: &Arc<dyn RemoteShards>,
    source: u32,
    epoch: u64,
    sent: [u64; 4],
) -> Vec<Ready> {
    let cuts: Vec<RemoteCut<'_>> = (2..6)
        .map(|to| RemoteCut {
            sink,
            to: ShardId(to),
            cut_seq: sent[to as usize - 2],
        })
        .collect();
    batcher.recorded(ShardId(source), epoch, &cuts)
}

fn ids(shards: &[u32]) -> Vec<ShardId> {
    shards.iter().copied().map(ShardId).collect()
}

fn cut(from: u32, to: u32, cut_seq: u64) -> ListedCut {
    ListedCut {
        from: ShardId(from),
        to: ShardId(to),
        cut_seq,
    }
}

#[test]
fn a_batch_per_node_goes_once_every_shard_here_has_recorded() {
    let sink = sink();
    let mut batcher = batcher();
    assert!(
        record(&mut batcher, &sink, 0, 1, [1, 2, 3, 4]).is_empty(),
        "shard 1 has not recorded yet"
    );
    let ready = record(&mut batcher, &sink, 1, 1, [5, 6, 7, 8]);
    let nodes: Vec<&str> = ready
        .iter()
        .map(|ready| batcher.link(ready.link).0)
        .collect();
    assert_eq!(nodes, ["b", "c"], "one batch per destination node");
    assert_eq!(
        ready[0].batch,
        MarkerBatch {
            epoch: 1,
            sources: ids(&[0, 1]),
            destinations: ids(&[2, 3]),
            cuts: vec![cut(0, 2, 1), cut(0, 3, 2), cut(1, 2, 5), cut(1, 3, 6)],
        },
        "the first batch on a link lists every cut"
    );
}

#[test]
fn later_batches_list_only_the_cuts_that_changed() {
    let sink = sink();
    let mut batcher = batcher();
    record(&mut batcher, &sink, 0, 1, [1, 2, 3, 4]);
    record(&mut batcher, &sink, 1, 1, [5, 6, 7, 8]);
    record(&mut batcher, &sink, 0, 2, [1, 2, 3, 4]);
    let ready = record(&mut batcher, &sink, 1, 2, [5, 9, 7, 8]);
    let cuts: Vec<Vec<ListedCut>> = ready.into_iter().map(|ready| ready.batch.cuts).collect();
    assert_eq!(
        cuts,
        vec![vec![cut(1, 3, 9)], vec![]],
        "only 1→3 moved; node c's batch lists nothing but still covers its channels"
    );
}

/// After a node restarts, the next batch to it lists every cut again: its
/// new process knows none of the old ones.
#[test]
fn a_restarted_node_gets_every_cut_again() {
    let sink = sink();
    let mut batcher = batcher();
    record(&mut batcher, &sink, 0, 1, [1, 2, 3, 4]);
    record(&mut batcher, &sink, 1, 1, [5, 6, 7, 8]);
    batcher.forget("b");
    record(&mut batcher, &sink, 0, 2, [1, 2, 3, 4]);
    let ready = record(&mut batcher, &sink, 1, 2, [5, 6, 7, 8]);
    let cuts: Vec<Vec<ListedCut>> = ready.into_iter().map(|ready| ready.batch.cuts).collect();
    assert_eq!(
        cuts,
        vec![
            vec![cut(0, 2, 1), cut(0, 3, 2), cut(1, 2, 5), cut(1, 3, 6)],
            vec![]
        ],
        "node b is told every cut again; node c, which did not restart, nothing"
    );
}

#[test]
fn expansion_gives_listed_cuts_and_the_last_ones_for_the_rest() {
    let mut links = LinkCuts::default();
    let hosted = |shard: ShardId| shard.0 >= 2;
    let first = MarkerBatch {
        epoch: 1,
        sources: ids(&[0, 1]),
        destinations: ids(&[2]),
        cuts: vec![cut(0, 2, 4), cut(1, 2, 7)],
    };
    let expanded = links.expand("a", &first, count(), hosted).unwrap();
    assert_eq!(
        expanded,
        vec![
            Expanded {
                from: ShardId(0),
                to: ShardId(2),
                cut_seq: 4
            },
            Expanded {
                from: ShardId(1),
                to: ShardId(2),
                cut_seq: 7
            },
        ]
    );
    let second = MarkerBatch {
        epoch: 2,
        cuts: vec![cut(1, 2, 9)],
        ..first.clone()
    };
    let cuts: Vec<u64> = links
        .expand("a", &second, count(), hosted)
        .unwrap()
        .iter()
        .map(|marker| marker.cut_seq)
        .collect();
    assert_eq!(cuts, [4, 9], "0→2 unchanged, 1→2 listed");
    let unlisted = MarkerBatch {
        epoch: 3,
        cuts: Vec::new(),
        ..first
    };
    assert_eq!(
        links.expand("other", &unlisted, count(), hosted),
        Err(MarkerBatchError::Unlisted { from: 0, to: 2 }),
        "another link has no last cut: the first batch there must list it"
    );
}

#[test]
fn bad_batches_are_refused_whole() {
    let mut links = LinkCuts::default();
    let hosted = |shard: ShardId| shard.0 >= 2;
    let good = MarkerBatch {
        epoch: 1,
        sources: ids(&[0]),
        destinations: ids(&[2, 3]),
        cuts: vec![cut(0, 2, 1), cut(0, 3, 1)],
    };
    let refused = |batch: MarkerBatch| {
        let mut links = LinkCuts::default();
        links.expand("a", &batch, count(), hosted).unwrap_err()
    };
    assert_eq!(
        refused(MarkerBatch {
            sources: ids(&[9]),
            ..good.clone()
        }),
        MarkerBatchError::ShardOutOfRange {
            shard: 9,
            shards: 6
        }
    );
    assert_eq!(
        refused(MarkerBatch {
            destinations: ids(&[2, 3, 2]),
            ..good.clone()
        }),
        MarkerBatchError::Repeated { shard: 2 }
    );
    assert_eq!(
        refused(MarkerBatch {
            destinations: ids(&[1, 2, 3]),
            ..good.clone()
        }),
        MarkerBatchError::NotHosted { shard: 1 }
    );
    assert_eq!(
        refused(MarkerBatch {
            cuts: vec![cut(0, 2, 1), cut(0, 4, 1)],
            ..good.clone()
        }),
        MarkerBatchError::NotCovered { from: 0, to: 4 },
        "a cut for a destination the batch does not name"
    );
    assert_eq!(
        refused(MarkerBatch {
            cuts: vec![cut(0, 2, 1), cut(0, 2, 2)],
            ..good.clone()
        }),
        MarkerBatchError::NotCovered { from: 0, to: 2 },
        "a channel listed twice"
    );
    // A refused batch leaves the link as it was: its cuts are not taken
    // as the last ones.
    let refused_first = MarkerBatch {
        destinations: ids(&[1, 2, 3]),
        ..good.clone()
    };
    assert!(links.expand("a", &refused_first, count(), hosted).is_err());
    let unlisted = MarkerBatch {
        cuts: Vec::new(),
        ..good
    };
    assert_eq!(
        links.expand("a", &unlisted, count(), hosted),
        Err(MarkerBatchError::Unlisted { from: 0, to: 2 })
    );
    assert!(MarkerBatch::decode(b"\xc1 not a batch").is_err());
}

#[test]
fn moving_shards_count_for_the_epochs_they_record_here() {
    let sink = sink();
    let mut batcher = batcher();
    batcher.set_role(ShardId(1), Role::Departing { last: 2 });
    batcher.set_role(ShardId(2), Role::Arriving { after: 2 });
    record(&mut batcher, &sink, 0, 2, [0; 4]);
    assert_eq!(
        record(&mut batcher, &sink, 1, 2, [0; 4]).len(),
        2,
        "the departing shard's last epoch here waits for it"
    );
    assert!(
        record(&mut batcher, &sink, 0, 3, [0; 4]).is_empty(),
        "the next epoch waits for the arriving shard, not the departed one"
    );
    let arrived = batcher.recorded(ShardId(2), 3, &[]);
    assert_eq!(arrived.len(), 2, "{arrived:?}");
    assert_eq!(arrived[0].batch.sources, ids(&[0]));
}

#[test]
fn a_shard_that_skipped_an_epoch_does_not_hold_its_batch() {
    let sink = sink();
    let mut batcher = batcher();
    record(&mut batcher, &sink, 0, 1, [1, 1, 1, 1]);
    let ready = record(&mut batcher, &sink, 1, 2, [2, 2, 2, 2]);
    assert_eq!(
        ready
            .iter()
            .map(|ready| (ready.batch.epoch, ready.batch.sources.clone()))
            .collect::<Vec<_>>(),
        vec![(1, ids(&[0])), (1, ids(&[0]))],
        "epoch 1 (aborted before shard 1 took it) goes without it; epoch 2 waits for shard 0"
    );
}

#[test]
fn a_batch_over_the_frame_limit_is_split_by_source() {
    let sink: Arc<dyn RemoteShards> = Arc::new(Nodes {
        owners: vec!["here", "here", "b", "b", "c", "c"],
        max_frame: 80,
    });
    let mut batcher = batcher();
    record(&mut batcher, &sink, 0, 1, [1, 2, 3, 4]);
    let ready = record(&mut batcher, &sink, 1, 1, [5, 6, 7, 8]);
    assert_eq!(ready.len(), 4, "two frames per node");
    let mut links = LinkCuts::default();
    for ready in &ready {
        assert!(ready.batch.encode().unwrap().len() <= 80);
        links
            .expand(batcher.link(ready.link).0, &ready.batch, count(), |_| true)
            .expect("each part stands alone");
    }
}

proptest::proptest! {
    /// Whatever cuts two shards record over several epochs, the batches
    /// to each node, encoded and expanded there, give every destination
    /// exactly the marker its source recorded.
    #[test]
    fn expansion_gives_back_every_recorded_cut(
        epochs in proptest::collection::vec(
            proptest::collection::vec(0..4u64, 8),
            1..6,
        ),
    ) {
        let sink = sink();
        let mut batcher = batcher();
        let mut links = LinkCuts::default();
        for (index, sent) in epochs.iter().enumerate() {
            let epoch = index as u64 + 1;
            let mut expected = Vec::new();
            let mut ready = Vec::new();
            for source in 0..2u32 {
                let row: [u64; 4] = sent[source as usize * 4..][..4].try_into().unwrap();
                for (to, cut_seq) in (2..6).zip(row) {
                    expected.push(Expanded { from: ShardId(source), to: ShardId(to), cut_seq });
                }
                ready.extend(record(&mut batcher, &sink, source, epoch, row));
            }
            let mut got = Vec::new();
            for ready in ready {
                let batch = MarkerBatch::decode(&ready.batch.encode().unwrap()).unwrap();
                proptest::prop_assert_eq!(batch.epoch, epoch);
                let node = batcher.link(ready.link).0;
                got.extend(links.expand(node, &batch, count(), |_| true).unwrap());
            }
            got.sort_by_key(|marker| (marker.from, marker.to));
            expected.sort_by_key(|marker| (marker.from, marker.to));
            proptest::prop_assert_eq!(got, expected);
        }
    }
}
