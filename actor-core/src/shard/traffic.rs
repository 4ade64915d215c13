//! What a shard counts per function type: the messages its actors handled
//! and the messages their handlers sent (and, from the actor table, the
//! activations and passivations).
//!
//! The counters are plain integers in an array indexed by the registry's
//! function index, which each active actor carries in its slot: counting a
//! message costs one add, with no name or map lookup. The endpoint reads
//! them between turns, with the shard's other counters
//! ([`super::ShardStats`]).

use serde::Serialize;

use crate::address::FunctionType;

/// One function type's messages on one shard, since the shard started.
///
/// Over a shard, `messages_handled` is the sum of every type's `delivered`
/// plus the shard's dead letters: a message that reached no handler (its
/// type is not registered, its state failed to restore, or its actor takes
/// no such message) is a dead letter and is not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FunctionTraffic {
    /// The function type.
    pub function: FunctionType,
    /// Messages handled by actors of this type: their handler ran, whether
    /// it returned or panicked.
    pub delivered: u64,
    /// Messages those handlers sent to actors of any type: sends, timers
    /// (counted when set, so a cancelled one counts too) and replies that
    /// went to a calling actor as a message. Replies that complete an ask
    /// from outside are not messages and are not counted.
    pub sent: u64,
    /// Actors of this type activated on the shard.
    pub activations: u64,
    /// Actors of this type passivated on the shard.
    pub passivations: u64,
}

/// One shard's per-function counters.
#[derive(Debug)]
pub(crate) struct Traffic {
    /// Indexed by the registry's function index.
    counts: Box<[Counts]>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    delivered: u64,
    sent: u64,
}

impl Traffic {
    /// Zero counters for `functions` function types.
    pub(crate) fn new(functions: usize) -> Self {
        Self {
            counts: vec![Counts::default(); functions].into_boxed_slice(),
        }
    }

    /// Counts one message handled by an actor of function `index`, whose
    /// handler sent `sent` messages.
    #[inline]
    pub(crate) fn handled(&mut self, index: u32, sent: u64) {
        // The index comes from the registry the counters were sized for.
        if let Some(counts) = self.counts.get_mut(index as usize) {
            counts.delivered += 1;
            counts.sent += sent;
        }
    }

    /// The counters, one per function type; `types` is the registry's
    /// function types in index order, and `lifecycle` gives the
    /// activations and passivations of the type at an index.
    pub(crate) fn report(
        &self,
        types: &[FunctionType],
        lifecycle: impl Fn(usize) -> super::actors::Lifecycle,
    ) -> Vec<FunctionTraffic> {
        types
            .iter()
            .zip(self.counts.iter())
            .enumerate()
            .map(|(index, (function, counts))| {
                let lifecycle = lifecycle(index);
                FunctionTraffic {
                    function: *function,
                    delivered: counts.delivered,
                    sent: counts.sent,
                    activations: lifecycle.activations,
                    passivations: lifecycle.passivations,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: FunctionType = FunctionType::from_static("test/traffic-a");
    const B: FunctionType = FunctionType::from_static("test/traffic-b");

    #[test]
    fn counts_land_on_their_function_index() {
        let mut traffic = Traffic::new(2);
        traffic.handled(1, 3);
        traffic.handled(1, 0);
        traffic.handled(0, 1);
        // An index the registry never gave is ignored rather than a panic
        // on the shard's thread.
        traffic.handled(7, 5);
        let lifecycle = |index: usize| super::super::actors::Lifecycle {
            activations: index as u64 + 1,
            passivations: index as u64,
        };
        let report = traffic.report(&[A, B], lifecycle);
        assert_eq!(
            report,
            [
                FunctionTraffic {
                    function: A,
                    delivered: 1,
                    sent: 1,
                    activations: 1,
                    passivations: 0,
                },
                FunctionTraffic {
                    function: B,
                    delivered: 2,
                    sent: 3,
                    activations: 2,
                    passivations: 1,
                },
            ]
        );
    }
}
