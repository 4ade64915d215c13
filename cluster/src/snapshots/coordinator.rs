//! The snapshot coordinator of a single node: starts an epoch on every
//! shard, gathers their parts, uploads them, and commits the manifest
//! create-only (SNAPSHOTS §3.4). An epoch that cannot finish is aborted,
//! and the shards capture again what it held.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cairn_core::{Epoch, Runtime, ShardSnapshot};
use cairn_persistence::{CommitOutcome, GcPolicy, Manifest, Store, TypeSchema};
use tokio::sync::{mpsc, Mutex};

use super::gc_cadence::GcCadence;
use super::history::{unix_ms_now, EpochRecord, History};
use super::parts::{extend_chains, schemas, upload, Chains, ManifestOf};
use crate::error::NodeError;

/// The generation and incarnation of a single node that never fails over.
/// Fencing numbers grow with the cluster (SNAPSHOTS §3.9).
const GENERATION: u64 = 1;
const INCARNATION: u64 = 1;

/// What one epoch uploaded.
#[derive(Default)]
struct Uploaded {
    bytes: u64,
    objects: usize,
    channel_log_bytes: u64,
}

/// Drives epochs; one at a time.
pub(crate) struct Coordinator {
    store: Store,
    runtime: Runtime,
    part_timeout: Duration,
    gc: GcPolicy,
    state: Mutex<State>,
    history: History,
    /// The epochs running now (at most one does work at a time); `None`
    /// once stopped.
    epochs: parking_lot::Mutex<Option<tokio::task::JoinSet<()>>>,
    /// Set when the node stops: an epoch still waiting for its turn then
    /// starts no more.
    stopping: AtomicBool,
    /// The epoch between its start and its commit or abort, if any.
    open: parking_lot::Mutex<Option<Epoch>>,
}

struct State {
    parts: mpsc::UnboundedReceiver<ShardSnapshot>,
    last_committed: Option<Epoch>,
    chains: Chains,
    /// The last epoch number this coordinator started (or, before the
    /// first, the highest the store had used at recovery).
    last_started: Option<Epoch>,
    /// Whether the store must be asked for the next number (after an
    /// abort).
    resync: bool,
    gc: GcCadence,
}

