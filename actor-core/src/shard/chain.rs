//! When a shard's next part is full, starting its chain anew.
//!
//! Restoring a shard reads every part of its chain — the parts since its
//! last full one — although only the newest part's queued and in-flight
//! messages count: older parts' queues are superseded. A burst of traffic
//! leaves parts carrying hundreds of thousands of queued messages (tens
//! of megabytes each, measured in `cairn-bench`'s cluster run), and every
//! restore for up to [`FULL_SNAPSHOT_EVERY`](crate::FULL_SNAPSHOT_EVERY)
//! epochs afterwards read them again: 0.8 s of a recovery's 2.6–4 s. So
//! besides every 32nd epoch, a shard writes a full part once the
//! messages in its chain pass [`REBASE_AFTER_BYTES`], and right after a
//! restore (whose chain may carry such parts). A full part costs O(actors)
//! on the shard's thread.

use crate::snapshot::{is_full_epoch, Epoch, ShardSnapshot};

/// Bytes of queued and in-flight messages in a shard's chain past which
/// its next part is full.
pub(crate) const REBASE_AFTER_BYTES: usize = 16 << 20;

/// What a shard's chain carries since its last full part.
#[derive(Debug, Default)]
pub(super) struct ChainWeight {
    /// Message bytes in the parts since the last full one.
    message_bytes: usize,
    /// Whether the next part must be full.
    rebase: bool,
    /// The epoch of the last part, if this module forced it full: if that
    /// epoch aborts, the chain keeps its old parts, and the next part must
    /// be full instead.
    forced: Option<Epoch>,
}

impl ChainWeight {
    /// Whether the part of `epoch` is full; a full part starts the count
    /// again.
    pub(super) fn full_at(&mut self, epoch: Epoch) -> bool {
        let forced = self.rebase;
        let full = is_full_epoch(epoch) || forced;
        if full {
            *self = Self::default();
        }
        self.forced = forced.then_some(epoch);
        full
    }

    /// Epoch `epoch` was aborted: if its part was a forced full one, the
    /// next part is full in its stead.
    pub(super) fn aborted(&mut self, epoch: Epoch) {
        if self.forced == Some(epoch) {
            self.rebase = true;
        }
    }

    /// Counts a finished part's queued and in-flight messages.
    pub(super) fn add(&mut self, part: &ShardSnapshot) {
        let logs = part.channels.iter().flat_map(|channel| &channel.log);
        let bytes: usize = part.mailbox.iter().chain(logs).map(|m| m.body.len()).sum();
        self.message_bytes = self.message_bytes.saturating_add(bytes);
        if self.message_bytes > REBASE_AFTER_BYTES {
            self.rebase = true;
        }
    }

    /// The shard was restored from a chain this process did not write.
    pub(super) fn restored(&mut self) {
        self.rebase = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::{Address, FunctionType};
    use crate::snapshot::{StoredMessage, FULL_SNAPSHOT_EVERY};

    fn part(epoch: Epoch, queued: usize, each: usize) -> ShardSnapshot {
        let message = StoredMessage {
            to: Address::new(FunctionType::from_static("t/t"), 1),
            from: None,
            message: "m".into(),
            body: vec![0; each],
        };
        ShardSnapshot {
            mailbox: vec![message; queued],
            ..crate::test_support::empty_part(epoch)
        }
    }

    #[test]
    fn a_heavy_part_makes_the_next_one_full_and_a_light_chain_waits_for_its_epoch() {
        let mut weight = ChainWeight::default();
        assert!(!weight.full_at(1));
        weight.add(&part(1, 10, 100));
        assert!(!weight.full_at(2), "a light chain stays a chain");
        weight.add(&part(2, 2, REBASE_AFTER_BYTES / 2));
        assert!(weight.full_at(3), "past the bound, the next part is full");
        weight.add(&part(3, 1, 10));
        assert!(!weight.full_at(4), "the full part started the count again");
        assert!(weight.full_at(FULL_SNAPSHOT_EVERY));
        weight.restored();
        assert!(
            weight.full_at(FULL_SNAPSHOT_EVERY + 1),
            "the first part after a restore"
        );
        weight.aborted(FULL_SNAPSHOT_EVERY + 1);
        assert!(
            weight.full_at(FULL_SNAPSHOT_EVERY + 2),
            "a forced full part whose epoch aborted is written again"
        );
        assert!(!weight.full_at(FULL_SNAPSHOT_EVERY + 3));
        weight.aborted(FULL_SNAPSHOT_EVERY + 2);
        assert!(
            !weight.full_at(FULL_SNAPSHOT_EVERY + 4),
            "the abort of an epoch before the last part changes nothing"
        );
    }
}
