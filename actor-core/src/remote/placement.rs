//! Which shards a runtime runs, and where frames for the others go.

use std::fmt;
use std::sync::Arc;

use crate::address::{ShardCount, ShardId};
use crate::envelope::AskReply;
use crate::error::{AskError, Error, Result};
use crate::snapshot::StoredMessage;

/// The source of the node-level channel that carries messages sent from
/// outside the actor system ([`Runtime::send`](crate::Runtime::send)) to a
/// shard on another node: no shard has this id.
pub const EXTERNAL_SOURCE: u32 = u32::MAX;

/// A logical channel to a shard on another node: `src` is the sending
/// shard (or [`EXTERNAL_SOURCE`]), `dst` the receiving shard. Frames of one
/// channel must be delivered exactly once and in order; channels are
/// independent of each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RemoteChannel {
    /// The sending shard, or [`EXTERNAL_SOURCE`].
    pub src: u32,
    /// The receiving shard.
    pub dst: u32,
}

impl fmt::Display for RemoteChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.src == EXTERNAL_SOURCE {
            write!(f, "external→{}", self.dst)
        } else {
            write!(f, "{}→{}", self.src, self.dst)
        }
    }
}

/// Where a runtime hands the frames for shards it does not run; the
/// cluster layer implements it over its transport.
///
/// `send` and `send_markers` are called from a shard's turn, so they must
/// not block: queue the frame and return. The implementation must deliver
/// each channel's frames exactly once and in order to the node running
/// `channel.dst`, which passes them to
/// [`Runtime::deliver_remote`](crate::Runtime::deliver_remote); and each
/// node's marker batches exactly once and in order, on a channel of their
/// own, to that node, which passes them to
/// [`Runtime::deliver_markers`](crate::Runtime::deliver_markers) with the
/// name of the node they came from.
pub trait RemoteShards: Send + Sync + 'static {
    /// Queues `frame` on `channel`. A frame that cannot be queued (the
    /// transport is shut down, the frame is too large) is the
    /// implementation's to log: the receiver will see a sequence gap.
    fn send(&self, channel: RemoteChannel, frame: Vec<u8>);

    /// The largest frame `send` takes, in bytes. Batches are split into
    /// frames below it.
    fn max_frame(&self) -> usize;

    /// The name of the node that runs `shard` under this sink's map, or
    /// `None` for a shard that runs here or is out of range. Markers for
    /// the shards of one node travel together, as one batch.
    fn node_of(&self, shard: u32) -> Option<&str>;

    /// Queues a marker batch for `node` (a name [`RemoteShards::node_of`]
    /// gave). Batches to one node must arrive in the order they were
    /// queued: each lists only the cuts that changed since the previous.
    fn send_markers(&self, node: &str, frame: Vec<u8>);

    /// Tells the node running `channel.src` that shard `channel.dst` has
    /// handled every message through `through_seq` on the channel: credit
    /// (SNAPSHOTS §3.1 rule 3), which that node passes to
    /// [`Runtime::deliver_credit`](crate::Runtime::deliver_credit). Called
    /// from a shard's turn: must not block. Grants are cumulative, so one
    /// that is lost is made good by the next; a sender that gets none
    /// waits [`RuntimeConfig::credit_patience`](crate::RuntimeConfig::credit_patience)
    /// per window.
    fn send_credit(&self, channel: RemoteChannel, through_seq: u64);

    /// Whether frames pile up faster than the other nodes take them: while
    /// it holds, ingress readers admit no new record (the default: never).
    fn congested(&self) -> bool {
        false
    }

    /// Forwards an ask from outside the actor system (`message`, for an
    /// actor of `shard`) to the node running that shard, and hands that
    /// node's answer to `reply` (`durable`: answered there only once the
    /// epoch holding the handler's effects commits). Called when an ask
    /// reaches a node its shard has left, possibly from a shard's turn:
    /// must not block. Every failure on the way (the owner is dead, the
    /// cluster moved to a new generation) must reach `reply` as an error;
    /// dropping it unanswered tells the caller no reply came.
    ///
    /// The default refuses the ask with [`Error::RemoteShard`], for sinks
    /// with no way to carry a reply back.
    fn forward_ask(&self, shard: u32, message: StoredMessage, durable: bool, reply: AskReply) {
        let _ = (message, durable);
        reply.answer(Err(AskError::Send(Error::RemoteShard { shard })));
    }
}

/// Which shards a runtime runs: all of them (a single node, the default),
/// or some, with the others reached through a [`RemoteShards`].
#[derive(Clone)]
pub struct Placement {
    owned: Option<Vec<ShardId>>,
    remote: Option<Arc<dyn RemoteShards>>,
}

impl Placement {
    /// Every shard runs here: a cluster of one.
    pub fn all() -> Self {
        Self {
            owned: None,
            remote: None,
        }
    }

    /// Only `owned` run here; the other shards' channels go to `remote`.
    pub fn partial(
        owned: impl IntoIterator<Item = ShardId>,
        remote: Arc<dyn RemoteShards>,
    ) -> Self {
        let mut owned: Vec<ShardId> = owned.into_iter().collect();
        owned.sort_unstable();
        owned.dedup();
        Self {
            owned: Some(owned),
            remote: Some(remote),
        }
    }

    /// For each shard of `count`, whether it runs here; fails on a shard
    /// id out of range.
    pub(crate) fn owned_mask(&self, count: ShardCount) -> Result<Vec<bool>> {
        let count = count.get() as usize;
        let Some(owned) = &self.owned else {
            return Ok(vec![true; count]);
        };
        let mut mask = vec![false; count];
        for shard in owned {
            match mask.get_mut(shard.index()) {
                Some(slot) => *slot = true,
                None => {
                    return Err(Error::Config(format!(
                        "placement owns shard {shard}, but there are only {count} shards"
                    )))
                }
            }
        }
        Ok(mask)
    }

    /// Where frames for shards not run here go.
    pub(crate) fn remote(&self) -> Option<&Arc<dyn RemoteShards>> {
        self.remote.as_ref()
    }
}

impl Default for Placement {
    fn default() -> Self {
        Self::all()
    }
}

impl fmt::Debug for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Placement")
            .field("owned", &self.owned)
            .field("remote", &self.remote.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::Nowhere;

    #[test]
    fn masks_follow_the_owned_shards_and_refuse_unknown_ones() {
        let count = ShardCount::new(4).unwrap();
        assert_eq!(Placement::all().owned_mask(count).unwrap(), vec![true; 4]);
        let partial = Placement::partial([ShardId(3), ShardId(1), ShardId(1)], Arc::new(Nowhere));
        assert_eq!(
            partial.owned_mask(count).unwrap(),
            vec![false, true, false, true]
        );
        let beyond = Placement::partial([ShardId(4)], Arc::new(Nowhere));
        assert!(matches!(beyond.owned_mask(count), Err(Error::Config(_))));
    }
}
