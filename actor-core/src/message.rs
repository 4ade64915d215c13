//! Messages: any serde type, carried type-erased between actors.
//!
//! On the local path a message is moved as a boxed value and never
//! serialized; it is encoded (MessagePack through `rmp-serde`, or JSON for
//! HTTP) only when it leaves the process or enters a snapshot.

use std::any::{Any, TypeId};
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::CodecError;

/// A value that can be sent to an actor: any `Serialize + DeserializeOwned`
/// type that is `Send + 'static`. Implemented for every such type.
pub trait Message: Serialize + DeserializeOwned + Send + 'static {}

impl<T: Serialize + DeserializeOwned + Send + 'static> Message for T {}

/// The object-safe face of a [`Message`]: downcast on delivery, serialize
/// when the message leaves the process.
trait ErasedMessage: Send + erased_serde::Serialize {
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    fn type_name(&self) -> &'static str;
    /// Appends the message as MessagePack, struct fields by name: through
    /// code made for its type, not `erased_serde`'s dynamic calls (the
    /// data plane and snapshots encode every message this way).
    fn append_msgpack(&self, bytes: &mut Vec<u8>) -> Result<(), rmp_serde::encode::Error>;
}

erased_serde::serialize_trait_object!(ErasedMessage);

impl<M: Message> ErasedMessage for M {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<M>()
    }

    fn append_msgpack(&self, bytes: &mut Vec<u8>) -> Result<(), rmp_serde::encode::Error> {
        self.serialize(&mut rmp_serde::Serializer::new(bytes).with_struct_map())
    }
}

/// A message whose type has been erased, as it travels through the runtime.
pub struct Payload(Box<dyn ErasedMessage>);

impl Payload {
    /// Wraps a typed message.
    pub fn new<M: Message>(message: M) -> Self {
        Self(Box::new(message))
    }

    /// Whether the payload holds an `M`.
    pub fn is<M: Message>(&self) -> bool {
        self.0.as_any().is::<M>()
    }

    /// The `TypeId` of the value inside.
    pub fn type_id_of_value(&self) -> TypeId {
        self.0.as_any().type_id()
    }

    /// The Rust type name of the value inside, for error messages.
    pub fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    /// A reference to the typed message, if the payload holds an `M`.
    pub fn downcast_ref<M: Message>(&self) -> Option<&M> {
        self.0.as_any().downcast_ref::<M>()
    }

    /// A message that arrived from another node still MessagePack-encoded,
    /// because only whoever takes it out knows its Rust type: the reply to
    /// an ask forwarded to the node running its actor. [`Payload::downcast`]
    /// decodes it as the type asked for; [`Payload::is`] and
    /// [`Payload::downcast_ref`] see only its bytes.
    pub fn encoded(msgpack: Vec<u8>) -> Self {
        Self::new(Encoded(msgpack))
    }

    /// Takes the typed message out, or gives the payload back if it holds
    /// another type. A payload made by [`Payload::encoded`] is decoded as
    /// `M`, and given back if it does not decode as one.
    pub fn downcast<M: Message>(self) -> Result<M, Payload> {
        if self.is::<M>() {
            let any = self.0.into_any();
            Ok(*any
                .downcast::<M>()
                .expect("type checked just above; this is a bug"))
        } else if let Some(Encoded(bytes)) = self.downcast_ref::<Encoded>() {
            rmp_serde::from_slice::<M>(bytes).map_err(|_| self)
        } else {
            Err(self)
        }
    }

    /// Encodes the message as MessagePack (struct fields by name, so that
    /// adding an optional field stays readable).
    pub fn to_msgpack(&self) -> Result<Vec<u8>, CodecError> {
        let mut bytes = Vec::new();
        self.append_msgpack(&mut bytes)?;
        Ok(bytes)
    }

    /// [`Payload::to_msgpack`], appended to `bytes` (which keeps what it
    /// held before; on an error, what was appended may be partial).
    pub fn append_msgpack(&self, bytes: &mut Vec<u8>) -> Result<(), CodecError> {
        if let Some(Encoded(encoded)) = self.downcast_ref::<Encoded>() {
            bytes.extend_from_slice(encoded);
            return Ok(());
        }
        self.0
            .append_msgpack(bytes)
            .map_err(|error| CodecError::Encode(error.to_string()))
    }

    /// Encodes the message as JSON.
    pub fn to_json(&self) -> Result<serde_json::Value, CodecError> {
        serde_json::to_value(&*self.0).map_err(|error| CodecError::Encode(error.to_string()))
    }

    /// Decodes an `M` from MessagePack.
    pub fn from_msgpack<M: Message>(bytes: &[u8]) -> Result<Self, CodecError> {
        rmp_serde::from_slice::<M>(bytes)
            .map(Self::new)
            .map_err(|error| CodecError::Decode(error.to_string()))
    }

