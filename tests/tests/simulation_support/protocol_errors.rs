//! Reads `cairn_shard_protocol_errors_total`, so that a FIFO or marker
//! violation a shard only logs fails the test.

use std::sync::{Mutex, OnceLock};

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
static TOTAL: Mutex<u64> = Mutex::new(0);

/// Installs the process's metrics recorder (once), before any node starts.
pub(super) fn install_recorder() {
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("no other recorder in the simulation tests");
        snapshotter
    });
}

/// Protocol errors counted in this process so far.
pub(super) fn protocol_errors() -> u64 {
    let snapshotter = SNAPSHOTTER.get().expect("install_recorder first");
    let mut total = TOTAL.lock().unwrap();
    // A snapshot hands out what was counted since the last one.
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        if let (cairn::PROTOCOL_ERRORS, DebugValue::Counter(value)) = (key.key().name(), value) {
            *total += value;
        }
    }
    *total
}
