//! The on-storage object format: a small binary envelope around an rmp-serde body.
//!
//! ```text
//! offset  size  field
//! 0       6     magic  b"CAIRN\0"
//! 6       2     format version, u16 LE (= 1)
//! 8       8     total length of the object in bytes, u64 LE (crc included)
//! 16      1     kind tag
//! 17      2     type count n, u16 LE
//! 19      ..    n × (name length u16 LE, UTF-8 name, schema hash u64 LE)
//! ..      ..    body: rmp-serde, up to total length - 4
//! end-4   4     CRC32C over every byte before it, u32 LE
//! ```
//!
//! The CRC32C always sits in the last four bytes, whatever the version, so an intact object of a
//! future version is told apart from a damaged one: the version is only trusted once the
//! checksum matches.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{CorruptReason, Error, Result};

/// The magic bytes every Cairn object starts with.
pub const MAGIC: [u8; 6] = *b"CAIRN\0";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;

const VERSION_AT: usize = MAGIC.len();
const TOTAL_LEN_AT: usize = VERSION_AT + 2;
const KIND_AT: usize = TOTAL_LEN_AT + 8;
const TYPE_COUNT_AT: usize = KIND_AT + 1;
const FIXED_HEADER: usize = TYPE_COUNT_AT + 2;
const CRC_LEN: usize = 4;
/// The smallest possible object: fixed header, no types, empty body, checksum.
const MIN_LEN: usize = FIXED_HEADER + CRC_LEN;

/// What an object is. The tag is stored in every object and checked on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ObjectKind {
    /// An epoch manifest or an ABORTED tombstone.
    Manifest,
    /// A shard's state (a base or a delta).
    State,
    /// A shard's recorded channel state.
    ChanLog,
    /// A coordinator generation claim.
    GenerationClaim,
    /// Application parameters pinned on first start.
    Parameters,
}

impl ObjectKind {
    fn tag(self) -> u8 {
        match self {
            Self::Manifest => 1,
            Self::State => 2,
            Self::ChanLog => 3,
            Self::GenerationClaim => 4,
            Self::Parameters => 5,
        }
    }

    fn from_tag(tag: u8) -> Option<Self> {
        Some(match tag {
            1 => Self::Manifest,
            2 => Self::State,
            3 => Self::ChanLog,
            4 => Self::GenerationClaim,
            5 => Self::Parameters,
            _ => return None,
        })
    }
}

/// One `(type name, schema hash)` pair listed in an object's header. Opaque to this crate: the
/// layers above use it to find the right decoder before touching the body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TypeSchema {
    /// The function type's name.
    pub type_name: String,
    /// A hash of the type's schema.
    pub schema_hash: u64,
}

impl TypeSchema {
    /// A pair of a type name and its schema hash.
    pub fn new(type_name: impl Into<String>, schema_hash: u64) -> Self {
        Self {
            type_name: type_name.into(),
            schema_hash,
        }
    }
}

/// A decoded object: its header fields and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<T> {
    /// The kind tag.
    pub kind: ObjectKind,
    /// The types the object holds.
    pub types: Vec<TypeSchema>,
    /// The decoded body.
    pub body: T,
}

/// An object whose envelope (magic, version, length, header, checksum) was checked, with its body
/// still encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The kind tag.
    pub kind: ObjectKind,
    /// The types the object holds.
    pub types: Vec<TypeSchema>,
    /// The rmp-serde encoded body.
    pub body: &'a [u8],
    /// The object's CRC32C (its last four bytes); manifests record it.
    pub crc32c: u32,
}

