//! Addresses of virtual actors and their placement on shards.
//!
//! An [`Address`] is `(function type, id)`. It names an actor that exists
//! logically forever; the runtime activates it on its first message. The
//! shard an address lives on is a pure function of the address and the
//! cluster's fixed shard count, so every node computes the same placement.

use std::fmt;
use std::hash::{Hash, Hasher};

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use xxhash_rust::const_xxh3::xxh3_64 as const_xxh3_64;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::registry::interned_function_type;

/// The name of a function type, such as `"bank/account"`.
///
/// Function types are interned `'static` names with a precomputed hash, so an
/// address is cheap to copy, compare and place. A `FunctionType` for a
/// registered function comes from [`crate::StatefulFunction::function_type`];
/// one parsed from the wire or from HTTP is resolved through the process-wide
/// table of registered names, and an unregistered name is an error.
#[derive(Clone, Copy)]
pub struct FunctionType {
    name: &'static str,
    hash: u64,
}

impl FunctionType {
    /// Builds a function type from a static name. Usable in `const` items.
    pub const fn from_static(name: &'static str) -> Self {
        Self {
            name,
            hash: const_xxh3_64(name.as_bytes()),
        }
    }

    /// The function type's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Looks a registered function type up by name.
    pub fn lookup(name: &str) -> Option<Self> {
        interned_function_type(name)
    }

    /// The stable 64-bit hash of the name, the seed of placement hashing.
    pub(crate) const fn name_hash(&self) -> u64 {
        self.hash
    }
}

impl PartialEq for FunctionType {
    fn eq(&self, other: &Self) -> bool {
        // Names are usually the very same static string, so compare the
        // pointers before the bytes.
        self.hash == other.hash && (std::ptr::eq(self.name, other.name) || self.name == other.name)
    }
}

impl Eq for FunctionType {}

impl Hash for FunctionType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl fmt::Debug for FunctionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.name, f)
    }
}

impl fmt::Display for FunctionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl Serialize for FunctionType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

impl<'de> Deserialize<'de> for FunctionType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FunctionTypeVisitor)
    }
}

/// Looks the name up where the deserializer has it, borrowed or not:
/// decoding an address copies no name (a `Cow<str>` always would).
struct FunctionTypeVisitor;

impl serde::de::Visitor<'_> for FunctionTypeVisitor {
    type Value = FunctionType;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("the name of a registered function type")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<FunctionType, E> {
        FunctionType::lookup(name)
            .ok_or_else(|| E::custom(format_args!("unknown function type `{name}`")))
    }

    /// A name sent as bytes (MessagePack `bin`) counts if it is UTF-8.
    fn visit_bytes<E: serde::de::Error>(self, name: &[u8]) -> Result<FunctionType, E> {
        match std::str::from_utf8(name) {
            Ok(name) => self.visit_str(name),
            Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(name), &self)),
        }
    }
}

/// The identity of one actor within its function type.
///
/// Ids are strings; short ones (up to 24 bytes) are stored inline, so cloning
/// an address does not allocate. Integers convert to their decimal form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActorId(CompactString);

impl ActorId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl From<&str> for ActorId {
    fn from(id: &str) -> Self {
        Self(CompactString::from(id))
    }
}

impl From<String> for ActorId {
    fn from(id: String) -> Self {
        Self(CompactString::from(id))
    }
}

impl From<&String> for ActorId {
    fn from(id: &String) -> Self {
        Self(CompactString::from(id.as_str()))
    }
}

macro_rules! actor_id_from_integer {
    ($($int:ty),*) => {$(
        impl From<$int> for ActorId {
            fn from(id: $int) -> Self {
                Self(CompactString::from(itoa::Buffer::new().format(id)))
            }
        }
    )*};
}

actor_id_from_integer!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

/// The address of a virtual actor: its function type and its id.
///
/// The placement hash is computed once, when the address is made, and
/// travels with it: routing a message and finding its actor in the shard
/// both use it without hashing again.
#[derive(Clone, Deserialize)]
#[serde(from = "AddressParts")]
pub struct Address {
    function: FunctionType,
    id: ActorId,
    hash: u64,
}

/// An address as it is encoded: the hash is derived, never trusted from input.
#[derive(Deserialize)]
struct AddressParts {
    function: FunctionType,
    id: ActorId,
}

impl From<AddressParts> for Address {
    fn from(parts: AddressParts) -> Self {
        Address::new(parts.function, parts.id)
    }
}

/// [`AddressParts`] borrowed: an address is written as its parts without
/// a copy of its id.
#[derive(Serialize)]
#[serde(rename = "AddressParts")]
struct AddressPartsRef<'a> {
    function: &'a FunctionType,
    id: &'a ActorId,
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        AddressPartsRef {
            function: &self.function,
            id: &self.id,
        }
        .serialize(serializer)
    }
}

impl PartialEq for Address {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.function == other.function && self.id == other.id
    }
}

impl Eq for Address {}

