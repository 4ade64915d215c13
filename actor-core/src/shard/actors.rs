//! The actors of one shard: activation on the first message, passivation
//! when idle.
//!
//! Until snapshots exist, a passivated actor's state stays serialized in its
//! shard, so passivation frees the in-memory object and never loses state.

use std::sync::Arc;

use hashbrown::HashTable;
use rustc_hash::FxHashMap;

use crate::address::Address;
use crate::error::{CodecError, Error};
use crate::function::ErasedActor;
use crate::registry::Registry;
use crate::shard::inspect::ActorStatus;
use crate::snapshot::{Epoch, StoredActor};

/// An activated actor.
pub(crate) struct ActorSlot {
    pub(crate) address: Address,
    pub(crate) state: Box<dyn ErasedActor>,
    /// Its function type's index in the registry, where the shard counts
    /// the type's messages.
    pub(crate) function: u32,
    /// The sweep tick of the last message handled.
    pub(crate) last_active: u32,
    /// Bumped by every handler that may have changed the state
    /// (SNAPSHOTS §3.10); wraps.
    version: u32,
    /// The version the last snapshot captured.
    captured: u32,
    /// The version the last *committed* snapshot captured: the actor is
    /// clean, and may be passivated, only when this equals `version`.
    committed: u32,
}

impl ActorSlot {
    fn is_clean(&self) -> bool {
        self.version == self.committed
    }

    /// Records that a handler may have changed the state. Returns whether
    /// the actor just became dirty, that is, must now be listed for the
    /// next capture.
    pub(crate) fn note_write(&mut self) -> bool {
        let was_captured = self.version == self.captured;
        self.version = self.version.wrapping_add(1);
        was_captured
    }
}

/// Why an actor could not be activated.
#[derive(Debug)]
pub(crate) enum ActivationError {
    UnknownFunctionType(Error),
    Restore(CodecError),
}

/// The activated and passivated actors of one shard.
pub(crate) struct ActorTable {
    registry: Arc<Registry>,
    /// Whether snapshots run. Without them there is nothing to commit, and
    /// every actor counts as clean.
    snapshots: bool,
    /// Actors written since the last capture, each listed once, so a
    /// capture costs O(dirty set), not O(actors).
    dirty: Vec<Address>,
    /// What each open epoch captured, `(epoch, actor, version)`, until it
    /// commits or aborts.
    captures: Vec<(Epoch, Address, u32)>,
    /// Keyed by each address's own placement hash, so a lookup hashes nothing.
    active: HashTable<ActorSlot>,
    passivated: FxHashMap<Address, Vec<u8>>,
    /// Advances once per passivation sweep.
    pub(crate) tick: u32,
    /// Actors activated since the shard started.
    pub(crate) activations: u64,
    /// Actors passivated since the shard started.
    pub(crate) passivations: u64,
    /// Activations and passivations per function type, by the registry's
    /// function index.
    lifecycle: Box<[Lifecycle]>,
}

/// One function type's activations and passivations on a shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Lifecycle {
    pub(crate) activations: u64,
    pub(crate) passivations: u64,
}

impl ActorTable {
    pub(crate) fn new(registry: Arc<Registry>, snapshots: bool) -> Self {
        let lifecycle = vec![Lifecycle::default(); registry.function_types().len()];
        Self {
            lifecycle: lifecycle.into_boxed_slice(),
            registry,
            snapshots,
            dirty: Vec::new(),
            captures: Vec::new(),
            active: HashTable::new(),
            passivated: FxHashMap::default(),
            tick: 0,
            activations: 0,
            passivations: 0,
        }
    }

