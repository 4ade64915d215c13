//! Frames on a byte stream: a 4-byte big-endian length prefix around one
//! MessagePack-encoded [`Frame`]. Frames are read with
//! `LengthDelimitedCodec`, which refuses a prefix over the frame limit
//! before the body arrives, and written straight into the write buffer.

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::length_delimited::LengthDelimitedCodecError;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

use super::error::Refusal;
use super::identity::ChannelId;
use super::metrics::WireCounters;
use super::wire::{Frame, WIRE_VERSION};

/// Length prefix size.
const PREFIX: u64 = 4;

/// The smallest data payload read as a view of the read buffer rather than
/// copied out of it: batches of messages are larger, grants, markers and
/// asks smaller.
const VIEW_AT_LEAST: usize = 4096;

/// Why a stream of frames failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    /// The socket failed or closed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A length prefix above the frame limit.
    #[error("frame larger than the limit of {0} bytes")]
    TooLarge(usize),
    /// A hello from a peer of another wire version, whatever the rest of
    /// its hello holds.
    #[error("peer speaks wire version {0}, this node {WIRE_VERSION}: every member must run the same build")]
    WireVersion(u32),
    /// A frame that is not a MessagePack `Frame`.
    #[error("malformed frame: {0}")]
    Malformed(String),
}

impl WireError {
    /// The refusal this error stands for, if it is the peer's fault.
    pub(crate) fn refusal(&self) -> Option<Refusal> {
        match self {
            WireError::Io(_) => None,
            WireError::TooLarge(_) => Some(Refusal::FrameTooLarge),
            WireError::WireVersion(_) => Some(Refusal::WireVersion),
            WireError::Malformed(_) => Some(Refusal::Malformed),
        }
    }
}

/// Encodes and decodes [`Frame`]s, counting bytes and frames.
pub(crate) struct FrameCodec {
    inner: LengthDelimitedCodec,
    max_frame: usize,
    counters: WireCounters,
}

impl FrameCodec {
    pub(crate) fn new(max_frame: usize, counters: WireCounters) -> Self {
        Self {
            inner: LengthDelimitedCodec::builder()
                .max_frame_length(max_frame)
                .new_codec(),
            max_frame,
            counters,
        }
    }

    /// One frame's bytes without the prefix, refused if over the limit
    /// (used by the in-memory transport, which has no stream).
    pub(crate) fn encode_datagram(&self, frame: &Frame) -> Result<Bytes, WireError> {
        let bytes = encode(frame)?;
        if bytes.len() > self.max_frame {
            return Err(WireError::TooLarge(self.max_frame));
        }
        self.counters.frames_sent.increment(1);
        self.counters
            .bytes_sent
            .increment(bytes.len() as u64 + PREFIX);
        Ok(bytes)
    }

    /// One frame from a datagram made by [`Self::encode_datagram`].
    pub(crate) fn decode_datagram(&self, bytes: &[u8]) -> Result<Frame, WireError> {
        if bytes.len() > self.max_frame {
            return Err(WireError::TooLarge(self.max_frame));
        }
        self.counters.frames_received.increment(1);
        self.counters
            .bytes_received
            .increment(bytes.len() as u64 + PREFIX);
        decode(bytes)
    }
}

fn encode(frame: &Frame) -> Result<Bytes, WireError> {
    rmp_serde::to_vec(frame)
        .map(Bytes::from)
        .map_err(|error| WireError::Malformed(format!("this is a bug: cannot encode: {error}")))
}

/// Decodes a frame. One that does not decode but is a hello stating
/// another wire version is refused for its version: a peer of another
/// build may lay the rest of its hello out differently.
fn decode(bytes: &[u8]) -> Result<Frame, WireError> {
    rmp_serde::from_slice(bytes).map_err(|error| match hello_wire_version(bytes) {
        Some(version) if version != WIRE_VERSION => WireError::WireVersion(version),
        _ => WireError::Malformed(error.to_string()),
    })
}

/// The wire version a hello states, read without decoding the rest of
/// it: `{"Hello": [wire_version, …]}`, as every build writes it.
fn hello_wire_version(mut bytes: &[u8]) -> Option<u32> {
    skip_variant(&mut bytes, "Hello")?;
    if rmp::decode::read_array_len(&mut bytes).ok()? == 0 {
        return None;
    }
    rmp::decode::read_int(&mut bytes).ok()
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, WireError> {
        let frame = match self.inner.decode(src) {
            Ok(Some(frame)) => frame,
            Ok(None) => return Ok(None),
            Err(error) if is_too_large(&error) => return Err(WireError::TooLarge(self.max_frame)),
            Err(error) => return Err(WireError::Io(error)),
        };
        self.counters.frames_received.increment(1);
        self.counters
            .bytes_received
            .increment(frame.len() as u64 + PREFIX);
        let frame = frame.freeze();
        if let Some((channel, seq, payload)) = data_parts(&frame) {
            // A large payload is a view of the bytes read, not a copy of
            // them; a small one is copied, so that it does not keep the
            // whole read buffer alive.
            let payload = if payload.len() >= VIEW_AT_LEAST {
                frame.slice_ref(payload)
            } else {
                Bytes::copy_from_slice(payload)
            };
            return Ok(Some(Frame::Data {
                channel,
                seq,
                payload,
            }));
        }
        decode(&frame).map(Some)
    }
}