impl Hash for Address {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl Address {
    /// The address of actor `id` of function type `function`.
    pub fn new(function: FunctionType, id: impl Into<ActorId>) -> Self {
        let id = id.into();
        let hash = xxh3_64_with_seed(id.as_str().as_bytes(), function.name_hash());
        Self { function, id, hash }
    }

    /// The address of actor `id` of the stateful function `F`.
    pub fn of<F: crate::StatefulFunction>(id: impl Into<ActorId>) -> Self {
        Self::new(F::function_type(), id)
    }

    /// The function type.
    pub fn function(&self) -> FunctionType {
        self.function
    }

    /// The actor's id.
    pub fn id(&self) -> &ActorId {
        &self.id
    }

    /// The stable placement hash of this address: the same on every node, in
    /// every process, on every platform.
    pub fn placement_hash(&self) -> u64 {
        self.hash
    }

    /// The shard this address belongs to when the cluster has `shard_count` shards.
    pub fn shard(&self, shard_count: ShardCount) -> ShardId {
        // Lemire's multiply-shift reduction: uniform for a good hash, no division.
        let reduced = ((self.placement_hash() as u128 * shard_count.get() as u128) >> 64) as u32;
        ShardId(reduced)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.function.name, self.id)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.function.name, self.id)
    }
}

/// The index of a shard, `0..shard_count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShardId(pub u32);

impl ShardId {
    /// The shard's index as a `usize`, for indexing tables of shards.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The fixed number of shards of a cluster, chosen at creation (like Flink's
/// maximum parallelism). Never zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct ShardCount(u32);

impl ShardCount {
    /// A shard count; `None` for zero.
    pub const fn new(count: u32) -> Option<Self> {
        if count == 0 {
            None
        } else {
            Some(Self(count))
        }
    }

    /// The count.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Every shard id, in order.
    pub fn ids(self) -> impl Iterator<Item = ShardId> {
        (0..self.0).map(ShardId)
    }
}

impl TryFrom<u32> for ShardCount {
    type Error = &'static str;

    fn try_from(count: u32) -> Result<Self, Self::Error> {
        Self::new(count).ok_or("the shard count must be at least 1")
    }
}

impl From<ShardCount> for u32 {
    fn from(count: ShardCount) -> u32 {
        count.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COUNTER: FunctionType = FunctionType::from_static("test/counter");

    /// An address is written exactly as its parts, the shape it is read
    /// from, in MessagePack (arrays and maps) and JSON alike.
    #[test]
    fn addresses_are_written_as_their_parts() {
        #[derive(Serialize)]
        struct AddressParts {
            function: FunctionType,
            id: ActorId,
        }
        let address = Address::new(COUNTER, "some-actor");
        let parts = AddressParts {
            function: COUNTER,
            id: ActorId::from("some-actor"),
        };
        assert_eq!(
            rmp_serde::to_vec(&address).unwrap(),
            rmp_serde::to_vec(&parts).unwrap()
        );
        assert_eq!(
            rmp_serde::to_vec_named(&address).unwrap(),
            rmp_serde::to_vec_named(&parts).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&address).unwrap(),
            serde_json::to_string(&parts).unwrap()
        );
    }

    #[test]
    fn integer_ids_format_like_display() {
        assert_eq!(ActorId::from(0u64).as_str(), "0");
        assert_eq!(ActorId::from(-42i32).as_str(), "-42");
        assert_eq!(ActorId::from(u128::MAX).as_str(), u128::MAX.to_string());
        assert_eq!(ActorId::from(i128::MIN).as_str(), i128::MIN.to_string());
        assert_eq!(ActorId::from(i64::MIN).as_str(), i64::MIN.to_string());
    }

    #[test]
    fn placement_is_stable_across_releases() {
        // A changed placement function would strand every stored snapshot:
        // these values are fixed forever.
        let address = Address::new(COUNTER, "7");
        assert_eq!(address.placement_hash(), 0xcc54_2cc1_a181_3d2f);
        assert_eq!(address.shard(ShardCount::new(64).unwrap()), ShardId(51));
    }

    #[test]
    fn shards_spread_evenly() {
        let count = ShardCount::new(64).unwrap();
        let mut per_shard = [0u32; 64];
        for id in 0..64_000u64 {
            per_shard[Address::new(COUNTER, id).shard(count).index()] += 1;
        }
        let (min, max) = (
            per_shard.iter().min().unwrap(),
            per_shard.iter().max().unwrap(),
        );
        assert!(*min > 850 && *max < 1150, "spread {min}..{max}");
    }

    proptest! {
        #[test]
        fn integer_ids_match_to_string(n in any::<i64>()) {
            let id = ActorId::from(n);
            prop_assert_eq!(id.as_str(), n.to_string());
        }

        #[test]
        fn shard_is_in_range(id in ".*", count in 1u32..10_000) {
            let count = ShardCount::new(count).unwrap();
            prop_assert!(Address::new(COUNTER, id).shard(count).0 < count.get());
        }
    }
}
