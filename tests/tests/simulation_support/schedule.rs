//! What a seed injects: how unreliable the network is, and which
//! cluster-level faults in which order.

use std::time::Duration;

use cairn::transport::Faults;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A fault the cluster must absorb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// A member other than the coordinator cut off (transport and gossip)
    /// past the failure timeout, then healed: it must rejoin as a new
    /// incarnation.
    Partition,
    /// A member (maybe the coordinator) crashes; a new one starts at its
    /// address.
    CrashAndReplace,
    /// The coordinator cut off past the failure timeout: it must commit
    /// nothing while the others move on (fencing), then rejoin.
    IsolateCoordinator,
    /// A fourth member joins, then a member leaves gracefully.
    JoinThenLeave,
    /// A member other than the coordinator cut off until the others have
    /// moved on without it, then healed at once — before it finds that it
    /// lost the majority, so it usually comes back in the *same*
    /// incarnation, to peers that forgot it.
    ShortPartition,
    /// A member other than the coordinator whose gossip stops reaching the
    /// others, while it still gets their heartbeats and the transport stays
    /// up (an asymmetric partition): the others declare it dead and move
    /// on; it is healed once they have, and comes back in the same
    /// incarnation or a newer one, to peers whose transport forgot it.
    UnheardMember,
}

const FAULTS: [Fault; 6] = [
    Fault::Partition,
    Fault::CrashAndReplace,
    Fault::IsolateCoordinator,
    Fault::JoinThenLeave,
    Fault::ShortPartition,
    Fault::UnheardMember,
];

/// A seed's run: the network's frame faults throughout, and two
/// cluster-level faults (seeds 1 to 5 cover all six between them).
#[derive(Debug, Clone)]
pub(super) struct Schedule {
    /// Drops, duplicates and delays of every transport frame until the end.
    pub(super) network: Faults,
    /// The faults, in order.
    pub(super) faults: Vec<Fault>,
}

impl Schedule {
    /// The schedule of `seed`.
    pub(super) fn of(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let network = Faults {
            drop: rng.random_range(0.0..0.1),
            duplicate: rng.random_range(0.0..0.1),
            max_delay: Duration::from_micros(rng.random_range(0..5_000)),
        };
        let count = FAULTS.len() as u64;
        let first = FAULTS[(seed % count) as usize];
        let second = FAULTS[((seed + 1) % count) as usize];
        let faults = if rng.random_bool(0.5) {
            vec![first, second]
        } else {
            vec![second, first]
        };
        Self { network, faults }
    }
}
