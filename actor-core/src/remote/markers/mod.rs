//! Markers between nodes, batched per node link (SNAPSHOTS §3.2 rule 5).
//!
//! A shard sends its markers for shards of its own node straight to their
//! inboxes. Its markers for shards elsewhere go to the node's
//! [`NodeMarkers`], which holds them until every shard hosted here has
//! recorded the epoch and then sends one [`MarkerBatch`] per destination
//! node: about shards × nodes frames per epoch across the cluster instead
//! of shards². A batch names the sources and destinations it covers and
//! lists only the cuts that changed since the last batch on that link;
//! the receiving runtime expands it with [`LinkCuts`]. Both ends keep the
//! last cut per channel and link, and the link is FIFO, so they agree on
//! what an unlisted cut is.
//!
//! # Layout
//! - `batch`: the [`MarkerBatch`] frame.
//! - `outgoing`: [`MarkerBatcher`], the sans-IO sending side.
//! - `incoming`: [`LinkCuts`], the receiving side.

mod batch;
mod incoming;
mod outgoing;

#[cfg(test)]
mod tests;

use parking_lot::Mutex;

use crate::address::ShardId;
use crate::snapshot::Epoch;

pub(crate) use batch::MarkerBatch;
pub(crate) use incoming::{Expanded, LinkCuts};
pub(crate) use outgoing::{MarkerBatcher, Ready, RemoteCut, Role};

/// The node's marker batcher, shared by its shards: sends each batch as
/// soon as it is complete. Batches are sent under the lock, so each link
/// carries them in the order the batcher made them.
pub(crate) struct NodeMarkers(Mutex<MarkerBatcher>);

impl NodeMarkers {
    /// Batches for shards in `roles`, by shard index.
    pub(crate) fn new(roles: Vec<Role>) -> Self {
        Self(Mutex::new(MarkerBatcher::new(roles)))
    }

    /// `source` recorded `epoch`; `cuts` are its markers for shards on
    /// other nodes.
    pub(crate) fn recorded(&self, source: ShardId, epoch: Epoch, cuts: &[RemoteCut<'_>]) {
        let mut batcher = self.0.lock();
        let ready = batcher.recorded(source, epoch, cuts);
        send(&batcher, ready);
    }

    /// Forgets the cuts sent to `node`: it restarted, so its next batch
    /// lists every channel again.
    pub(crate) fn forget(&self, node: &str) {
        self.0.lock().forget(node);
    }

    /// Gives `shard` a new role (at a handoff).
    pub(crate) fn set_role(&self, shard: ShardId, role: Role) {
        let mut batcher = self.0.lock();
        let ready = batcher.set_role(shard, role);
        send(&batcher, ready);
    }
}

impl std::fmt::Debug for NodeMarkers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeMarkers").finish_non_exhaustive()
    }
}

fn send(batcher: &MarkerBatcher, ready: Vec<Ready>) {
    for Ready { link, batch } in ready {
        let (node, sink) = batcher.link(link);
        match batch.encode() {
            Ok(frame) => sink.send_markers(node, frame),
            // Plain ids and numbers: this cannot fail unless the encoder
            // itself is broken.
            Err(error) => {
                tracing::error!(node, epoch = batch.epoch, %error, "cannot encode a marker batch; this is a bug")
            }
        }
    }
}
