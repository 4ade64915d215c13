//! Why a data plane cannot be set up.

/// A data plane's setup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataPlaneError {
    /// The shard map and the runtime disagree on the number of shards.
    #[error("the shard map places {map} shards, but the runtime has {runtime}")]
    ShardCount {
        /// Shards in the map.
        map: usize,
        /// Shards of the runtime.
        runtime: u32,
    },
}