    /// Decodes an `M` from JSON.
    pub fn from_json<M: Message>(value: serde_json::Value) -> Result<Self, CodecError> {
        serde_json::from_value::<M>(value)
            .map(Self::new)
            .map_err(|error| CodecError::Decode(error.to_string()))
    }
}

/// MessagePack bytes standing for a message of a type only their reader
/// knows ([`Payload::encoded`]). Serializing them re-emits the value they
/// hold (as JSON, for instance), not a byte string.
struct Encoded(Vec<u8>);

impl Serialize for Encoded {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut deserializer = rmp_serde::Deserializer::from_read_ref(&self.0);
        serde_transcode::transcode(&mut deserializer, serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Encoded {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut bytes = Vec::new();
        let mut serializer = rmp_serde::Serializer::new(&mut bytes).with_struct_map();
        serde_transcode::transcode(deserializer, &mut serializer)
            .map_err(serde::de::Error::custom)?;
        Ok(Self(bytes))
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload<{}>", self.type_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Credit {
        amount: i64,
        transfer: String,
    }

    /// A reply that crossed nodes as MessagePack comes out as the type its
    /// reader asks for, keeps its bytes when encoded again, renders as
    /// JSON, and is given back when it is not of the type asked for.
    #[test]
    fn an_encoded_payload_decodes_as_the_type_asked_for() {
        let original = Credit {
            amount: -3,
            transfer: "t-9".into(),
        };
        let bytes = Payload::new(Credit {
            amount: -3,
            transfer: "t-9".into(),
        })
        .to_msgpack()
        .unwrap();
        assert_eq!(Payload::encoded(bytes.clone()).to_msgpack().unwrap(), bytes);
        assert_eq!(
            Payload::encoded(bytes.clone()).to_json().unwrap(),
            serde_json::json!({"amount": -3, "transfer": "t-9"})
        );
        let decoded = Payload::encoded(bytes.clone())
            .downcast::<Credit>()
            .unwrap();
        assert_eq!(decoded, original);
        assert!(Payload::encoded(bytes).downcast::<u64>().is_err());
    }

    #[derive(Serialize, Deserialize)]
    enum Order {
        Open { id: u32 },
        Close(String),
        Flush,
    }

    #[derive(Serialize, Deserialize)]
    struct Chunk(#[serde(with = "serde_bytes")] Vec<u8>);

    /// A payload's MessagePack is byte for byte what it was when it went
    /// through `erased_serde` (struct fields by name), for structs,
    /// newtypes, enums, plain values and types that serialize differently
    /// for humans; encoded bytes are kept as they are.
    #[test]
    fn msgpack_is_what_erased_serde_wrote() {
        fn same<M: Message>(value: M) {
            let mut expected = Vec::new();
            let erased: &dyn erased_serde::Serialize = &value;
            erased_serde::serialize(
                erased,
                &mut rmp_serde::Serializer::new(&mut expected).with_struct_map(),
            )
            .unwrap();
            let mut appended = vec![0xc0];
            Payload::new(value).append_msgpack(&mut appended).unwrap();
            assert_eq!(appended[0], 0xc0, "what the buffer held is kept");
            assert_eq!(&appended[1..], &expected[..]);
        }
        same(Credit {
            amount: -3,
            transfer: "t-9".into(),
        });
        same(Order::Open { id: 4 });
        same(Order::Close("x".into()));
        same(Order::Flush);
        same(Chunk(vec![7; 64]));
        same(Some(5u64));
        same(("a".to_owned(), 2u8));
        same(std::net::IpAddr::from([10, 0, 0, 7]));
        same(std::time::Duration::from_millis(1500));

        let bytes = rmp_serde::to_vec_named(&Order::Open { id: 9 }).unwrap();
        let mut appended = Vec::new();
        Payload::encoded(bytes.clone())
            .append_msgpack(&mut appended)
            .unwrap();
        assert_eq!(appended, bytes);
    }

    #[test]
    fn downcast_to_the_right_type_gives_the_value() {
        let payload = Payload::new(Credit {
            amount: 5,
            transfer: "t1".into(),
        });
        assert!(payload.is::<Credit>());
        let payload = payload.downcast::<u64>().unwrap_err();
        assert_eq!(
            payload.downcast::<Credit>().unwrap(),
            Credit {
                amount: 5,
                transfer: "t1".into()
            }
        );
    }

    #[test]
    fn msgpack_and_json_round_trip() {
        let original = Credit {
            amount: -3,
            transfer: "x".into(),
        };
        let bytes = Payload::new(Credit { ..original }).to_msgpack().unwrap();
        let decoded = Payload::from_msgpack::<Credit>(&bytes).unwrap();
        assert_eq!(
            decoded.downcast::<Credit>().unwrap(),
            Credit {
                amount: -3,
                transfer: "x".into()
            }
        );
        let json = Payload::new(7u64).to_json().unwrap();
        assert_eq!(json, serde_json::json!(7));
        assert!(Payload::from_json::<Credit>(json).is_err());
    }
}
