//! What a node publishes about itself in gossip, and how it is read back.
//!
//! Each field is one chitchat key. The incarnation is not among them: it
//! is chitchat's `generation_id`, part of the node's gossip identity.

use cairn_core::ShardCount;

/// The key of the address of the node's cluster (RPC) port.
pub(crate) const RPC_KEY: &str = "rpc";
/// The key of the address of the node's HTTP endpoint.
pub(crate) const HTTP_KEY: &str = "http";
/// The key of the cluster's shard count as this node was configured.
pub(crate) const SHARDS_KEY: &str = "shards";
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
}

impl NodeMetadata {
    /// Metadata from the node's addresses and shard count.
    pub fn new(rpc: impl Into<String>, http: impl Into<String>, shards: ShardCount) -> Self {
        Self {
            rpc: rpc.into(),
            http: http.into(),
            shards,
        }
    }

    /// The key-value pairs that carry it.
    pub(crate) fn to_key_values(&self) -> Vec<(String, String)> {
        vec![
            (RPC_KEY.to_owned(), self.rpc.clone()),
            (HTTP_KEY.to_owned(), self.http.clone()),
            (SHARDS_KEY.to_owned(), self.shards.get().to_string()),
        ]
    }

    /// Reads it back through `get`, a key lookup; `None` while a key has
    /// not arrived yet or does not parse.
    pub(crate) fn from_keys<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Self> {
        Some(Self {
            rpc: get(RPC_KEY)?.to_owned(),
            http: get(HTTP_KEY)?.to_owned(),
            shards: ShardCount::new(get(SHARDS_KEY)?.parse().ok()?)?,
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
        );
        let map: HashMap<String, String> = metadata.to_key_values().into_iter().collect();
        let back = NodeMetadata::from_keys(|key| map.get(key).map(String::as_str));
        assert_eq!(back, Some(metadata));
    }

    /// A missing key or an unparsable shard count gives no metadata.
    #[test]
    fn incomplete_or_bad_metadata_is_none() {
        let map: HashMap<&str, &str> = [(RPC_KEY, "a:1"), (HTTP_KEY, "a:2")].into();
        assert_eq!(NodeMetadata::from_keys(|key| map.get(key).copied()), None);
        for bad in ["x", "0", "-1"] {
            let map: HashMap<&str, &str> =
                [(RPC_KEY, "a:1"), (HTTP_KEY, "a:2"), (SHARDS_KEY, bad)].into();
            assert_eq!(NodeMetadata::from_keys(|key| map.get(key).copied()), None);
        }
    }
}