    /// The activated actor at `address`, activating it if needed: from its
    /// passivated state if it has one, else from `Default`. Marks it active
    /// in the current sweep tick.
    pub(crate) fn activate(
        &mut self,
        address: &Address,
    ) -> Result<&mut ActorSlot, ActivationError> {
        let hash = address.placement_hash();
        let tick = self.tick;
        let slot = match self
            .active
            .find_entry(hash, |slot| slot.address == *address)
        {
            Ok(found) => found.into_mut(),
            Err(absent) => {
                let (function, descriptor) =
                    self.registry.indexed(address.function()).ok_or_else(|| {
                        ActivationError::UnknownFunctionType(Error::UnknownFunctionType(
                            address.function().name().to_owned(),
                        ))
                    })?;
                let state = match self.passivated.get(address) {
                    Some(bytes) => descriptor
                        .restore(bytes)
                        .map_err(ActivationError::Restore)?,
                    None => descriptor.create(),
                };
                self.passivated.remove(address);
                self.activations += 1;
                if let Some(lifecycle) = self.lifecycle.get_mut(function) {
                    lifecycle.activations += 1;
                }
                let slot = ActorSlot {
                    address: address.clone(),
                    state,
                    function: function as u32,
                    last_active: tick,
                    version: 0,
                    captured: 0,
                    committed: 0,
                };
                absent
                    .into_table()
                    .insert_unique(hash, slot, |slot| slot.address.placement_hash())
                    .into_mut()
            }
        };
        slot.last_active = tick;
        Ok(slot)
    }

    /// Whether snapshots run, so writes must be tracked.
    pub(crate) fn tracks_writes(&self) -> bool {
        self.snapshots
    }

    /// Lists an actor that just became dirty (see [`ActorSlot::note_write`]).
    pub(crate) fn push_dirty(&mut self, address: Address) {
        self.dirty.push(address);
    }

    fn find(&mut self, address: &Address) -> Option<&mut ActorSlot> {
        self.active
            .find_mut(address.placement_hash(), |slot| slot.address == *address)
    }

    /// Encodes every actor written since the last capture, for snapshot
    /// `epoch` — or, for a full part, every actor the shard holds, active or
    /// passivated. An actor whose state fails to encode is reported and
    /// stays dirty, so the next epoch tries again.
    pub(crate) fn capture(&mut self, epoch: Epoch, full: bool) -> Vec<StoredActor> {
        if full {
            // Every active actor counts as written; passivated ones are
            // clean and go as their stored bytes.
            for slot in self.active.iter_mut() {
                if slot.version == slot.captured {
                    self.dirty.push(slot.address.clone());
                    slot.version = slot.version.wrapping_add(1);
                }
            }
        }
        let mut stored = Vec::with_capacity(self.dirty.len());
        if full {
            stored.extend(self.passivated.iter().map(|(address, state)| StoredActor {
                address: address.clone(),
                state: state.clone(),
            }));
        }
        for address in std::mem::take(&mut self.dirty) {
            let Some(slot) = self
                .active
                .find_mut(address.placement_hash(), |slot| slot.address == address)
            else {
                continue;
            };
            match slot.state.to_msgpack() {
                Ok(state) => {
                    slot.captured = slot.version;
                    self.captures.push((epoch, address.clone(), slot.version));
                    stored.push(StoredActor { address, state });
                }
                Err(error) => {
                    tracing::error!(actor = %address, %error, "cannot encode state; it stays out of this snapshot");
                    self.dirty.push(address);
                }
            }
        }
        stored
    }

    /// Snapshot `epoch` committed: what it captured is now the committed state.
    pub(crate) fn committed(&mut self, epoch: Epoch) {
        let (done, open): (Vec<_>, Vec<_>) = std::mem::take(&mut self.captures)
            .into_iter()
            .partition(|(captured_in, _, _)| *captured_in <= epoch);
        self.captures = open;
        for (_, address, version) in done {
            if let Some(slot) = self.find(&address) {
                slot.committed = version;
            }
        }
    }

    /// Snapshot `epoch` will never commit: what it captured must be captured
    /// again by the next one.
    pub(crate) fn aborted(&mut self, epoch: Epoch) {
        let (lost, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.captures)
            .into_iter()
            .partition(|(captured_in, _, _)| *captured_in == epoch);
        self.captures = kept;
        for (_, address, _) in lost {
            if let Some(slot) = self.find(&address) {
                if slot.version == slot.captured {
                    slot.captured = slot.committed;
                    self.dirty.push(address);
                }
            }
        }
    }

    /// Restores actors from a snapshot: each becomes passivated, decoded on
    /// its first message (lazy activation).
    pub(crate) fn restore(&mut self, actors: Vec<StoredActor>) {
        for actor in actors {
            self.passivated.insert(actor.address, actor.state);
        }
    }

