//! What became of recent epochs, for the HTTP view and the CLI.

use std::collections::VecDeque;

use cairn_core::Epoch;
use parking_lot::Mutex;

/// How many recent epochs the history keeps.
const HISTORY: usize = 100;

/// What became of one epoch.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EpochRecord {
    /// The epoch.
    pub epoch: Epoch,
    /// Whether it committed.
    pub committed: bool,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// From start to commit or abort, in milliseconds.
    pub duration_ms: u64,
    /// Bytes uploaded for it.
    pub bytes: u64,
    /// Objects uploaded for it.
    pub objects: usize,
    /// Bytes of in-flight messages its channel logs recorded (message
    /// bodies, before the object's framing).
    pub channel_log_bytes: u64,
    /// Why it was aborted, if it was.
    pub error: Option<String>,
}

/// The most recent epochs, oldest first.
#[derive(Default)]
pub(crate) struct History(Mutex<VecDeque<EpochRecord>>);

impl History {
    /// Adds `record`, forgetting the oldest beyond the limit.
    pub(crate) fn remember(&self, record: EpochRecord) {
        let mut history = self.0.lock();
        if history.len() == HISTORY {
            history.pop_front();
        }
        history.push_back(record);
    }

    /// The records, oldest first.
    pub(crate) fn records(&self) -> Vec<EpochRecord> {
        self.0.lock().iter().cloned().collect()
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}
