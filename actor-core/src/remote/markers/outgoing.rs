//! The sending node's side: the markers its shards record, held until
//! every shard hosted here has recorded the epoch, then one batch per
//! destination node listing only the cuts that changed on that link.
//!
//! Sans-IO: it is told what each shard recorded and answers with the
//! batches to send, in the order they must go out on their links.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::address::ShardId;
use crate::snapshot::Epoch;

use super::super::placement::RemoteShards;
use super::batch::{ListedCut, MarkerBatch};

/// A marker for a shard on another node, as a shard records: the cut of
/// the channel to `to`, which its pre-cut routes reach through `sink`.
pub(crate) struct RemoteCut<'a> {
    pub(crate) sink: &'a Arc<dyn RemoteShards>,
    pub(crate) to: ShardId,
    pub(crate) cut_seq: u64,
}

/// Which epochs a shard records on this node, so which batches wait for
/// its markers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Not hosted here.
    Absent,
    /// Runs here: records every epoch.
    Steady,
    /// Leaves at the cut of `last` (SNAPSHOTS §3.8 rule 26): records up
    /// to that epoch, and freezes there.
    Departing { last: Epoch },
    /// Starts here from its part of `after` (rule 27): records the epochs
    /// after it.
    Arriving { after: Epoch },
}

impl Role {
    /// Whether a shard in this role records `epoch` here.
    fn records(self, epoch: Epoch) -> bool {
        match self {
            Role::Absent => false,
            Role::Steady => true,
            Role::Departing { last } => epoch <= last,
            Role::Arriving { after } => epoch > after,
        }
    }
}

/// A batch ready to go to the node of link `link`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Ready {
    pub(crate) link: usize,
    pub(crate) batch: MarkerBatch,
}

/// One source's markers for remote shards, by link.
struct Report {
    source: ShardId,
    cuts: Vec<(usize, ShardId, u64)>,
}

/// This node's end of the link to another node.
struct LinkOut {
    node: String,
    sink: Arc<dyn RemoteShards>,
    /// The last cut sent on this link for each channel (source,
    /// destination).
    sent: HashMap<(ShardId, ShardId), u64>,
}

/// The node-level marker batcher.
pub(crate) struct MarkerBatcher {
    /// Each shard's role, by index.
    roles: Vec<Role>,
    /// The last epoch each shard recorded here.
    reported: Vec<Epoch>,
    /// The markers of epochs whose batches have not gone out yet.
    pending: BTreeMap<Epoch, Vec<Report>>,
    links: Vec<LinkOut>,
}

impl MarkerBatcher {
    /// A batcher for `roles.len()` shards, in these roles.
    pub(crate) fn new(roles: Vec<Role>) -> Self {
        Self {
            reported: vec![0; roles.len()],
            roles,
            pending: BTreeMap::new(),
            links: Vec::new(),
        }
    }

    /// Sets `shard`'s role; a role change can complete a waiting epoch.
    pub(crate) fn set_role(&mut self, shard: ShardId, role: Role) -> Vec<Ready> {
        self.roles[shard.index()] = role;
        self.take_complete()
    }

    /// Forgets the cuts sent on the link to `node` (the link itself stays,
    /// as pending reports name it by index).
    pub(crate) fn forget(&mut self, node: &str) {
        for link in self.links.iter_mut().filter(|link| link.node == node) {
            link.sent.clear();
        }
    }

    /// The node and sink of link `link`.
    pub(crate) fn link(&self, link: usize) -> (&str, &Arc<dyn RemoteShards>) {
        let link = &self.links[link];
        (&link.node, &link.sink)
    }

