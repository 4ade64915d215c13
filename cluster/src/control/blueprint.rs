//! What a member needs to start its runtime again for each generation:
//! the runtime configuration, the functions, the egress sinks (shared by
//! successive runtimes), the ingress and the schema check.

use std::sync::Arc;

use cairn_core::{
    EgressRecord, EgressSink, Ingress, Placement, Registry, Runtime, RuntimeConfig, ShardSnapshot,
    SnapshotLink,
};
use parking_lot::Mutex;
use tokio::sync::{mpsc, Notify};

use crate::error::NodeError;
use crate::snapshots::SchemaCheck;

/// An egress sink shared by the runtimes of successive generations: one
/// runtime at a time publishes through it (the previous one has stopped,
/// and its egress thread ended, before the next starts).
#[derive(Clone)]
pub(crate) struct SharedSink(Arc<Mutex<Box<dyn EgressSink>>>);

impl SharedSink {
    pub(crate) fn new(sink: Box<dyn EgressSink>) -> Self {
        Self(Arc::new(Mutex::new(sink)))
    }
}

impl EgressSink for SharedSink {
    fn publish(&mut self, records: &[EgressRecord]) -> std::io::Result<()> {
        self.0.lock().publish(records)
    }
}

/// Everything [`Runtime::start_with`] takes but the placement and the
/// restored state.
#[derive(Clone)]
pub(crate) struct Blueprint {
    pub(crate) config: RuntimeConfig,
    pub(crate) registry: Registry,
    pub(crate) egress: Vec<(String, SharedSink)>,
    pub(crate) ingress: Vec<Ingress>,
    pub(crate) schemas: Arc<SchemaCheck>,
}

/// A runtime just started, with the ends of its snapshot link.
pub(crate) struct Started {
    pub(crate) runtime: Runtime,
    /// Its shards' parts of each epoch.
    pub(crate) parts: mpsc::UnboundedReceiver<ShardSnapshot>,
    /// Notified when a shard needs an epoch sooner.
    pub(crate) pressure: Arc<Notify>,
}

impl Blueprint {
    /// Starts a runtime running `placement`'s shards from `restore`.
    pub(crate) fn start(
        &self,
        placement: Placement,
        restore: Vec<Option<ShardSnapshot>>,
    ) -> Result<Started, NodeError> {
        let (parts_tx, parts) = mpsc::unbounded_channel();
        let pressure = Arc::new(Notify::new());
        let link = SnapshotLink {
            parts: parts_tx,
            restore,
            pressure: pressure.clone(),
        };
        let egress = self
            .egress
            .iter()
            .map(|(name, sink)| (name.clone(), Box::new(sink.clone()) as Box<dyn EgressSink>))
            .collect();
        let runtime = Runtime::start_with(
            self.config.clone(),
            self.registry.clone(),
            egress,
            Some(link),
            self.ingress.clone(),
            placement,
        )?;
        Ok(Started {
            runtime,
            parts,
            pressure,
        })
    }
}
