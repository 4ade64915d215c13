//! Reading the shards from outside: their counters, the actors they hold
//! and how many of each function type.

use tokio::sync::oneshot;

use crate::address::{Address, FunctionType, ShardId};
use crate::error::{Error, Result};
use crate::shard::{
    listing_order, ActorSummary, ActorView, FunctionCount, Inbound, Inspection, ShardStats,
};

use super::Runtime;

impl Runtime {
    /// The counters of every shard that runs here, in shard order.
    pub async fn shard_stats(&self) -> Result<Vec<ShardStats>> {
        let mut answers = Vec::new();
        for shard in self.local_inboxes() {
            let (reply, answer) = oneshot::channel();
            shard
                .send(Inbound::Probe(reply))
                .map_err(|_| Error::ShuttingDown)?;
            answers.push(answer);
        }
        let mut stats = Vec::with_capacity(answers.len());
        for answer in answers {
            stats.push(answer.await.map_err(|_| Error::ShuttingDown)?);
        }
        Ok(stats)
    }

    /// The counters of one shard.
    pub async fn stats_of(&self, shard: ShardId) -> Result<ShardStats> {
        let sender = self.local_inbox(shard)?;
        let (reply, answer) = oneshot::channel();
        sender
            .send(Inbound::Probe(reply))
            .map_err(|_| Error::ShuttingDown)?;
        answer.await.map_err(|_| Error::ShuttingDown)
    }

    /// Up to `limit` actors, active or passivated, of every shard, in
    /// (function type, id) order, starting after `after` (the last address
    /// of the previous page), of `function` only if given.
    pub async fn list_actors(
        &self,
        function: Option<FunctionType>,
        after: Option<Address>,
        limit: usize,
    ) -> Result<Vec<ActorSummary>> {
        let mut answers = Vec::new();
        for shard in self.local_inboxes() {
            let (reply, answer) = oneshot::channel();
            let inspection = Inspection::ListActors {
                function,
                after: after.clone(),
                limit,
                reply,
            };
            shard
                .send(Inbound::Inspect(inspection))
                .map_err(|_| Error::ShuttingDown)?;
            answers.push(answer);
        }
        let mut actors = Vec::new();
        for answer in answers {
            actors.extend(answer.await.map_err(|_| Error::ShuttingDown)?);
        }
        actors.sort_by(|a, b| listing_order(&a.address).cmp(&listing_order(&b.address)));
        actors.truncate(limit);
        Ok(actors)
    }

    /// One actor as its shard holds it now: status, state as JSON, queued
    /// messages. Nothing is activated.
    pub async fn inspect_actor(&self, address: Address) -> Result<ActorView> {
        let shard = address.shard(self.inner.config.shard_count);
        let (reply, answer) = oneshot::channel();
        self.local_inbox(shard)?
            .send(Inbound::Inspect(Inspection::Actor { address, reply }))
            .map_err(|_| Error::ShuttingDown)?;
        answer.await.map_err(|_| Error::ShuttingDown)
    }

    /// Active and passivated actors per function type, over every shard.
    pub async fn function_counts(&self) -> Result<Vec<FunctionCount>> {
        let mut answers = Vec::new();
        for shard in self.local_inboxes() {
            let (reply, answer) = oneshot::channel();
            shard
                .send(Inbound::Inspect(Inspection::Functions { reply }))
                .map_err(|_| Error::ShuttingDown)?;
            answers.push(answer);
        }
        let mut totals: std::collections::BTreeMap<String, FunctionCount> = Default::default();
        for answer in answers {
            for count in answer.await.map_err(|_| Error::ShuttingDown)? {
                let total = totals
                    .entry(count.function.clone())
                    .or_insert_with(|| FunctionCount {
                        function: count.function.clone(),
                        active: 0,
                        passivated: 0,
                    });
                total.active += count.active;
                total.passivated += count.passivated;
            }
        }
        Ok(totals.into_values().collect())
    }
}
