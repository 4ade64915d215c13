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
/// messages). A frame whose shards disagree with its channel, that names
/// a shard outside `count`, or a batch from the external source, is
/// refused: it would corrupt another channel's sequence. So is a frame
/// holding a message for an actor of another shard, found before that
/// message's body is decoded.
pub(crate) fn decode_frame(
    registry: &Registry,
    count: ShardCount,
    channel: RemoteChannel,
    bytes: &[u8],
) -> Result<(ShardId, Vec<Inbound>)> {
    let frame = IncomingFrame::read(bytes)?;
    let dst = match frame.head {
        FrameHead::Batch { from, to, .. } => {
            if from.0 != channel.src || to.0 != channel.dst {
                return Err(mismatch(format!(
                    "a batch for {from}→{to} came on channel {channel}"
                )));
            }
            if from.0 >= count.get() || from == to {
                return Err(mismatch(format!(
                    "a batch on channel {channel}, which is not between two of the {} shards",
                    count.get()
                )));
            }
            to
        }
        FrameHead::External { to } => {
            if channel.src != EXTERNAL_SOURCE || to.0 != channel.dst {
                return Err(mismatch(format!(
                    "messages from outside for {to} came on channel {channel}"
                )));
            }
            to
        }
    };
    if dst.0 >= count.get() {
        return Err(mismatch(format!(
            "channel {channel} leads to none of the {} shards",
            count.get()
        )));
    }
    let head = frame.head;
    let envelopes = frame.decode(registry, |to| {
        if to.shard(count) == dst {
            Ok(())
        } else {
            Err(CodecError::Decode(format!(
                "a message for {to} came on channel {channel}, but that actor is not on shard {dst}"
            )))
        }
    })?;
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