/// Encodes `body` with rmp-serde (fields by name, so fields can be added later) into a complete
/// object.
pub fn encode_object<T: Serialize + ?Sized>(
    kind: ObjectKind,
    types: &[TypeSchema],
    body: &T,
) -> Result<Vec<u8>> {
    let type_count = u16::try_from(types.len()).map_err(|_| {
        Error::InvalidArgument(format!(
            "{} types in one object, at most 65535",
            types.len()
        ))
    })?;
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // total length, patched below
    out.push(kind.tag());
    out.extend_from_slice(&type_count.to_le_bytes());
    for t in types {
        let len = u16::try_from(t.type_name.len()).map_err(|_| {
            Error::InvalidArgument(format!(
                "type name of {} bytes, at most 65535",
                t.type_name.len()
            ))
        })?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(t.type_name.as_bytes());
        out.extend_from_slice(&t.schema_hash.to_le_bytes());
    }
    rmp_serde::encode::write_named(&mut out, body)?;
    let total = (out.len() + CRC_LEN) as u64;
    out[TOTAL_LEN_AT..KIND_AT].copy_from_slice(&total.to_le_bytes());
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Checks an object's envelope without decoding its body. `key` only names the object in errors.
pub fn parse_envelope<'a>(key: &str, bytes: &'a [u8]) -> Result<Envelope<'a>> {
    let corrupt = |reason| Error::corrupt(key, reason);
    let prefix = bytes.len().min(MAGIC.len());
    if bytes[..prefix] != MAGIC[..prefix] {
        return Err(corrupt(CorruptReason::BadMagic));
    }
    let actual = bytes.len() as u64;
    if bytes.len() < MIN_LEN {
        let expected =
            read_u64(bytes, TOTAL_LEN_AT).map_or(MIN_LEN as u64, |v| v.max(MIN_LEN as u64));
        return Err(corrupt(CorruptReason::Truncated { expected, actual }));
    }
    let (content, crc_bytes) = bytes.split_at(bytes.len() - CRC_LEN);
    let stored = u32::from_le_bytes(crc_bytes.try_into().expect("split_at gives 4 bytes"));
    let computed = crc32c::crc32c(content);
    let declared = read_u64(bytes, TOTAL_LEN_AT).expect("length checked above");
    if stored != computed {
        // The declared length tells a cut write from flipped bits.
        return Err(corrupt(if declared > actual {
            CorruptReason::Truncated {
                expected: declared,
                actual,
            }
        } else if declared < actual {
            CorruptReason::TrailingBytes {
                expected: declared,
                actual,
            }
        } else {
            CorruptReason::ChecksumMismatch {
                expected: stored,
                actual: computed,
            }
        }));
    }
    let version = read_u16(bytes, VERSION_AT).expect("length checked above");
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion {
            key: key.to_owned(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if declared != actual {
        return Err(corrupt(CorruptReason::BadHeader(format!(
            "checksum matches but the header declares {declared} bytes for {actual}"
        ))));
    }
    let kind = ObjectKind::from_tag(content[KIND_AT]).ok_or_else(|| {
        corrupt(CorruptReason::BadHeader(format!(
            "unknown kind tag {}",
            content[KIND_AT]
        )))
    })?;
    let type_count = read_u16(content, TYPE_COUNT_AT).expect("length checked above");
    let mut at = FIXED_HEADER;
    let mut types = Vec::with_capacity(usize::from(type_count).min(content.len() / 10));
    for i in 0..type_count {
        let short = || {
            corrupt(CorruptReason::BadHeader(format!(
                "type entry {i} runs past the header"
            )))
        };
        let name_len = usize::from(read_u16(content, at).ok_or_else(short)?);
        let name = content.get(at + 2..at + 2 + name_len).ok_or_else(short)?;
        let type_name = std::str::from_utf8(name)
            .map_err(|e| corrupt(CorruptReason::BadHeader(format!("type name {i}: {e}"))))?
            .to_owned();
        let schema_hash = read_u64(content, at + 2 + name_len).ok_or_else(short)?;
        types.push(TypeSchema {
            type_name,
            schema_hash,
        });
        at += 2 + name_len + 8;
    }
    Ok(Envelope {
        kind,
        types,
        body: &content[at..],
        crc32c: stored,
    })
}

/// Checks an object's envelope and decodes its body as `T`. `key` only names the object in
/// errors.
pub fn decode_object<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<Object<T>> {
    let envelope = parse_envelope(key, bytes)?;
    let body = rmp_serde::from_slice(envelope.body)
        .map_err(|e| Error::corrupt(key, CorruptReason::Undecodable(e.to_string())))?;
    Ok(Object {
        kind: envelope.kind,
        types: envelope.types,
        body,
    })
}

/// Like [`decode_object`], and also requires the object to be of `kind`.
pub(crate) fn decode_kind<T: DeserializeOwned>(
    key: &str,
    bytes: &[u8],
    kind: ObjectKind,
) -> Result<T> {
    let object = decode_object::<T>(key, bytes)?;
    if object.kind != kind {
        return Err(Error::corrupt(
            key,
            CorruptReason::WrongKind {
                expected: kind,
                found: object.kind,
            },
        ));
    }
    Ok(object.body)
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_kind() -> impl Strategy<Value = ObjectKind> {
        prop_oneof![
            Just(ObjectKind::Manifest),
            Just(ObjectKind::State),
            Just(ObjectKind::ChanLog),
            Just(ObjectKind::GenerationClaim),
            Just(ObjectKind::Parameters),
        ]
    }

    fn any_types() -> impl Strategy<Value = Vec<TypeSchema>> {
        prop::collection::vec(
            (".{0,40}", any::<u64>()).prop_map(|(n, h)| TypeSchema::new(n, h)),
            0..6,
        )
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Body {
        id: u64,
        name: String,
        data: Vec<u8>,
        nested: Option<Vec<(String, i64)>>,
    }

    fn any_body() -> impl Strategy<Value = Body> {
        (
            any::<u64>(),
            ".{0,20}",
            prop::collection::vec(any::<u8>(), 0..200),
            prop::option::of(prop::collection::vec((".{0,8}", any::<i64>()), 0..5)),
        )
            .prop_map(|(id, name, data, nested)| Body {
                id,
                name,
                data,
                nested,
            })
    }

    fn encoded() -> impl Strategy<Value = Vec<u8>> {
        (any_kind(), any_types(), any_body())
            .prop_map(|(k, t, b)| encode_object(k, &t, &b).expect("encodes"))
    }

    proptest! {
        /// Any body, kind and type list decode back to what was encoded.
        #[test]
        fn round_trip(kind in any_kind(), types in any_types(), body in any_body()) {
            let bytes = encode_object(kind, &types, &body).unwrap();
            let object = decode_object::<Body>("k", &bytes).unwrap();
            prop_assert_eq!(object, Object { kind, types, body });
        }

        /// Random bytes never panic the decoder and never decode.
        #[test]
        fn random_bytes_are_rejected(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            prop_assert!(decode_object::<Body>("k", &bytes).is_err());
        }

        /// Random bytes behind valid magic never panic the decoder and never decode.
        #[test]
        fn random_bytes_after_magic_are_rejected(tail in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut bytes = MAGIC.to_vec();
            bytes.extend(tail);
            prop_assert!(decode_object::<Body>("k", &bytes).is_err());
        }

        /// Flipping any bit of an object is detected.
        #[test]
        fn any_flipped_bit_is_detected(bytes in encoded(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let mut bytes = bytes;
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
            prop_assert!(parse_envelope("k", &bytes).is_err());
        }

        /// Cutting an object anywhere is reported as truncation (or bad magic inside the magic).
        #[test]
        fn any_truncation_is_detected(bytes in encoded(), at in any::<prop::sample::Index>()) {
            let cut = at.index(bytes.len());
            let err = parse_envelope("k", &bytes[..cut]).unwrap_err();
            prop_assert!(
                matches!(err, Error::Corrupt { reason: CorruptReason::Truncated { .. }, .. }),
                "cut at {}: {}", cut, err
            );
        }

        /// A checksummed envelope around a body of the wrong shape is a typed error.
        #[test]
        fn wrong_body_type_is_undecodable(kind in any_kind(), text in ".{0,30}") {
            let bytes = encode_object(kind, &[], &text).unwrap();
            let err = decode_object::<Body>("k", &bytes).unwrap_err();
            prop_assert!(matches!(err, Error::Corrupt { reason: CorruptReason::Undecodable(_), .. }), "{}", err);
        }
    }

    /// An intact object of a future version is reported as such, not as corruption.
    #[test]
    fn future_version_is_unsupported() {
        let mut bytes = encode_object(ObjectKind::State, &[], &1u8).unwrap();
        bytes[VERSION_AT..TOTAL_LEN_AT].copy_from_slice(&2u16.to_le_bytes());
        let n = bytes.len() - CRC_LEN;
        let crc = crc32c::crc32c(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
        let err = decode_object::<u8>("k", &bytes).unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnsupportedVersion {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    /// The layout is pinned: a known object encodes to known bytes.
    #[test]
    fn layout_is_stable() {
        let bytes = encode_object(ObjectKind::ChanLog, &[TypeSchema::new("A", 7)], &true).unwrap();
        let mut expected = b"CAIRN\0".to_vec();
        expected.extend(1u16.to_le_bytes());
        expected.extend(35u64.to_le_bytes());
        expected.push(3);
        expected.extend(1u16.to_le_bytes());
        expected.extend(1u16.to_le_bytes());
        expected.push(b'A');
        expected.extend(7u64.to_le_bytes());
        expected.push(0xc3); // msgpack true
        expected.extend(crc32c::crc32c(&expected).to_le_bytes());
        assert_eq!(bytes, expected);
    }

    /// A wrong kind is refused by the kind-checking decoder.
    #[test]
    fn wrong_kind_is_refused() {
        let bytes = encode_object(ObjectKind::State, &[], &1u8).unwrap();
        let err = decode_kind::<u8>("k", &bytes, ObjectKind::Manifest).unwrap_err();
        assert!(matches!(
            err,
            Error::Corrupt {
                reason: CorruptReason::WrongKind {
                    expected: ObjectKind::Manifest,
                    found: ObjectKind::State
                },
                ..
            }
        ));
    }
}
