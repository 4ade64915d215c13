//! Read-only views of a shard for operators: which actors it holds, one
//! actor's state and queue, counts per function type. Answered between
//! turns; nothing is activated or changed.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::oneshot;

use super::Shard;
use crate::address::{Address, FunctionType, ShardId};

/// A question to a shard, with where its answer goes.
#[derive(Debug)]
pub(crate) enum Inspection {
    /// Up to `limit` actors after `after` in (function, id) order, of
    /// `function` only if given.
    ListActors {
        function: Option<FunctionType>,
        after: Option<Address>,
        limit: usize,
        reply: oneshot::Sender<Vec<ActorSummary>>,
    },
    /// One actor's view.
    Actor {
        address: Address,
        reply: oneshot::Sender<ActorView>,
    },
    /// Active and passivated actors per function type.
    Functions {
        reply: oneshot::Sender<Vec<FunctionCount>>,
    },
}

/// Whether an actor is in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorStatus {
    /// In memory.
    Active,
    /// Its state is kept serialized; it activates on its next message.
    Passivated,
    /// The shard holds nothing for it (it never got a message, or its state
    /// lives only in the store).
    Absent,
}

/// One actor in a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActorSummary {
    /// The actor.
    pub address: Address,
    /// Its shard.
    pub shard: ShardId,
    /// Active or passivated.
    pub status: ActorStatus,
    /// Messages queued for it in its shard.
    pub queued_messages: usize,
    /// About how long since its last message (to the shard's sweep
    /// granularity); `None` for a passivated actor.
    pub idle_for: Option<Duration>,
}

/// One actor as its shard sees it now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActorView {
    /// The actor.
    pub address: Address,
    /// Its shard.
    pub shard: ShardId,
    /// Active, passivated or absent.
    pub status: ActorStatus,
    /// Its state as JSON (`None` when absent, or when it cannot be decoded,
    /// see `error`).
    pub state: Option<serde_json::Value>,
    /// Why the state could not be shown, if it could not.
    pub error: Option<String>,
    /// Messages queued for it in its shard.
    pub queued_messages: usize,
}

/// Actors of one function type on one shard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FunctionCount {
    /// The function type's name.
    pub function: String,
    /// Actors in memory.
    pub active: usize,
    /// Actors passivated.
    pub passivated: usize,
}

impl Shard {
    pub(super) fn inspect(&self, inspection: Inspection) {
        match inspection {
            Inspection::ListActors {
                function,
                after,
                limit,
                reply,
            } => {
                let _ = reply.send(self.list_actors(function, after.as_ref(), limit));
            }
            Inspection::Actor { address, reply } => {
                let _ = reply.send(self.view_actor(address));
            }
            Inspection::Functions { reply } => {
                let _ = reply.send(self.function_counts());
            }
        }
    }

    fn queued_per_actor(&self) -> HashMap<&Address, usize> {
        let mut queued = HashMap::new();
        for envelope in &self.effects.local {
            *queued.entry(&envelope.to).or_default() += 1;
        }
        queued
    }

    fn list_actors(
        &self,
        function: Option<FunctionType>,
        after: Option<&Address>,
        limit: usize,
    ) -> Vec<ActorSummary> {
        let queued = self.queued_per_actor();
        let sweep = super::sweep_interval(self.settings.idle_timeout);
        let tick = self.actors.tick;
        let active = self.actors.active().map(|slot| {
            let idle = sweep * tick.wrapping_sub(slot.last_active);
            (&slot.address, ActorStatus::Active, Some(idle))
        });
        let passivated = self
            .actors
            .passivated()
            .map(|address| (address, ActorStatus::Passivated, None));
        let mut found: Vec<_> = active
            .chain(passivated)
            .filter(|(address, _, _)| function.is_none_or(|f| address.function() == f))
            .filter(|(address, _, _)| after.is_none_or(|after| order(address) > order(after)))
            .collect();
        found.sort_by(|(a, _, _), (b, _, _)| order(a).cmp(&order(b)));
        found
            .into_iter()
            .take(limit)
            .map(|(address, status, idle_for)| ActorSummary {
                address: address.clone(),
                shard: self.id,
                status,
                queued_messages: queued.get(address).copied().unwrap_or(0),
                idle_for,
            })
            .collect()
    }

    fn view_actor(&self, address: Address) -> ActorView {
        let queued_messages = self.queued_per_actor().get(&address).copied().unwrap_or(0);
        let (status, state) = match self.actors.state_json(&address) {
            Some((status, state)) => (status, Some(state)),
            None => (ActorStatus::Absent, None),
        };
        let (state, error) = match state {
            Some(Ok(state)) => (Some(state), None),
            Some(Err(error)) => (None, Some(error.to_string())),
            None => (None, None),
        };
        ActorView {
            address,
            shard: self.id,
            status,
            state,
            error,
            queued_messages,
        }
    }

    fn function_counts(&self) -> Vec<FunctionCount> {
        let mut counts: HashMap<&'static str, (usize, usize)> = HashMap::new();
        for slot in self.actors.active() {
            counts.entry(slot.address.function().name()).or_default().0 += 1;
        }
        for address in self.actors.passivated() {
            counts.entry(address.function().name()).or_default().1 += 1;
        }
        let mut counts: Vec<_> = counts
            .into_iter()
            .map(|(function, (active, passivated))| FunctionCount {
                function: function.to_owned(),
                active,
                passivated,
            })
            .collect();
        counts.sort_by(|a, b| a.function.cmp(&b.function));
        counts
    }
}

/// The listing order: function type name, then id.
pub(crate) fn order(address: &Address) -> (&'static str, &str) {
    (address.function().name(), address.id().as_str())
}