    /// Passivates every clean actor idle for at least `idle_ticks` sweeps,
    /// keeping its state serialized. A dirty actor (written since the last
    /// committed snapshot) is never evicted (SNAPSHOTS §3.10 rule 34), and
    /// an actor whose state fails to serialize stays active: state is never
    /// dropped. Returns how many were passivated.
    pub(crate) fn passivate_idle(&mut self, idle_ticks: u32) -> usize {
        self.passivate(|age| age >= idle_ticks, usize::MAX)
    }

    /// Passivates the least recently active clean actors until at most
    /// `max` are active, or no clean one is left (dirty actors are never
    /// evicted). Returns how many were passivated.
    pub(crate) fn passivate_down_to(&mut self, max: usize) -> usize {
        let excess = self.active.len().saturating_sub(max);
        if excess == 0 {
            return 0;
        }
        let tick = self.tick;
        let snapshots = self.snapshots;
        let mut ages: Vec<u32> = self
            .active
            .iter()
            .filter(|slot| !snapshots || slot.is_clean())
            .map(|slot| tick.wrapping_sub(slot.last_active))
            .collect();
        if ages.is_empty() {
            return 0;
        }
        let nth = excess.min(ages.len()) - 1;
        let (_, &mut oldest_kept, _) = ages.select_nth_unstable_by(nth, |a, b| b.cmp(a));
        self.passivate(|age| age >= oldest_kept, excess)
    }

    /// Passivates up to `limit` clean actors whose age in sweep ticks
    /// passes `evict`.
    fn passivate(&mut self, evict: impl Fn(u32) -> bool, limit: usize) -> usize {
        let tick = self.tick;
        let snapshots = self.snapshots;
        let passivated = &mut self.passivated;
        let lifecycle = &mut self.lifecycle;
        let before = self.active.len();
        let mut left = limit;
        self.active.retain(|slot| {
            if left == 0 || !evict(tick.wrapping_sub(slot.last_active)) {
                return true;
            }
            if snapshots && !slot.is_clean() {
                return true;
            }
            match slot.state.to_msgpack() {
                Ok(bytes) => {
                    passivated.insert(slot.address.clone(), bytes);
                    if let Some(lifecycle) = lifecycle.get_mut(slot.function as usize) {
                        lifecycle.passivations += 1;
                    }
                    left -= 1;
                    false
                }
                Err(error) => {
                    tracing::error!(actor = %slot.address, %error, "cannot serialize state; actor stays active");
                    true
                }
            }
        });
        let passivated = before - self.active.len();
        self.passivations += passivated as u64;
        passivated
    }

    /// Activations and passivations of function `index` since the shard
    /// started.
    pub(crate) fn lifecycle(&self, index: usize) -> Lifecycle {
        self.lifecycle.get(index).copied().unwrap_or_default()
    }

    /// The activated actors, in no order.
    pub(crate) fn active(&self) -> impl Iterator<Item = &ActorSlot> {
        self.active.iter()
    }

    /// The passivated actors' addresses, in no order.
    pub(crate) fn passivated(&self) -> impl Iterator<Item = &Address> {
        self.passivated.keys()
    }

    /// An actor's state as JSON and whether it is active or passivated,
    /// without activating it; `None` if the shard holds nothing for it.
    pub(crate) fn state_json(
        &self,
        address: &Address,
    ) -> Option<(ActorStatus, Result<serde_json::Value, CodecError>)> {
        if let Some(slot) = self
            .active
            .find(address.placement_hash(), |slot| slot.address == *address)
        {
            return Some((ActorStatus::Active, slot.state.to_json()));
        }
        let bytes = self.passivated.get(address)?;
        let state = match self.registry.get(address.function()) {
            Some(descriptor) => descriptor.restore(bytes).and_then(|state| state.to_json()),
            None => Err(CodecError::Decode(format!(
                "no function `{}` is registered",
                address.function()
            ))),
        };
        Some((ActorStatus::Passivated, state))
    }

    pub(crate) fn active_len(&self) -> usize {
        self.active.len()
    }

