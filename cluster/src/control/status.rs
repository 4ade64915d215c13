//! What this node's coordinator loop is doing, for the views and metrics.

use cairn_core::Epoch;
use parking_lot::Mutex;

use crate::snapshots::{EpochRecord, History};
use crate::transport::Generation;

/// The coordinator's role and recent epochs, as this node knows them.
#[derive(Default)]
pub(crate) struct Status {
    /// The generation this node coordinates, if it is the coordinator.
    coordinating: Mutex<Option<Generation>>,
    /// The epoch being taken, if any.
    open_epoch: Mutex<Option<Epoch>>,
    /// The epochs this node coordinated.
    history: History,
}

impl Status {
    pub(crate) fn set_coordinating(&self, generation: Option<Generation>) {
        *self.coordinating.lock() = generation;
    }

    /// The generation this node coordinates, if it is the coordinator.
    pub(crate) fn coordinating(&self) -> Option<Generation> {
        *self.coordinating.lock()
    }

    pub(crate) fn set_open_epoch(&self, epoch: Option<Epoch>) {
        *self.open_epoch.lock() = epoch;
    }

    /// The epoch being taken, if any.
    pub(crate) fn open_epoch(&self) -> Option<Epoch> {
        *self.open_epoch.lock()
    }

    pub(crate) fn remember(&self, record: EpochRecord) {
        self.history.remember(record);
    }

    /// The epochs this node coordinated, oldest first.
    pub(crate) fn history(&self) -> Vec<EpochRecord> {
        self.history.records()
    }
}
