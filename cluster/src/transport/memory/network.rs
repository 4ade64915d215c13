//! [`MemoryNetwork`]: an unreliable network in memory, driven by one
//! seeded RNG. Every frame is serialized and checked against the frame
//! limit like on TCP; then it may be dropped, duplicated, or delayed by a
//! random time, which reorders it. Links can be cut and healed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::mpsc;

use crate::transport::config::TransportConfig;
use crate::transport::events::Events;
use crate::transport::identity::{Generation, Incarnation, NodeId};
use crate::transport::link::LinkIds;

use super::endpoint::MemoryTransport;

/// What the network does to each frame, independently.
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    /// The probability a frame is lost.
    pub drop: f64,
    /// The probability a frame arrives twice.
    pub duplicate: f64,
    /// Each copy is delayed by a uniform random time up to this; frames
    /// delayed differently arrive out of order.
    pub max_delay: Duration,
}

impl Faults {
    /// A perfect network: every frame arrives once, at once.
    pub fn none() -> Self {
        Self {
            drop: 0.0,
            duplicate: 0.0,
            max_delay: Duration::ZERO,
        }
    }
}

/// One frame in flight between endpoints.
#[derive(Clone, Debug)]
pub(crate) struct Datagram {
    pub(crate) from: NodeId,
    pub(crate) from_incarnation: Incarnation,
    /// The incarnation of the destination the sender knows, if any.
    pub(crate) to_incarnation: Option<Incarnation>,
    /// The sender's link to the destination, and the destination's link
    /// as the sender knows it.
    pub(crate) links: LinkIds,
    pub(crate) generation: Generation,
    pub(crate) bytes: Bytes,
}

/// What the network hands an endpoint.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// A frame, to be delivered after `delay`.
    Datagram(Datagram, Duration),
    /// The link to this peer was healed.
    LinkUp(NodeId),
    /// The link to this peer was cut.
    LinkDown(NodeId),
}

struct Net {
    rng: StdRng,
    faults: Faults,
    /// Cut links, each as (lower, higher) node.
    cut: HashSet<(NodeId, NodeId)>,
    endpoints: HashMap<NodeId, mpsc::UnboundedSender<Inbound>>,
}

/// An in-memory network of [`MemoryTransport`]s. Cheap to clone. All its
/// randomness comes from the seed, so a run on a current-thread runtime
/// with paused time replays from it as far as Tokio schedules tasks in
/// the same order (true in practice, not promised by Tokio).
#[derive(Clone)]
pub struct MemoryNetwork {
    net: Arc<Mutex<Net>>,
}

impl std::fmt::Debug for MemoryNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let net = self.net.lock();
        f.debug_struct("MemoryNetwork")
            .field("faults", &net.faults)
            .field("endpoints", &net.endpoints.len())
            .field("cut", &net.cut.len())
            .finish_non_exhaustive()
    }
}

fn pair(a: &NodeId, b: &NodeId) -> (NodeId, NodeId) {
    if a <= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

impl MemoryNetwork {
    /// A network whose randomness all comes from `seed`.
    pub fn new(seed: u64, faults: Faults) -> Self {
        Self {
            net: Arc::new(Mutex::new(Net {
                rng: StdRng::seed_from_u64(seed),
                faults,
                cut: HashSet::new(),
                endpoints: HashMap::new(),
            })),
        }
    }

    /// Changes the faults from now on.
    pub fn set_faults(&self, faults: Faults) {
        self.net.lock().faults = faults;
    }

    /// Starts the endpoint of `node` with `config` (its incarnation,
    /// generation and limits). Starting `node` again models a restart: the
    /// previous endpoint stops receiving and ends. Must be called within a
    /// Tokio runtime.
    pub fn endpoint(&self, node: NodeId, config: TransportConfig) -> (MemoryTransport, Events) {
        let (tx, rx) = mpsc::unbounded_channel();
        self.net.lock().endpoints.insert(node.clone(), tx);
        MemoryTransport::start(self.clone(), node, config, rx)
    }

    /// Cuts the link between `a` and `b`: frames either way are lost until
    /// it is healed, and both ends see their peer go down.
    pub fn cut(&self, a: &NodeId, b: &NodeId) {
        let mut net = self.net.lock();
        if net.cut.insert(pair(a, b)) {
            net.notify(a, Inbound::LinkDown(b.clone()));
            net.notify(b, Inbound::LinkDown(a.clone()));
        }
    }

    /// Heals the link between `a` and `b`; both ends then exchange what
    /// they have delivered and resend the rest, as after a reconnect.
    pub fn heal(&self, a: &NodeId, b: &NodeId) {
        let mut net = self.net.lock();
        if net.cut.remove(&pair(a, b)) {
            net.notify(a, Inbound::LinkUp(b.clone()));
            net.notify(b, Inbound::LinkUp(a.clone()));
        }
    }

    /// Whether the link between `a` and `b` is cut.
    pub fn is_cut(&self, a: &NodeId, b: &NodeId) -> bool {
        self.net.lock().cut.contains(&pair(a, b))
    }

    /// Puts a frame on the wire to `to`, subject to the faults.
    pub(crate) fn transmit(&self, to: &NodeId, datagram: Datagram) {
        let mut net = self.net.lock();
        if net.cut.contains(&pair(&datagram.from, to)) {
            return;
        }
        let faults = net.faults.clone();
        if faults.drop > 0.0 && net.rng.random_bool(faults.drop.min(1.0)) {
            return;
        }
        let duplicate = faults.duplicate > 0.0 && net.rng.random_bool(faults.duplicate.min(1.0));
        let first_delay = net.delay(&faults);
        if duplicate {
            let copy = datagram.clone();
            let second_delay = net.delay(&faults);
            net.notify(to, Inbound::Datagram(copy, second_delay));
        }
        net.notify(to, Inbound::Datagram(datagram, first_delay));
    }
}

impl Net {
    fn delay(&mut self, faults: &Faults) -> Duration {
        let max = u64::try_from(faults.max_delay.as_micros()).unwrap_or(u64::MAX);
        if max == 0 {
            Duration::ZERO
        } else {
            Duration::from_micros(self.rng.random_range(0..=max))
        }
    }

    fn notify(&mut self, to: &NodeId, inbound: Inbound) {
        if let Some(tx) = self.endpoints.get(to) {
            // An endpoint that ended is a crashed node: frames to it are lost.
            let _ = tx.send(inbound);
        }
    }
}
