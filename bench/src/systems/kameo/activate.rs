//! Activation of many kameo actors, one message each.

use std::{hint::black_box, sync::Arc, time::Instant};

use anyhow::{anyhow, Result};
use kameo::{
    actor::Spawn,
    mailbox,
    message::{Context, Message},
    Actor,
};

use crate::{completion::Completion, measurement::Sample, rss::RssProbe, runtime, workloads::TURN};

/// Keeps the last value it received.
#[derive(Actor)]
struct Cell {
    value: u64,
    done: Arc<Completion>,
}

/// The one message each cell gets.
struct Set(u64);

impl Message<Set> for Cell {
    type Reply = ();

    async fn handle(&mut self, Set(value): Set, _ctx: &mut Context<Self, Self::Reply>) {
        self.value = black_box(value);
        self.done.complete_one();
    }
}

/// Spawns `actors` actors, tells each one value and waits until all handled it.
pub(super) fn run(actors: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let done = Completion::new(actors);
        let probe = RssProbe::start()?;
        let start = Instant::now();
        let mut handles = Vec::with_capacity(usize::try_from(actors)?);
        for i in 0..actors {
            let cell = Cell {
                value: 0,
                done: Arc::clone(&done),
            };
            let actor = Cell::spawn_with_mailbox(cell, mailbox::unbounded());
            actor.tell(Set(i)).try_send().map_err(|e| anyhow!("{e}"))?;
            handles.push(actor);
            if (i + 1) % TURN == 0 {
                tokio::task::yield_now().await;
            }
        }
        done.wait().await?;
        let elapsed = start.elapsed();
        let memory = probe.finish(actors)?;
        drop(handles);
        Ok(Sample::throughput(actors, elapsed).with_memory(memory))
    })
}