    pub(crate) fn passivated_len(&self) -> usize {
        self.passivated.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::{FunctionType, ShardCount, ShardId};
    use crate::context::Context;
    use crate::function::StatefulFunction;
    use crate::message::Payload;
    use crate::shard::Effects;
    use crate::test_support::Tally;

    fn table() -> ActorTable {
        let mut registry = Registry::new();
        registry.register::<Tally>().unwrap();
        ActorTable::new(Arc::new(registry), false)
    }

    fn total(table: &mut ActorTable, address: &Address) -> u64 {
        let bytes = table
            .activate(address)
            .ok()
            .unwrap()
            .state
            .to_msgpack()
            .unwrap();
        rmp_serde::from_slice::<Tally>(&bytes).unwrap().total
    }

    /// Runs the real handler through a context, as a shard would.
    fn bump(table: &mut ActorTable, address: &Address, by: u64) {
        let mut effects = Effects::new(ShardId(0), ShardCount::new(1).unwrap(), Arc::from(vec![]));
        let slot = table.activate(address).ok().unwrap();
        let mut ctx = Context::new(address, None, None, &mut effects);
        slot.state.handle(&mut ctx, Payload::new(by)).unwrap();
    }

    #[test]
    fn idle_actors_passivate_and_come_back_with_their_state() {
        let mut table = table();
        let a = Address::new(Tally::FUNCTION_TYPE, "a");
        let b = Address::new(Tally::FUNCTION_TYPE, "b");
        bump(&mut table, &a, 5);
        table.tick += 2;
        bump(&mut table, &b, 7);
        table.tick += 2;
        // a was last active 4 ticks ago, b 2 ticks ago.
        assert_eq!(table.passivate_idle(4), 1);
        assert_eq!((table.active_len(), table.passivated_len()), (1, 1));
        assert_eq!(
            total(&mut table, &a),
            5,
            "restored from its passivated state"
        );
        assert_eq!((table.active_len(), table.passivated_len()), (2, 0));
        assert_eq!(total(&mut table, &b), 7);
    }

    /// Like `bump`, and records the write the way the shard does.
    fn write(table: &mut ActorTable, address: &Address, by: u64) {
        bump(table, address, by);
        let slot = table.find(address).unwrap();
        if slot.note_write() {
            table.push_dirty(address.clone());
        }
    }

    #[test]
    fn dirty_actors_are_never_evicted_until_their_state_commits() {
        let mut registry = Registry::new();
        registry.register::<Tally>().unwrap();
        let mut table = ActorTable::new(Arc::new(registry), true);
        let a = Address::new(Tally::FUNCTION_TYPE, "a");
        write(&mut table, &a, 5);
        table.tick += 10;
        assert_eq!(table.passivate_idle(4), 0, "written, never captured");

        let captured = table.capture(1, false);
        assert_eq!(captured.len(), 1);
        assert_eq!(table.passivate_idle(4), 0, "captured, not yet committed");
        assert!(
            table.capture(2, false).is_empty(),
            "captured once per write"
        );

        table.aborted(1);
        assert_eq!(
            table.capture(3, false).len(),
            1,
            "an aborted capture is taken again"
        );
        table.committed(3);
        assert_eq!(table.passivate_idle(4), 1, "clean once its epoch commits");
        assert_eq!(total(&mut table, &a), 5);
    }

    #[test]
    fn a_bound_evicts_the_least_recently_active_clean_actors_only() {
        let mut registry = Registry::new();
        registry.register::<Tally>().unwrap();
        let mut table = ActorTable::new(Arc::new(registry), true);
        let addresses: Vec<_> = (0..6)
            .map(|i| Address::new(Tally::FUNCTION_TYPE, i.to_string()))
            .collect();
        for (i, address) in addresses.iter().enumerate() {
            write(&mut table, address, i as u64);
            table.tick += 1;
        }
        assert_eq!(table.passivate_down_to(2), 0, "every actor is dirty");
        table.capture(1, false);
        table.committed(1);
        // 5 is written again after the commit: dirty, and the most recent.
        write(&mut table, &addresses[5], 1);
        assert_eq!(table.passivate_down_to(2), 4);
        let active: Vec<_> = table.active().map(|slot| slot.address.clone()).collect();
        assert_eq!(active.len(), 2);
        assert!(active.contains(&addresses[5]) && active.contains(&addresses[4]));
        assert_eq!(table.passivate_down_to(0), 1, "only the clean one goes");
        assert_eq!(total(&mut table, &addresses[0]), 0);
        assert_eq!(total(&mut table, &addresses[3]), 3);
    }

    /// One step of the incremental-snapshot model test.
    #[derive(Debug, Clone)]
    enum Step {
        /// A handler adds `by` to actor `actor`.
        Write { actor: u8, by: u8 },
        /// An epoch records, full or incremental (at most one is open).
        Capture { full: bool },
        /// The open epoch commits or aborts.
        Resolve { commit: bool },
        /// Time passes and idle clean actors are passivated.
        Passivate,
    }

    fn any_step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            6 => (0u8..8, 1u8..10).prop_map(|(actor, by)| Step::Write { actor, by }),
            2 => prop::bool::weighted(0.2).prop_map(|full| Step::Capture { full }),
            2 => prop::bool::weighted(0.8).prop_map(|commit| Step::Resolve { commit }),
            1 => Just(Step::Passivate),
        ]
    }

    /// An epoch recorded and not yet resolved: its number, whether full,
    /// what it captured, and every actor's total at its cut.
    type OpenEpoch = (
        Epoch,
        bool,
        Vec<StoredActor>,
        std::collections::BTreeMap<u8, u64>,
    );

    fn part(epoch: Epoch, full: bool, actors: Vec<StoredActor>) -> crate::snapshot::ShardSnapshot {
        crate::snapshot::ShardSnapshot {
            full,
            actors,
            ..crate::test_support::empty_part(epoch)
        }
    }

    proptest::proptest! {
        /// SNAPSHOTS §5 invariant 10: after every commit, the chain of
        /// committed parts (bases and deltas, aborted epochs left out)
        /// folds to exactly the state every actor had at that epoch's cut,
        /// whatever interleaving of writes, aborts, full epochs and
        /// passivation came before.
        #[test]
        fn the_folded_chain_equals_the_state_at_each_committed_cut(
            steps in proptest::collection::vec(any_step(), 1..120)
        ) {
            let mut registry = Registry::new();
            registry.register::<Tally>().unwrap();
            let mut table = ActorTable::new(Arc::new(registry), true);
            let mut model: std::collections::BTreeMap<u8, u64> = Default::default();
            let mut chain = Vec::new();
            let mut open: Option<OpenEpoch> = None;
            let mut epoch = 0;
            for step in steps {
                match step {
                    Step::Write { actor, by } => {
                        let address = Address::new(Tally::FUNCTION_TYPE, actor.to_string());
                        write(&mut table, &address, u64::from(by));
                        *model.entry(actor).or_default() += u64::from(by);
                    }
                    Step::Capture { full } if open.is_none() => {
                        epoch += 1;
                        let actors = table.capture(epoch, full);
                        open = Some((epoch, full, actors, model.clone()));
                    }
                    Step::Capture { .. } => {}
                    Step::Resolve { commit } => {
                        let Some((epoch, full, actors, at_cut)) = open.take() else {
                            continue;
                        };
                        if !commit {
                            table.aborted(epoch);
                            continue;
                        }
                        chain.push(part(epoch, full, actors));
                        table.committed(epoch);
                        let folded = crate::snapshot::ShardSnapshot::fold(chain.clone()).unwrap();
                        let restored: std::collections::BTreeMap<u8, u64> = folded
                            .actors
                            .iter()
                            .map(|actor| {
                                let id: u8 = actor.address.id().as_str().parse().unwrap();
                                let tally: Tally = rmp_serde::from_slice(&actor.state).unwrap();
                                (id, tally.total)
                            })
                            .collect();
                        proptest::prop_assert_eq!(restored, at_cut, "after committing epoch {}", epoch);
                    }
                    Step::Passivate => {
                        table.tick += 4;
                        table.passivate_idle(2);
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_function_types_do_not_activate() {
        let mut table = table();
        let nowhere = Address::new(FunctionType::from_static("test/nowhere"), "x");
        assert!(matches!(
            table.activate(&nowhere),
            Err(ActivationError::UnknownFunctionType(_))
        ));
        assert_eq!(table.active_len(), 0);
    }

    #[test]
    fn corrupt_passivated_state_is_kept_and_reported() {
        let mut table = table();
        let a = Address::new(Tally::FUNCTION_TYPE, "a");
        table.passivated.insert(a.clone(), vec![0xc1]);
        assert!(matches!(
            table.activate(&a),
            Err(ActivationError::Restore(_))
        ));
        assert_eq!(table.passivated_len(), 1, "the bytes are not thrown away");
    }
}
