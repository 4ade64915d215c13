//! Activation of many ractor actors, one message each.

use std::{hint::black_box, sync::Arc, time::Instant};

use anyhow::Result;
use ractor::{Actor, ActorProcessingErr, ActorRef};

use crate::{completion::Completion, measurement::Sample, rss::RssProbe, runtime, workloads::TURN};

/// Keeps the last value it received.
struct Cell {
    done: Arc<Completion>,
}

impl Actor for Cell {
    type Msg = u64;
    type State = u64;
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        _args: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        value: u64,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        *state = black_box(value);
        self.done.complete_one();
        Ok(())
    }
}

/// Spawns `actors` actors, casts each one value and waits until all handled it.
pub(super) fn run(actors: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let done = Completion::new(actors);
        let probe = RssProbe::start()?;
        let start = Instant::now();
        let mut handles = Vec::with_capacity(usize::try_from(actors)?);
        for i in 0..actors {
            let cell = Cell {
                done: Arc::clone(&done),
            };
            let (actor, _) = Actor::spawn(None, cell, ()).await?;
            actor.cast(i)?;
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
