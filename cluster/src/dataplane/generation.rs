//! Every data-plane frame carries the generation of the shard map it was
//! sent under (SNAPSHOTS §3.7 rule 22): after a recovery or a rebalance
//! the cluster runs a new generation, restored from the last commit, and a
//! frame of an older one belongs to state that was rolled back.
//!
//! The tag is the generation as 8 big-endian bytes before the runtime's
//! frame.

use bytes::{BufMut, Bytes, BytesMut};

use crate::transport::Generation;

/// Bytes the tag adds to each frame.
pub const TAG_LEN: usize = 8;

/// `frame` tagged with `generation`.
pub fn tag(generation: Generation, frame: &[u8]) -> Bytes {
    let mut tagged = BytesMut::with_capacity(TAG_LEN + frame.len());
    tagged.put_u64(generation.0);
    tagged.put_slice(frame);
    tagged.freeze()
}

/// The generation a tagged frame was sent under, and the frame; `None` if
/// it is too short to carry a tag.
pub fn untag(payload: &[u8]) -> Option<(Generation, &[u8])> {
    let (head, frame) = payload.split_first_chunk::<TAG_LEN>()?;
    Some((Generation(u64::from_be_bytes(*head)), frame))
}

/// What becomes of a frame at a node running generation `current`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Sent under the running generation: deliver it.
    Deliver,
    /// Sent under an older generation: its state was rolled back; drop it.
    Stale,
    /// Sent under a newer generation this node has not started yet: keep
    /// it until it has.
    Early,
}

/// Whether a frame of generation `frame` is delivered at `current`.
pub fn admit(current: Generation, frame: Generation) -> Admission {
    match frame.cmp(&current) {
        std::cmp::Ordering::Equal => Admission::Deliver,
        std::cmp::Ordering::Less => Admission::Stale,
        std::cmp::Ordering::Greater => Admission::Early,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_round_trips_and_a_short_payload_has_none() {
        let tagged = tag(Generation(7), b"frame");
        assert_eq!(tagged.len(), TAG_LEN + 5);
        assert_eq!(untag(&tagged), Some((Generation(7), &b"frame"[..])));
        assert_eq!(untag(b"short"), None);
    }

    #[test]
    fn only_the_running_generation_is_delivered() {
        assert_eq!(admit(Generation(3), Generation(3)), Admission::Deliver);
        assert_eq!(admit(Generation(3), Generation(2)), Admission::Stale);
        assert_eq!(admit(Generation(3), Generation(4)), Admission::Early);
    }
}
