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

/// An activated actor.
pub(crate) struct ActorSlot {
    pub(crate) address: Address,
    pub(crate) state: Box<dyn ErasedActor>,
    /// The sweep tick of the last message handled.
    pub(crate) last_active: u32,
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
    /// Keyed by each address's own placement hash, so a lookup hashes nothing.
    active: HashTable<ActorSlot>,
    passivated: FxHashMap<Address, Vec<u8>>,
    /// Advances once per passivation sweep.
    pub(crate) tick: u32,
}

impl ActorTable {
    pub(crate) fn new(registry: Arc<Registry>) -> Self {
        Self {
            registry,
            active: HashTable::new(),
            passivated: FxHashMap::default(),
            tick: 0,
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
                let descriptor = self.registry.get(address.function()).ok_or_else(|| {
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
                let slot = ActorSlot {
                    address: address.clone(),
                    state,
                    last_active: tick,
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

    /// Passivates every actor idle for at least `idle_ticks` sweeps, keeping
    /// its state serialized. An actor whose state fails to serialize stays
    /// active (its state is never dropped). Returns how many were passivated.
    pub(crate) fn passivate_idle(&mut self, idle_ticks: u32) -> usize {
        let tick = self.tick;
        let passivated = &mut self.passivated;
        let before = self.active.len();
        self.active.retain(|slot| {
            if tick.wrapping_sub(slot.last_active) < idle_ticks {
                return true;
            }
            match slot.state.to_msgpack() {
                Ok(bytes) => {
                    passivated.insert(slot.address.clone(), bytes);
                    false
                }
                Err(error) => {
                    tracing::error!(actor = %slot.address, %error, "cannot serialize state; actor stays active");
                    true
                }
            }
        });
        before - self.active.len()
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
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::address::{FunctionType, ShardCount, ShardId};
    use crate::context::Context;
    use crate::function::{Access, Handlers, MessageType, StatefulFunction};
    use crate::message::Payload;
    use crate::shard::Effects;

    #[derive(Default, Serialize, Deserialize)]
    struct Tally {
        total: u64,
    }

    impl StatefulFunction for Tally {
        const TYPE_NAME: &'static str = "test/tally";
        const SCHEMA_HASH: u64 = 1;
    }

    impl Handlers for Tally {
        fn handle(&mut self, _ctx: &mut Context<'_>, message: Payload) -> Result<Access, Payload> {
            self.total += message.downcast::<u64>()?;
            Ok(Access::Write)
        }

        fn message_types() -> Vec<MessageType> {
            vec![MessageType::of::<u64>("u64")]
        }
    }

    fn table() -> ActorTable {
        let mut registry = Registry::new();
        registry.register::<Tally>().unwrap();
        ActorTable::new(Arc::new(registry))
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
