//! The cluster control plane: a node's membership, its generation of the
//! shard map, and the cluster-wide snapshot coordinator.

mod settings;

pub use settings::{ClusterSettings, DEFAULT_CLUSTER_ID};
