//! Snapshots of the whole node: the coordinator that drives epochs and
//! commits them to blob storage, and recovery from the latest commit.
//!
//! Each shard's part of an epoch is one object (`.state`): the actors it
//! captured (only those written since its previous part), its queued
//! messages, timers, sequence counters and the channel logs. A shard's
//! entry in the manifest is the chain of its parts since its base, so a
//! restore folds them, last write winning (SNAPSHOTS §3.10 rule 33).

mod coordinator;
mod gc_cadence;
mod history;
mod parts;
pub(crate) mod recovery;
mod schema;

use std::sync::Arc;
use std::time::Duration;

use cairn_core::{Epoch, Registry, Runtime, RuntimeConfig, SnapshotLink};
use cairn_persistence::{GcPolicy, Store, StoreOptions};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::NodeError;
use coordinator::Coordinator;
pub(crate) use gc_cadence::GcCadence;
pub use history::EpochRecord;
pub(crate) use history::{unix_ms_now, History};
pub(crate) use parts::{extend_chains, schemas, upload, Chains, ManifestOf, PartUpload};
pub(crate) use schema::Migrations;
pub(crate) use schema::SchemaCheck;

/// How long the coordinator waits for every shard's part of an epoch.
const PART_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a stopping node waits for the epoch in progress to end.
pub(crate) const STOP_PATIENCE: Duration = Duration::from_secs(10);

/// Where snapshots go and how often: set on the node builder.
#[derive(Clone, Debug)]
pub(crate) struct SnapshotSettings {
    /// The store's URL (`fs://…`, `memory://`, `s3://…`).
    pub(crate) store: String,
    /// How often an epoch starts on its own; `None` for on demand only.
    pub(crate) interval: Option<Duration>,
    /// What garbage collection keeps.
    pub(crate) retention: GcPolicy,
    /// How to read state stored under older schemas.
    pub(crate) migrations: Migrations,
    /// Whether recovery may fall back to an earlier committed epoch when the
    /// latest one is damaged (see `NodeBuilder::allow_fallback`).
    pub(crate) allow_fallback: bool,
}

/// A node's snapshot machinery: the coordinator and the task that starts
/// epochs periodically (owned here, stopped on shutdown).
pub(crate) struct Snapshots {
    coordinator: Arc<Coordinator>,
    ticker: Mutex<Option<JoinHandle<()>>>,
    /// Held by a caller of [`Snapshots::stop`] until it is done.
    stopping: tokio::sync::Mutex<()>,
    recovered_from: Option<Epoch>,
}

/// Opens the store and reads back its latest committed epoch: the link the
/// runtime starts with, and what the coordinator continues from.
pub(crate) async fn prepare(
    settings: &SnapshotSettings,
    config: &RuntimeConfig,
    registry: &Registry,
) -> Result<(SnapshotLink, Pending), NodeError> {
    let store = Store::open(&settings.store, StoreOptions::default())?;
    let schemas = Arc::new(SchemaCheck::new(registry, settings.migrations.clone()));
    let recovered = recovery::recover(
        &store,
        config.shard_count,
        &schemas,
        settings.allow_fallback,
    )
    .await?;
    let (parts, receiver) = mpsc::unbounded_channel();
    let pressure = Arc::new(tokio::sync::Notify::new());
    let link = SnapshotLink {
        parts,
        restore: recovered.restore,
        pressure: pressure.clone(),
    };
    Ok((
        link,
        Pending {
            store,
            receiver,
            recovered: recovered.manifest,
            highest_used: recovered.highest_used,
            interval: settings.interval,
            retention: settings.retention,
            pressure,
        },
    ))
}

/// What [`prepare`] leaves for [`Snapshots::start`] once the runtime runs.
pub(crate) struct Pending {
    store: Store,
    receiver: mpsc::UnboundedReceiver<cairn_core::ShardSnapshot>,
    recovered: Option<cairn_persistence::Manifest>,
    highest_used: Option<Epoch>,
    interval: Option<Duration>,
    retention: GcPolicy,
    pressure: Arc<tokio::sync::Notify>,
}

impl Snapshots {
    /// Starts coordinating `runtime`'s snapshots.
    pub(crate) fn start(pending: Pending, runtime: Runtime) -> Self {
        let recovered_from = pending.recovered.as_ref().map(|manifest| manifest.epoch);
        let coordinator = Coordinator::new(
            pending.store,
            runtime,
            pending.receiver,
            pending.recovered.as_ref(),
            pending.highest_used,
            PART_TIMEOUT,
            pending.retention,
        );
        let ticker = Some(tokio::spawn(start_epochs(
            coordinator.clone(),
            pending.interval,
            pending.pressure,
        )));
        Self {
            coordinator,
            ticker: Mutex::new(ticker),
            stopping: tokio::sync::Mutex::new(()),
            recovered_from,
        }
    }

    /// The most recent epochs, oldest first.
    pub(crate) fn history(&self) -> Vec<EpochRecord> {
        self.coordinator.history()
    }

    /// The store snapshots go to.
    pub(crate) fn store(&self) -> &Store {
        self.coordinator.store()
    }

    /// The epoch being taken now, if any.
    pub(crate) fn open_epoch(&self) -> Option<Epoch> {
        self.coordinator.open_epoch()
    }

    /// The epoch the node resumed from at start, if any.
    pub(crate) fn recovered_from(&self) -> Option<Epoch> {
        self.recovered_from
    }

    /// Takes a snapshot now and returns its committed epoch.
    pub(crate) async fn snapshot_now(&self) -> Result<Epoch, NodeError> {
        self.coordinator.snapshot().await
    }

    /// Stops starting epochs; one in progress ends first (commits or
    /// aborts), so nothing is written to the store once this returns,
    /// unless it takes longer than `patience` and is cancelled. A second
    /// caller returns when the first is done.
    pub(crate) async fn stop(&self, patience: Duration) {
        let _one_at_a_time = self.stopping.lock().await;
        let ticker = self.ticker.lock().take();
        if let Some(ticker) = ticker {
            ticker.abort();
            let _ = ticker.await;
        }
        self.coordinator.stop(patience).await;
    }
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots").finish_non_exhaustive()
    }
}

/// Starts an epoch every `interval` (if any), and at once whenever a shard
/// over its bound on active actors asks for one; the interval then counts
/// from that epoch.
async fn start_epochs(
    coordinator: Arc<Coordinator>,
    interval: Option<Duration>,
    pressure: Arc<tokio::sync::Notify>,
) {
    let mut ticks = interval.map(|period| {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });
    loop {
        let next_tick = async {
            match ticks.as_mut() {
                Some(ticks) => {
                    ticks.tick().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = next_tick => {}
            () = pressure.notified() => {
                tracing::debug!("an epoch starts early: shards are over their bound on active actors");
                if let Some(ticks) = ticks.as_mut() {
                    ticks.reset();
                }
            }
        }
        if let Err(error) = coordinator.snapshot().await {
            tracing::warn!(%error, "periodic snapshot failed");
        }
    }
}