impl Coordinator {
    pub(crate) fn new(
        store: Store,
        runtime: Runtime,
        parts: mpsc::UnboundedReceiver<ShardSnapshot>,
        recovered: Option<&Manifest>,
        highest_used: Option<Epoch>,
        part_timeout: Duration,
        gc: GcPolicy,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            runtime,
            part_timeout,
            gc,
            history: History::default(),
            epochs: parking_lot::Mutex::new(Some(tokio::task::JoinSet::new())),
            stopping: AtomicBool::new(false),
            open: parking_lot::Mutex::new(None),
            state: Mutex::new(State {
                parts,
                last_committed: recovered.map(|manifest| manifest.epoch),
                chains: super::recovery::chains_of(recovered),
                // Above every number the store has used, including a
                // damaged commit that recovery fell back past: its number
                // is never taken again.
                last_started: highest_used.max(recovered.map(|manifest| manifest.epoch)),
                resync: false,
                gc: GcCadence::default(),
            }),
        })
    }

    /// Takes one snapshot of every shard and commits it. Returns the
    /// committed epoch.
    ///
    /// The epoch runs in a task the coordinator owns, so a caller that gives
    /// up waiting cannot cut it short: a commit half-recorded in memory
    /// would let shards treat uncommitted captures as committed.
    pub(crate) async fn snapshot(self: &Arc<Self>) -> Result<Epoch, NodeError> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        let coordinator = self.clone();
        {
            let mut epochs = self.epochs.lock();
            let epochs = epochs.as_mut().ok_or(NodeError::ShuttingDown)?;
            while epochs.try_join_next().is_some() {}
            epochs.spawn(async move {
                let _ = done.send(coordinator.run_epoch().await);
            });
        }
        outcome.await.map_err(|_| NodeError::ShuttingDown)?
    }

    /// Starts no more epochs and lets the one in progress end, committed
    /// or aborted, waiting at most `patience` before cancelling it. Only
    /// at shutdown.
    ///
    /// An epoch is not cancelled at once because its commit may be a file
    /// write on a blocking thread, which a cancelled task leaves running:
    /// the MANIFEST would then land after the node stopped, on a number a
    /// restart on the same store may already have chosen, and that
    /// restart's own commit would lose the race. Past `patience` that can
    /// still happen; the restart then aborts that one epoch and goes on.
    pub(crate) async fn stop(&self, patience: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        let Some(mut epochs) = self.epochs.lock().take() else {
            return;
        };
        let ended = async { while epochs.join_next().await.is_some() {} };
        if tokio::time::timeout(patience, ended).await.is_err() {
            tracing::warn!(?patience, "an epoch in progress at shutdown is cancelled");
            epochs.abort_all();
        }
    }

    async fn run_epoch(&self) -> Result<Epoch, NodeError> {
        let mut state = self.state.lock().await;
        if self.stopping.load(Ordering::SeqCst) {
            // Queued behind the epoch in progress when the node stopped:
            // it takes no number, so it needs no tombstone.
            return Err(NodeError::ShuttingDown);
        }
        let epoch = self.next_number(&mut state).await?;
        state.last_started = Some(epoch);
        let started = std::time::Instant::now();
        let started_unix_ms = unix_ms_now();
        self.runtime.start_epoch(epoch)?;
        *self.open.lock() = Some(epoch);
        let mut uploaded = Uploaded::default();
        let outcome = self.commit(&mut state, epoch, &mut uploaded).await;
        *self.open.lock() = None;
        self.history.remember(EpochRecord {
            epoch,
            committed: outcome.is_ok(),
            started_unix_ms,
            duration_ms: started.elapsed().as_millis() as u64,
            bytes: uploaded.bytes,
            objects: uploaded.objects,
            channel_log_bytes: uploaded.channel_log_bytes,
            error: outcome.as_ref().err().map(ToString::to_string),
        });
        match outcome {
            Ok(()) => {
                state.last_committed = Some(epoch);
                self.runtime.epoch_committed(epoch)?;
                tracing::debug!(epoch, "epoch committed");
                state.gc.committed(&self.store, self.gc).await;
                Ok(epoch)
            }
            Err(error) => {
                // Another writer may have taken numbers: the next epoch
                // looks at the store again.
                state.resync = true;
                // Rule 29: a number once started is used up, by a manifest
                // or a tombstone; the shards capture again what it held.
                let tombstone = Manifest::tombstone(epoch, GENERATION, INCARNATION);
                if let Err(tombstone_error) = self.store.commit_manifest(&tombstone).await {
                    tracing::error!(epoch, %tombstone_error, "cannot write the ABORTED tombstone");
                }
                self.runtime.epoch_aborted(epoch)?;
                tracing::warn!(epoch, %error, "epoch aborted");
                Err(error)
            }
        }
    }

    /// The number of the next epoch (SNAPSHOTS rule 23): one above the
    /// last this coordinator started, which recovery set above every
    /// MANIFEST in the store. The store is asked again only when it may be
    /// ahead — before the first epoch of an empty store and after an abort
    /// (a lost commit race means another writer took numbers) — never on
    /// every epoch: listing it costs a request per epoch on S3.
    async fn next_number(&self, state: &mut State) -> Result<Epoch, NodeError> {
        let in_memory = state.last_started.map(|last| last + 1);
        let epoch = match in_memory {
            Some(epoch) if !state.resync => epoch,
            // Never reuse a number in memory, even if its tombstone could
            // not be written.
            _ => {
                let in_store = self.store.next_epoch().await?;
                in_memory.map_or(in_store, |epoch| epoch.max(in_store))
            }
        };
        state.resync = false;
        Ok(epoch)
    }

    /// The epoch between its start and its commit or abort, if any.
    pub(crate) fn open_epoch(&self) -> Option<Epoch> {
        *self.open.lock()
    }

    /// The store epochs are committed to.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The most recent epochs, oldest first.
    pub(crate) fn history(&self) -> Vec<EpochRecord> {
        self.history.records()
    }

    /// Gathers, uploads and commits, counting what it uploads.
    async fn commit(
        &self,
        state: &mut State,
        epoch: Epoch,
        uploaded: &mut Uploaded,
    ) -> Result<(), NodeError> {
        let shard_count = self.runtime.config().shard_count.get();
        // Each part is encoded and uploaded in a task of its own as soon as
        // it arrives, so uploads overlap one another and the wait for the
        // slower shards instead of queueing behind each other.
        let types: Arc<[TypeSchema]> = schemas(self.runtime.registry()).into();
        let mut uploads = tokio::task::JoinSet::new();
        let mut received = 0;
        while received < shard_count {
            let part = tokio::time::timeout(self.part_timeout, state.parts.recv())
                .await
                .map_err(|_| NodeError::EpochTimeout {
                    epoch,
                    missing: (shard_count - received) as usize,
                    timeout: self.part_timeout,
                })?
                .ok_or(NodeError::ShuttingDown)?;
            if part.epoch != epoch {
                // A part of an epoch that was aborted while it was on its way.
                continue;
            }
            let (store, types) = (self.store.clone(), types.clone());
            uploads
                .spawn(async move { upload(&store, &types, part, GENERATION, INCARNATION).await });
            received += 1;
        }
        let mut references = Vec::with_capacity(shard_count as usize);
        while let Some(done) = uploads.join_next().await {
            let upload = done.map_err(|error| {
                NodeError::Runtime(cairn_core::Error::Config(format!(
                    "a snapshot upload task failed: {error}"
                )))
            })??;
            uploaded.bytes += upload.reference.len;
            uploaded.objects += 1;
            uploaded.channel_log_bytes += upload.channel_log_bytes;
            references.push(upload);
        }
        let chains = extend_chains(&state.chains, references);
        let manifest = ManifestOf {
            epoch,
            generation: GENERATION,
            incarnation: INCARNATION,
            parent: state.last_committed,
            shard_count,
            chains: &chains,
        }
        .build();
        match self.store.commit_manifest(&manifest).await? {
            CommitOutcome::Committed => {
                state.chains = chains;
                Ok(())
            }
            CommitOutcome::LostRace => Err(NodeError::LostCommitRace { epoch }),
        }
    }
}
