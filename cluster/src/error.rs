//! Errors of a node as a whole: starting, snapshotting, recovering.

use cairn_core::Epoch;

/// Why a node could not start, snapshot or recover.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The actor runtime refused its configuration or state.
    #[error(transparent)]
    Runtime(#[from] cairn_core::Error),
    /// The snapshot store failed or holds something unusable.
    #[error("snapshot store: {0}")]
    Store(#[from] cairn_persistence::Error),
    /// The store was written by a cluster with another shard count.
    #[error("the store holds {stored} shards but the node is configured with {configured}; the shard count is fixed for the life of a store")]
    ShardCountMismatch {
        /// The shard count in the latest committed manifest.
        stored: u32,
        /// The shard count this node was built with.
        configured: u32,
    },
    /// The store holds state of a function type under another schema hash
    /// than the registered struct's, and no migration was given.
    #[error("stored state of `{function}` has schema {stored:#018x} but the registered struct has {current:#018x}; register a migration with `NodeBuilder::migrate` or restore with a compatible build")]
    SchemaMismatch {
        /// The function type.
        function: String,
        /// The schema hash the state was stored under.
        stored: u64,
        /// The registered struct's schema hash.
        current: u64,
    },
    /// A migration refused an actor's stored state.
    #[error("migrating {actor} (`{function}`): {reason}")]
    Migration {
        /// The function type.
        function: String,
        /// The actor.
        actor: String,
        /// What the migration said.
        reason: String,
    },
    /// An object of a committed snapshot is missing, fails its checksum or
    /// does not decode: recovery never loads such state. The store is left
    /// untouched, so the object can still be repaired from a copy.
    #[error("snapshot epoch {epoch} cannot be restored: object {object} {reason}. The node refuses to start from damaged state. To start instead from the newest earlier committed epoch whose objects are all intact, start it with `NodeBuilder::allow_fallback(true)`: exactly-once is then lost for the egress released after that epoch")]
    CorruptSnapshot {
        /// The committed epoch that cannot be restored.
        epoch: Epoch,
        /// The key of the damaged or missing object.
        object: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Recovery was allowed to fall back, but every committed epoch has a
    /// damaged or missing object; the node refuses to start empty over them.
    #[error("no committed snapshot epoch can be restored: epochs {tried:?} each have a damaged or missing object (see the errors logged above); the node refuses to start with no state over them. Repair the objects or move the store aside")]
    NoIntactSnapshot {
        /// The committed epochs tried, newest first.
        tried: Vec<Epoch>,
    },
    /// Not every shard delivered its part of the epoch in time.
    #[error("epoch {epoch}: {missing} shard(s) did not deliver their part within {timeout:?}; the epoch is aborted")]
    EpochTimeout {
        /// The aborted epoch.
        epoch: Epoch,
        /// Shards missing.
        missing: usize,
        /// The time allowed.
        timeout: std::time::Duration,
    },
    /// Another writer committed this epoch first: this node is not the
    /// coordinator any more (SNAPSHOTS §3.9 rule 29).
    #[error("epoch {epoch} was committed by another writer; this node stops coordinating")]
    LostCommitRace {
        /// The epoch.
        epoch: Epoch,
    },
    /// Only the cluster's coordinator takes snapshots on demand.
    #[error("this node is not the cluster's coordinator (the coordinator is {coordinator:?}); ask it instead")]
    NotCoordinator {
        /// The coordinator's node id, if there is one.
        coordinator: Option<String>,
    },
    /// The cluster is moving to a new generation; try again shortly.
    #[error("the cluster is being reconfigured; try again")]
    Reconfiguring,
    /// Members did not start a new generation in time.
    #[error("generation {generation}: members {missing:?} did not start it in time")]
    MembersNotReady {
        /// The generation.
        generation: u64,
        /// The members that did not report ready.
        missing: Vec<String>,
    },
    /// A member of the generation died while an epoch was being taken.
    #[error("epoch {epoch}: a member died; the epoch is aborted")]
    MemberLost {
        /// The aborted epoch.
        epoch: Epoch,
    },
    /// The cluster layer could not start.
    #[error("cluster: {0}")]
    Cluster(String),
    /// The node has no snapshot store.
    #[error("this node runs without a snapshot store: set one with `NodeBuilder::store`")]
    NoStore,
    /// The node is shutting down.
    #[error("the node is shutting down")]
    ShuttingDown,
}
