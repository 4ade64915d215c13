//! What a node publishes about itself in gossip, and how it is read back.
//!
//! Each field is one chitchat key. The incarnation is not among them: it
//! is chitchat's `generation_id`, part of the node's gossip identity.

use cairn_core::ShardCount;

use crate::transport::DEFAULT_MAX_FRAME;

/// The key of the address of the node's cluster (RPC) port.
pub(crate) const RPC_KEY: &str = "rpc";
/// The key of the address of the node's HTTP endpoint.
pub(crate) const HTTP_KEY: &str = "http";
/// The key of the cluster's shard count as this node was configured.
pub(crate) const SHARDS_KEY: &str = "shards";
/// The key of the largest frame the node's transport takes.
pub(crate) const MAX_FRAME_KEY: &str = "max_frame";
/// The key a node sets when it leaves gracefully; its value is unused.
pub(crate) const LEAVING_KEY: &str = "leaving";

/// What a node tells its peers about itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeMetadata {
    /// The `host:port` of the node's cluster port (the transport).
    pub rpc: String,
    /// The `host:port` of the node's HTTP endpoint.
    pub http: String,
    /// The shard count the node was configured with: every member must
    /// agree, so a joining node can check it against the cluster's.
    pub shards: ShardCount,
    /// The largest frame the node's transport takes, in bytes: every
    /// member must agree, since a frame over a receiver's limit closes the
    /// connection it came on.
    pub max_frame: usize,
}

impl NodeMetadata {
    /// Metadata from the node's addresses and shard count, with the
    /// default largest frame.
    pub fn new(rpc: impl Into<String>, http: impl Into<String>, shards: ShardCount) -> Self {
        Self {
            rpc: rpc.into(),
            http: http.into(),
            shards,
            max_frame: DEFAULT_MAX_FRAME,
        }
    }

    /// The same metadata with this largest frame.
    pub fn with_max_frame(mut self, max_frame: usize) -> Self {
        self.max_frame = max_frame;
        self
    }

    /// The key-value pairs that carry it.
    pub(crate) fn to_key_values(&self) -> Vec<(String, String)> {
        vec![
            (RPC_KEY.to_owned(), self.rpc.clone()),
            (HTTP_KEY.to_owned(), self.http.clone()),
            (SHARDS_KEY.to_owned(), self.shards.get().to_string()),
            (MAX_FRAME_KEY.to_owned(), self.max_frame.to_string()),
        ]
    }

    /// Reads it back through `get`, a key lookup; `None` while a key has
    /// not arrived yet or does not parse.
    pub(crate) fn from_keys<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Self> {
        Some(Self {
            rpc: get(RPC_KEY)?.to_owned(),
            http: get(HTTP_KEY)?.to_owned(),
            shards: ShardCount::new(get(SHARDS_KEY)?.parse().ok()?)?,
            max_frame: get(MAX_FRAME_KEY)?.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Metadata read back from its own key-value pairs is the same.
    #[test]
    fn round_trips_through_key_values() {
        let metadata = NodeMetadata::new(
            "10.0.0.1:7000",
            "10.0.0.1:9090",
            ShardCount::new(256).unwrap(),
        )
        .with_max_frame(1 << 20);
        let map: HashMap<String, String> = metadata.to_key_values().into_iter().collect();
        let back = NodeMetadata::from_keys(|key| map.get(key).map(String::as_str));
        assert_eq!(back, Some(metadata));
    }

    /// A missing key, an unparsable shard count or an unparsable largest
    /// frame gives no metadata.
    #[test]
    fn incomplete_or_bad_metadata_is_none() {
        let good = [
            (RPC_KEY, "a:1"),
            (HTTP_KEY, "a:2"),
            (SHARDS_KEY, "8"),
            (MAX_FRAME_KEY, "65536"),
        ];
        let read = |pairs: &[(&'static str, &'static str)]| {
            let map: HashMap<&str, &str> = pairs.iter().copied().collect();
            NodeMetadata::from_keys(|key| map.get(key).copied())
        };
        assert!(read(&good).is_some());
        for missing in 0..good.len() {
            let mut pairs = good.to_vec();
            pairs.remove(missing);
            assert_eq!(read(&pairs), None, "without {}", good[missing].0);
        }
        for (key, bad) in [
            (SHARDS_KEY, "x"),
            (SHARDS_KEY, "0"),
            (SHARDS_KEY, "-1"),
            (MAX_FRAME_KEY, "x"),
            (MAX_FRAME_KEY, "-1"),
        ] {
            let mut pairs = good.to_vec();
            pairs.retain(|(other, _)| *other != key);
            pairs.push((key, bad));
            assert_eq!(read(&pairs), None, "{key} = {bad}");
        }
    }
}
