//! Frames from shards on other nodes, turned back into the inbox items a
//! local shard takes.

use crate::address::{ShardCount, ShardId};
use crate::error::{CodecError, Error, Result};
use crate::registry::Registry;
use crate::shard::{Batch, Inbound};

use super::placement::{RemoteChannel, EXTERNAL_SOURCE};
use super::wire::{FrameHead, IncomingFrame};

/// Decodes a frame that arrived on `channel` into the destination shard
/// and the items for its inbox (one, or one per message for external
/// messages). A frame whose shards disagree with its channel, or name a
/// shard outside `count`, is refused: it would corrupt another channel's
/// sequence.
pub(crate) fn decode_frame(
    registry: &Registry,
    count: ShardCount,
    channel: RemoteChannel,
    bytes: &[u8],
) -> Result<(ShardId, Vec<Inbound>)> {
    let frame = IncomingFrame::read(bytes)?;
    let (src, dst) = match frame.head {
        FrameHead::Batch { from, to, .. } => (from.0, to),
        FrameHead::External { to } => (EXTERNAL_SOURCE, to),
    };
    if src != channel.src || dst.0 != channel.dst {
        return Err(mismatch(format!(
            "a frame for {src}→{dst} came on channel {channel}"
        )));
    }
    if dst.0 >= count.get() || (src != EXTERNAL_SOURCE && (src >= count.get() || src == dst.0)) {
        return Err(mismatch(format!(
            "channel {channel} is not between two of the {} shards",
            count.get()
        )));
    }
    let head = frame.head;
    let envelopes = frame.decode(registry)?;
    let misplaced = envelopes
        .iter()
        .find(|envelope| envelope.to.shard(count) != dst);
    if let Some(envelope) = misplaced {
        return Err(mismatch(format!(
            "a message for {} came on channel {channel}, but that actor is not on shard {dst}",
            envelope.to
        )));
    }
    let items = match head {
        FrameHead::Batch {
            from,
            first_seq,
            color,
            ..
        } => vec![Inbound::Batch(Batch {
            from,
            first_seq,
            color,
            envelopes,
        })],
        FrameHead::External { .. } => envelopes.into_iter().map(Inbound::External).collect(),
    };
    Ok((dst, items))
}

fn mismatch(reason: String) -> Error {
    Error::Codec(CodecError::Decode(reason))
}