/// The fields of a data frame, `{"Data": [channel, seq, payload]}` as
/// every build writes it, with the payload borrowed; `None` for another
/// kind of frame and for a malformed one, which [`decode`] then refuses
/// with its reason.
fn data_parts(mut bytes: &[u8]) -> Option<(ChannelId, u64, &[u8])> {
    skip_variant(&mut bytes, "Data")?;
    rmp_serde::from_slice(bytes).ok()
}

/// Reads the head of a frame written as `{variant: fields}`, as every
/// build writes one, leaving `bytes` at its fields; `None` if it is not
/// the variant `variant`.
fn skip_variant(bytes: &mut &[u8], variant: &str) -> Option<()> {
    if rmp::decode::read_map_len(bytes).ok()? != 1 {
        return None;
    }
    let mut name = [0; 16];
    (rmp::decode::read_str(bytes, &mut name).ok()? == variant).then_some(())
}

impl Encoder<Frame> for FrameCodec {
    type Error = WireError;

    /// Writes the frame straight after its length prefix: a payload is
    /// copied once, into `dst`, not first into a buffer of its own.
    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), WireError> {
        // The prefix holds at most `u32::MAX`, whatever the limit says.
        let limit = self.max_frame.min(u32::MAX as usize);
        if let Frame::Data { payload, .. } = &frame {
            // Refused before it is written, not after.
            if payload.len() > limit {
                return Err(WireError::TooLarge(self.max_frame));
            }
        }
        let start = dst.len();
        dst.put_u32(0);
        if let Err(error) = rmp_serde::encode::write(&mut (&mut *dst).writer(), &frame) {
            dst.truncate(start);
            return Err(WireError::Malformed(format!(
                "this is a bug: cannot encode: {error}"
            )));
        }
        let size = dst.len() - start - PREFIX as usize;
        if size > limit {
            dst.truncate(start);
            return Err(WireError::TooLarge(self.max_frame));
        }
        dst[start..start + PREFIX as usize].copy_from_slice(&(size as u32).to_be_bytes());
        self.counters.frames_sent.increment(1);
        self.counters.bytes_sent.increment(size as u64 + PREFIX);
        Ok(())
    }
}