    /// `source` recorded `epoch` with these markers for shards on other
    /// nodes (its pre-cut routes). Returns the batches now complete.
    ///
    /// A shard that records `epoch` will never record an earlier one, so
    /// its report also stands for every earlier epoch it skipped (an
    /// epoch aborted before it took it).
    pub(crate) fn recorded(
        &mut self,
        source: ShardId,
        epoch: Epoch,
        cuts: &[RemoteCut<'_>],
    ) -> Vec<Ready> {
        let reported = &mut self.reported[source.index()];
        if epoch <= *reported {
            tracing::error!(%source, epoch, last = *reported, "a shard recorded an epoch twice or out of order; this is a bug");
            return Vec::new();
        }
        *reported = epoch;
        let mut resolved = Vec::with_capacity(cuts.len());
        for cut in cuts {
            match cut.sink.node_of(cut.to.0) {
                Some(node) => {
                    let link = self.link_to(node, cut.sink);
                    resolved.push((link, cut.to, cut.cut_seq));
                }
                None => {
                    tracing::error!(%source, to = %cut.to, "a remote route to a shard its sink does not place on another node; marker dropped, this is a bug")
                }
            }
        }
        self.pending.entry(epoch).or_default().push(Report {
            source,
            cuts: resolved,
        });
        self.take_complete()
    }

    /// The index of the link to `node`, created on first use. The latest
    /// sink reaches it (a handoff gives new routes to the same nodes).
    fn link_to(&mut self, node: &str, sink: &Arc<dyn RemoteShards>) -> usize {
        if let Some(index) = self.links.iter().position(|link| link.node == node) {
            let link = &mut self.links[index];
            if !Arc::ptr_eq(&link.sink, sink) {
                link.sink = sink.clone();
            }
            return index;
        }
        self.links.push(LinkOut {
            node: node.to_owned(),
            sink: sink.clone(),
            sent: HashMap::new(),
        });
        self.links.len() - 1
    }

    /// Whether every shard that records `epoch` here has recorded it (or
    /// a later epoch, and skipped it).
    fn complete(&self, epoch: Epoch) -> bool {
        self.roles
            .iter()
            .zip(&self.reported)
            .all(|(role, reported)| !role.records(epoch) || *reported >= epoch)
    }

    /// Takes every complete epoch's markers out as batches, oldest epoch
    /// first.
    fn take_complete(&mut self) -> Vec<Ready> {
        let complete: Vec<Epoch> = self
            .pending
            .keys()
            .copied()
            .filter(|epoch| self.complete(*epoch))
            .collect();
        let mut ready = Vec::new();
        for epoch in complete {
            if let Some(reports) = self.pending.remove(&epoch) {
                self.batch(epoch, reports, &mut ready);
            }
        }
        ready
    }

    /// One batch per link and set of destinations (sources whose pre-cut
    /// routes agree, which is all of them unless a handoff's epoch was
    /// skipped), split if it would pass the link's frame limit.
    fn batch(&mut self, epoch: Epoch, reports: Vec<Report>, ready: &mut Vec<Ready>) {
        // link → destinations → (source, its cuts).
        type Groups = BTreeMap<usize, BTreeMap<Vec<ShardId>, Vec<(ShardId, Vec<(ShardId, u64)>)>>>;
        let mut groups: Groups = BTreeMap::new();
        for report in reports {
            let mut by_link: BTreeMap<usize, Vec<(ShardId, u64)>> = BTreeMap::new();
            for (link, to, cut_seq) in report.cuts {
                by_link.entry(link).or_default().push((to, cut_seq));
            }
            for (link, mut cuts) in by_link {
                cuts.sort_unstable();
                let destinations = cuts.iter().map(|(to, _)| *to).collect();
                groups
                    .entry(link)
                    .or_default()
                    .entry(destinations)
                    .or_default()
                    .push((report.source, cuts));
            }
        }
        for (link, by_destinations) in groups {
            let budget = (self.links[link].sink.max_frame() / 4 * 3).max(1);
            for (destinations, mut sources) in by_destinations {
                sources.sort_unstable_by_key(|(source, _)| *source);
                let mut batch = empty(epoch, &destinations);
                for (source, cuts) in sources {
                    let sent = &mut self.links[link].sent;
                    let listed: Vec<ListedCut> = cuts
                        .into_iter()
                        .filter(|(to, cut_seq)| {
                            sent.insert((source, *to), *cut_seq) != Some(*cut_seq)
                        })
                        .map(|(to, cut_seq)| ListedCut {
                            from: source,
                            to,
                            cut_seq,
                        })
                        .collect();
                    let size = MarkerBatch::estimate(
                        batch.sources.len() + 1 + destinations.len(),
                        batch.cuts.len() + listed.len(),
                    );
                    if !batch.sources.is_empty() && size > budget {
                        let full = std::mem::replace(&mut batch, empty(epoch, &destinations));
                        ready.push(Ready { link, batch: full });
                    }
                    batch.sources.push(source);
                    batch.cuts.extend(listed);
                }
                ready.push(Ready { link, batch });
            }
        }
    }
}

/// A batch of `epoch` for `destinations`, with no source yet.
fn empty(epoch: Epoch, destinations: &[ShardId]) -> MarkerBatch {
    MarkerBatch {
        epoch,
        sources: Vec::new(),
        destinations: destinations.to_vec(),
        cuts: Vec::new(),
    }
}
