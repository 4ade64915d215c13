//! Every data-plane frame carries the generation of the shard map it was
//! sent under (SNAPSHOTS §3.7 rule 22): after a recovery or a rebalance
//! the cluster runs a new generation, restored from the last commit, and a
//! frame of an older one belongs to state that was rolled back.
//!
//! The tag is the generation as 8 big-endian bytes after the runtime's
//! frame: appended there, it goes where the frame's buffer has room, and
//! the frame is not copied to make room for it in front.

use bytes::Bytes;

use crate::transport::Generation;

/// Bytes the tag adds to each frame.
pub const TAG_LEN: usize = 8;

/// `frame` tagged with `generation`.
pub fn tag(generation: Generation, mut frame: Vec<u8>) -> Bytes {
    frame.extend_from_slice(&generation.0.to_be_bytes());
    Bytes::from(frame)
}

/// The generation a tagged frame was sent under, and the frame; `None` if
/// it is too short to carry a tag.
pub fn untag(payload: &[u8]) -> Option<(Generation, &[u8])> {
    let (frame, tail) = payload.split_last_chunk::<TAG_LEN>()?;
    Some((Generation(u64::from_be_bytes(*tail)), frame))
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
        let tagged = tag(Generation(7), b"frame".to_vec());
        assert_eq!(tagged.len(), TAG_LEN + 5);
        assert_eq!(&tagged[5..], &7u64.to_be_bytes(), "the tag goes last");
        assert_eq!(untag(&tagged), Some((Generation(7), &b"frame"[..])));
        assert_eq!(untag(b"short"), None);
    }

    #[test]
    fn a_frame_with_room_for_its_tag_is_not_copied() {
        let mut frame = Vec::with_capacity(64);
        frame.extend_from_slice(b"frame");
        let before = frame.as_ptr();
        assert_eq!(tag(Generation(1), frame).as_ptr(), before);
    }

    #[test]
    fn only_the_running_generation_is_delivered() {
        assert_eq!(admit(Generation(3), Generation(3)), Admission::Deliver);
        assert_eq!(admit(Generation(3), Generation(2)), Admission::Stale);
        assert_eq!(admit(Generation(3), Generation(4)), Admission::Early);
    }
}
