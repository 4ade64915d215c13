//! Credit grants between nodes (SNAPSHOTS §3.1 rule 3): shard `dst` tells
//! the node of shard `src` that it has handled every message through a
//! sequence number on the channel `src → dst`. Grants travel on a
//! transport channel of their own, [`CREDIT_CHANNEL`], one per node pair,
//! each frame tagged with the generation like every data-plane frame.
//!
//! The body is 16 bytes, big-endian: `src` (u32), `dst` (u32),
//! `through_seq` (u64).

use bytes::{Buf, BufMut};
use cairn_core::RemoteChannel;

use crate::transport::ChannelId;

/// The transport channel credit grants travel on, one per node pair: no
/// shard has its number, and the external, control and marker channels use
/// `u32::MAX`, `u32::MAX - 1` and `u32::MAX - 2`.
pub const CREDIT_CHANNEL: ChannelId = ChannelId {
    src: u32::MAX - 3,
    dst: u32::MAX - 3,
};

/// Bytes in a grant's body.
const GRANT_LEN: usize = 16;

/// A grant's body: `channel.dst` has handled `channel`'s messages through
/// `through_seq`.
pub(crate) fn encode_grant(channel: RemoteChannel, through_seq: u64) -> [u8; GRANT_LEN] {
    let mut body = [0; GRANT_LEN];
    let mut writer = &mut body[..];
    writer.put_u32(channel.src);
    writer.put_u32(channel.dst);
    writer.put_u64(through_seq);
    body
}

/// The channel and sequence number a grant's body states.
pub(crate) fn decode_grant(body: &[u8]) -> Result<(RemoteChannel, u64), GrantError> {
    if body.len() != GRANT_LEN {
        return Err(GrantError { length: body.len() });
    }
    let mut body = body;
    let channel = RemoteChannel {
        src: body.get_u32(),
        dst: body.get_u32(),
    };
    Ok((channel, body.get_u64()))
}

/// A grant whose body is not 16 bytes long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a credit grant is {GRANT_LEN} bytes, this one {length}")]
pub(crate) struct GrantError {
    /// The body's length.
    pub(crate) length: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_round_trips_and_a_wrong_length_is_refused() {
        let channel = RemoteChannel { src: 3, dst: 70 };
        let body = encode_grant(channel, u64::MAX - 5);
        assert_eq!(decode_grant(&body), Ok((channel, u64::MAX - 5)));
        assert_eq!(decode_grant(&body[..15]), Err(GrantError { length: 15 }));
        assert_eq!(
            decode_grant(&[0; 17]),
            Err(GrantError { length: 17 }),
            "a longer body is refused too"
        );
    }
}
