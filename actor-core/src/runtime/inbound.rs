//! Frames from shards on other nodes: batches and messages from outside
//! on their channels, and marker batches per node link.

use bytes::Bytes;

use crate::address::ShardId;
use crate::error::{Error, Result};
use crate::remote::{decode_frame, Expanded, MarkerBatch, RemoteChannel, EXTERNAL_SOURCE};
use crate::shard::Inbound;

use super::Runtime;

impl Runtime {
    /// Takes a frame that arrived from another node on `channel` (see
    /// [`RemoteShards`](crate::RemoteShards)) and hands it to the
    /// destination shard, which must be hosted here. The shard decodes it
    /// on its own turn, checks the channel's sequence and runs the
    /// snapshot rules as for a local channel; a frame that does not decode
    /// or does not match its channel is refused there whole, and logged.
    /// Messages from outside for a shard that has moved away (sent before
    /// the move, and late) are forwarded to its new node (SNAPSHOTS §3.8
    /// rule 25: strays are forwarded). Fails for another channel to a
    /// shard that runs elsewhere, and during shutdown.
    pub fn deliver_remote(&self, channel: RemoteChannel, frame: Bytes) -> Result<()> {
        if self.is_shutting_down() {
            return Err(Error::ShuttingDown);
        }
        let shard_count = self.inner.config.shard_count;
        if channel.dst >= shard_count.get() {
            return Err(Error::Config(format!(
                "channel {channel} leads to no shard of {}",
                shard_count.get()
            )));
        }
        let frame = match self.hosted_inbox(ShardId(channel.dst)) {
            Ok(inbox) => match inbox.send(Inbound::Frame {
                channel,
                bytes: frame,
            }) {
                Ok(()) => return Ok(()),
                // A shard that has just handed off stops before it is
                // forgotten here: what comes from outside meanwhile is a
                // stray too.
                Err(refused) if channel.src == EXTERNAL_SOURCE => match refused.0 {
                    Inbound::Frame { bytes, .. } => bytes,
                    _ => return Err(Error::ShuttingDown),
                },
                Err(_) => return Err(Error::ShuttingDown),
            },
            Err(Error::RemoteShard { .. }) if channel.src == EXTERNAL_SOURCE => frame,
            Err(error) => return Err(error),
        };
        let (_, items) = decode_frame(&self.inner.registry, shard_count, channel, &frame)?;
        self.forward_strays(items)
    }

    /// Takes a grant that came from another node (see
    /// [`RemoteShards::send_credit`](crate::RemoteShards::send_credit)):
    /// shard `channel.dst` has handled every message through `through_seq`
    /// that shard `channel.src`, hosted here, sent it. A grant for a shard
    /// that has moved away is dropped: the shard's new owner counts its
    /// channels as handled. Fails for a shard out of range, and during
    /// shutdown.
    pub fn deliver_credit(&self, channel: RemoteChannel, through_seq: u64) -> Result<()> {
        if self.is_shutting_down() {
            return Err(Error::ShuttingDown);
        }
        let shard_count = self.inner.config.shard_count.get();
        if channel.src >= shard_count || channel.dst >= shard_count {
            return Err(Error::Config(format!(
                "credit on channel {channel} between no shards of {shard_count}"
            )));
        }
        if let Ok(inbox) = self.hosted_inbox(ShardId(channel.src)) {
            let credit = Inbound::Credit {
                from: ShardId(channel.dst),
                through_seq,
            };
            if inbox.send(credit).is_err() {
                tracing::debug!(%channel, "shard stopped; credit dropped");
            }
        }
        Ok(())
    }

    /// Sends messages from outside on to the node their shard runs on now.
    /// They are not on a Chandy–Lamport channel (a message from outside is
    /// in a snapshot only once its shard has taken it), so the detour
    /// breaks no cut.
    fn forward_strays(&self, items: Vec<Inbound>) -> Result<()> {
        for item in items {
            if let Inbound::External(envelope) = item {
                self.deliver(envelope)?;
            }
        }
        Ok(())
    }

    /// Forgets the marker cuts exchanged with `node`, which restarted as a
    /// new process: both ends of the link start again empty, so the next
    /// batch to it lists every channel (its new life knows none) and one
    /// from it is expanded from what it lists.
    pub fn forget_node(&self, node: &str) {
        self.inner.markers.forget(node);
        self.inner.link_cuts.lock().forget(node);
    }

    /// Takes a batch of markers that came from node `from` (see
    /// [`RemoteShards`](crate::RemoteShards)): each destination shard
    /// named, which must be hosted here, gets a marker on the channel from
    /// each source named, at the cut the batch lists or, unlisted, at the
    /// last cut received for that channel from `from` (SNAPSHOTS §3.2
    /// rule 5). Fails, delivering nothing, on a batch that does not
    /// decode, names a shard out of range or not hosted here, or leaves
    /// out a channel whose cut it never listed
    /// ([`Error::MarkerBatch`]); and during shutdown.
    pub fn deliver_markers(&self, from: &str, frame: &[u8]) -> Result<()> {
        if self.is_shutting_down() {
            return Err(Error::ShuttingDown);
        }
        let batch = MarkerBatch::decode(frame)?;
        let hosted = self.inner.hosted.read();
        let mut link_cuts = self.inner.link_cuts.lock();
        let markers = link_cuts
            .expand(from, &batch, self.inner.config.shard_count, |shard| {
                hosted.get(shard.index()).is_some_and(Option::is_some)
            })
            .map_err(|reason| Error::MarkerBatch {
                node: from.to_owned(),
                epoch: batch.epoch,
                reason,
            })?;
        for Expanded { from, to, cut_seq } in markers {
            let Some(Some(shard)) = hosted.get(to.index()) else {
                continue;
            };
            let marker = Inbound::Marker {
                from,
                epoch: batch.epoch,
                cut_seq,
            };
            if shard.inbox.send(marker).is_err() {
                tracing::debug!(shard = %to, "shard stopped; marker dropped");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::address::{ShardCount, ShardId};
    use crate::error::Error;
    use crate::registry::Registry;
    use crate::remote::{Placement, RemoteChannel};
    use crate::runtime::{Runtime, RuntimeConfig};
    use crate::test_support::Nowhere;

    /// Credit from another node: taken for a shard that runs here, dropped
    /// for one that runs elsewhere (it moved), refused for a channel
    /// between shards that do not exist, and refused during shutdown.
    #[tokio::test]
    async fn credit_from_another_node_is_checked() {
        let config = RuntimeConfig {
            shard_count: ShardCount::new(2).unwrap(),
            ..RuntimeConfig::default()
        };
        let placement = Placement::partial([ShardId(0)], Arc::new(Nowhere));
        let runtime = Runtime::start_with(
            config,
            Registry::new(),
            Vec::new(),
            None,
            Vec::new(),
            placement,
        )
        .unwrap();
        let here = RemoteChannel { src: 0, dst: 1 };
        runtime.deliver_credit(here, 10).unwrap();
        let elsewhere = RemoteChannel { src: 1, dst: 0 };
        runtime.deliver_credit(elsewhere, 10).unwrap();
        for channel in [
            RemoteChannel { src: 2, dst: 1 },
            RemoteChannel { src: 0, dst: 7 },
        ] {
            let refused = runtime.deliver_credit(channel, 10);
            assert!(matches!(refused, Err(Error::Config(_))), "{refused:?}");
        }
        runtime.shutdown().await;
        let refused = runtime.deliver_credit(here, 11);
        assert!(matches!(refused, Err(Error::ShuttingDown)), "{refused:?}");
    }
}
