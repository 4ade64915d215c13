//! Helpers shared by the transport tests: configurations, a lossy
//! network and a paused-time runtime for the in-memory transport, a
//! metrics recorder to read counters from, and collecting deliveries.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use cairn::transport::{
    ChannelId, Delivery, Events, Faults, Incarnation, NodeId, Secret, TransportConfig,
    TransportEvent,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// The cluster every test node is in.
pub const CLUSTER: &str = "test-cluster";
/// The secret every well-behaved test node has.
pub const SECRET: &str = "correct horse battery staple";
/// How long any wait may take before the test is declared hung. Generous:
/// it guards against a hang, it is not a latency assertion.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// A configuration with the test cluster, the test secret and `incarnation`.
pub fn config(incarnation: u64) -> TransportConfig {
    TransportConfig::new(CLUSTER)
        .with_secret(Some(Secret::new(SECRET)))
        .with_incarnation(Incarnation(incarnation))
}

/// A network that drops a fifth of the frames, duplicates a tenth and
/// delays each by up to 30 ms (so reorders them).
pub fn lossy() -> Faults {
    Faults {
        drop: 0.2,
        duplicate: 0.1,
        max_delay: Duration::from_millis(30),
    }
}

/// Runs `scenario` on a current-thread runtime with paused time, so a
/// seeded in-memory network replays (as far as Tokio's scheduling order
/// is repeatable) and its timers cost no real time.
pub fn run_paused(scenario: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(scenario);
}

static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
static TOTALS: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);

/// Installs the process's metrics recorder (once).
pub fn install_recorder() {
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("no other recorder in a transport test");
        snapshotter
    });
}

/// The total of counter `name` for `node` and, if given, `reason` so far.
pub fn counter(name: &str, node: &NodeId, reason: Option<&str>) -> u64 {
    let snapshotter = SNAPSHOTTER.get().expect("install_recorder first");
    let mut totals = TOTALS.lock().unwrap();
    let totals = totals.get_or_insert_with(HashMap::new);
    // A snapshot resets the counters it reads, so they are added up here.
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        if let DebugValue::Counter(value) = value {
            let mut labels: Vec<String> = key
                .key()
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            labels.sort();
            let id = format!("{}{{{}}}", key.key().name(), labels.join(","));
            *totals.entry(id).or_default() += value;
        }
    }
    let mut labels = vec![format!("node={node}")];
    if let Some(reason) = reason {
        labels.push(format!("reason={reason}"));
    }
    labels.sort();
    let id = format!("{name}{{{}}}", labels.join(","));
    totals.get(&id).copied().unwrap_or(0)
}

/// Waits until `condition` holds, polling; panics after [`HANG_GUARD`].
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "hung waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Deliveries received, per (sender, channel), in arrival order.
#[derive(Default, Debug)]
pub struct Received {
    pub by_channel: HashMap<(NodeId, ChannelId), Vec<Delivery>>,
    pub total: usize,
    /// Peer restarts and link resets, in arrival order.
    pub restarts: Vec<TransportEvent>,
}

impl Received {
    /// Records one event.
    pub fn record(&mut self, event: TransportEvent) {
        match event {
            TransportEvent::Message(delivery) => {
                self.total += 1;
                self.by_channel
                    .entry((delivery.from.clone(), delivery.channel))
                    .or_default()
                    .push(delivery);
            }
            restart @ (TransportEvent::PeerRestarted { .. } | TransportEvent::LinkReset { .. }) => {
                self.restarts.push(restart)
            }
            TransportEvent::PeerUp { .. } | TransportEvent::PeerDown { .. } => {}
        }
    }

    /// Reads events until `total` messages have arrived; panics after
    /// [`HANG_GUARD`].
    pub async fn until(&mut self, events: &mut Events, total: usize) {
        let wait = async {
            while self.total < total {
                match events.recv().await {
                    Some(event) => self.record(event),
                    None => panic!("events ended after {} of {total} messages", self.total),
                }
            }
        };
        tokio::time::timeout(HANG_GUARD, wait)
            .await
            .unwrap_or_else(|_| panic!("hung: {} of {total} messages arrived", self.total));
    }

    /// The payloads from `from` on `channel`, in delivery order, checking
    /// that sequence numbers run 1, 2, 3… with no gap or repeat.
    pub fn payloads(&self, from: &NodeId, channel: ChannelId) -> Vec<Vec<u8>> {
        let deliveries = self
            .by_channel
            .get(&(from.clone(), channel))
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (index, delivery) in deliveries.iter().enumerate() {
            assert_eq!(
                delivery.seq,
                index as u64 + 1,
                "sequence numbers on {channel} from {from} must run without gaps"
            );
        }
        deliveries.iter().map(|d| d.payload.to_vec()).collect()
    }
}

/// The payload of message `index`.
pub fn payload(index: usize) -> Vec<u8> {
    format!("message {index}").into_bytes()
}