fn is_too_large(error: &std::io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<LengthDelimitedCodecError>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::identity::NodeId;

    fn codec(max: usize) -> FrameCodec {
        FrameCodec::new(max, WireCounters::new(&NodeId::new("test")))
    }

    /// `body` behind its length prefix, as a frame arrives.
    fn framed(body: &[u8]) -> BytesMut {
        let mut buffer = BytesMut::from(&(body.len() as u32).to_be_bytes()[..]);
        buffer.extend_from_slice(body);
        buffer
    }

    #[test]
    fn a_frame_round_trips() {
        let frame = Frame::Data {
            channel: ChannelId::new(3, 4),
            seq: 7,
            payload: Bytes::from_static(b"hello"),
        };
        let mut buffer = BytesMut::new();
        codec(1024).encode(frame.clone(), &mut buffer).unwrap();
        assert_eq!(codec(1024).decode(&mut buffer).unwrap(), Some(frame));
        assert!(buffer.is_empty());
    }

    #[test]
    fn a_data_frame_is_read_without_a_copy_of_its_payload() {
        let frame = Frame::Data {
            channel: ChannelId::new(3, 4),
            seq: 7,
            payload: Bytes::from(vec![9u8; VIEW_AT_LEAST]),
        };
        let mut buffer = BytesMut::new();
        codec(8192).encode(frame.clone(), &mut buffer).unwrap();
        let read = buffer.as_ptr_range();
        let decoded = codec(8192).decode(&mut buffer).unwrap().unwrap();
        let Frame::Data { ref payload, .. } = decoded else {
            panic!("not a data frame: {decoded:?}");
        };
        assert!(read.contains(&payload.as_ptr()), "the payload was copied");
        assert_eq!(decoded, frame);
    }

    #[test]
    fn a_data_frame_laid_out_otherwise_decodes_the_same() {
        let frame = Frame::Data {
            channel: ChannelId::new(5, 6),
            seq: 11,
            payload: Bytes::from_static(b"payload"),
        };
        // Fields by name: not the layout the fast path reads.
        let mut buffer = framed(&rmp_serde::to_vec_named(&frame).unwrap());
        assert_eq!(codec(1024).decode(&mut buffer).unwrap(), Some(frame));
    }

    #[test]
    fn a_data_frame_with_broken_fields_is_malformed() {
        let mut body = Vec::new();
        rmp::encode::write_map_len(&mut body, 1).unwrap();
        rmp::encode::write_str(&mut body, "Data").unwrap();
        rmp::encode::write_array_len(&mut body, 3).unwrap();
        rmp::encode::write_str(&mut body, "not a channel").unwrap();
        let error = codec(1024).decode(&mut framed(&body)).unwrap_err();
        assert_eq!(error.refusal(), Some(Refusal::Malformed));
    }

    #[test]
    fn an_oversized_prefix_is_refused_before_its_body_arrives() {
        let mut buffer = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
        let error = codec(1024).decode(&mut buffer).unwrap_err();
        assert_eq!(error.refusal(), Some(Refusal::FrameTooLarge));
    }

    #[test]
    fn garbage_inside_a_valid_prefix_is_malformed() {
        let mut buffer = BytesMut::from(&[0, 0, 0, 3, 0xc1, 0xc1, 0xc1][..]);
        let error = codec(1024).decode(&mut buffer).unwrap_err();
        assert_eq!(error.refusal(), Some(Refusal::Malformed));
    }

    /// A hello of another wire version is refused for its version even
    /// when the rest of it does not decode; one whose version cannot be
    /// read is malformed.
    #[test]
    fn a_hello_of_another_wire_version_is_refused_for_it() {
        // `{"Hello": [first, "x"]}`, `first` written by `write_first`.
        let hello_of = |write_first: &dyn Fn(&mut Vec<u8>)| {
            let mut bytes = Vec::new();
            rmp::encode::write_map_len(&mut bytes, 1).unwrap();
            rmp::encode::write_str(&mut bytes, "Hello").unwrap();
            rmp::encode::write_array_len(&mut bytes, 2).unwrap();
            write_first(&mut bytes);
            rmp::encode::write_str(&mut bytes, "a field of another build").unwrap();
            codec(1024).decode(&mut framed(&bytes))
        };
        let newer = hello_of(&|bytes| {
            rmp::encode::write_uint(bytes, u64::from(WIRE_VERSION + 1)).unwrap();
        });
        assert!(
            matches!(newer, Err(WireError::WireVersion(v)) if v == WIRE_VERSION + 1),
            "{newer:?}"
        );
        assert_eq!(newer.unwrap_err().refusal(), Some(Refusal::WireVersion));
        let unversioned = hello_of(&|bytes| rmp::encode::write_str(bytes, "cluster").unwrap());
        assert_eq!(unversioned.unwrap_err().refusal(), Some(Refusal::Malformed));
        let same_but_broken = hello_of(&|bytes| {
            rmp::encode::write_uint(bytes, u64::from(WIRE_VERSION)).unwrap();
        });
        assert_eq!(
            same_but_broken.unwrap_err().refusal(),
            Some(Refusal::Malformed)
        );
    }

    #[test]
    fn an_oversized_frame_is_not_sent() {
        let zeros = |len| Frame::Data {
            channel: ChannelId::new(0, 0),
            seq: 1,
            payload: Bytes::from(vec![0u8; len]),
        };
        let frame = zeros(2048);
        let mut buffer = BytesMut::from(&b"earlier frames"[..]);
        let error = codec(1024).encode(frame.clone(), &mut buffer).unwrap_err();
        assert!(matches!(error, WireError::TooLarge(1024)));
        assert_eq!(&buffer[..], b"earlier frames", "nothing of it is left");
        assert!(codec(1024).encode_datagram(&frame).is_err());
        // A payload within the limit whose frame is not: refused once
        // written, and taken back out.
        let error = codec(1024).encode(zeros(1024), &mut buffer).unwrap_err();
        assert!(matches!(error, WireError::TooLarge(1024)));
        assert_eq!(&buffer[..], b"earlier frames", "nothing of it is left");
    }

    #[test]
    fn a_frame_is_its_length_then_its_messagepack_after_what_was_written() {
        let frame = Frame::Data {
            channel: ChannelId::new(1, 2),
            seq: 9,
            payload: Bytes::from(vec![5u8; 300]),
        };
        let mut buffer = BytesMut::from(&b"earlier"[..]);
        codec(1024).encode(frame.clone(), &mut buffer).unwrap();
        let mut expected = BytesMut::from(&b"earlier"[..]);
        expected.extend_from_slice(&framed(&rmp_serde::to_vec(&frame).unwrap()));
        assert_eq!(&buffer[..], &expected[..]);
    }
}
