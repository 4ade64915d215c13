//! Who is on each end of a link, and which logical channel a message is on.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A node of the cluster, named by the address its cluster port is reached
/// at (`host:port`). The TCP transport dials this string; the in-memory
/// transport uses it only as a name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId(String);

impl NodeId {
    /// A node id from its cluster address.
    pub fn new(address: impl Into<String>) -> Self {
        Self(address.into())
    }

    /// The address as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for NodeId {
    fn from(address: &str) -> Self {
        Self::new(address)
    }
}

/// One life of a node process. A node restarted at the same address is a
/// new incarnation, and must have a larger one: peers refuse an older
/// incarnation of a node they know (SNAPSHOTS §3.1 rule 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Incarnation(pub u64);

impl Incarnation {
    /// An incarnation from the wall clock in milliseconds, so that a
    /// restarted process gets a larger one than its predecessor.
    pub fn from_clock() -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
        Self(u64::try_from(millis).unwrap_or(u64::MAX))
    }
}

impl fmt::Display for Incarnation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The ring (coordinator) generation a node has seen. A peer that presents
/// a lower generation than this node's is stale and is refused
/// (SNAPSHOTS §3.9).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Generation(pub u64);

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A logical channel between two nodes, such as a (source shard,
/// destination shard) pair. Delivery is exactly once and in order per
/// channel; channels are independent of one another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChannelId {
    /// The sending end (for Cairn, the source shard).
    pub src: u32,
    /// The receiving end (for Cairn, the destination shard).
    pub dst: u32,
}

impl ChannelId {
    /// The channel from `src` to `dst`.
    pub fn new(src: u32, dst: u32) -> Self {
        Self { src, dst }
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}→{}", self.src, self.dst)
    }
}
