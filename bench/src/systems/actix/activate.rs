//! Activation of many actix actors spread over both arbiters, one message each.

use std::{hint::black_box, sync::Arc, time::Instant};

use actix::{Actor, Context, Handler, Message};
use anyhow::Result;

use super::arbiters::run_in_system;
use crate::{completion::Completion, measurement::Sample, rss::RssProbe, workloads::TURN};

/// Keeps the last value it received.
struct Cell {
    value: u64,
    done: Arc<Completion>,
}

impl Actor for Cell {
    type Context = Context<Self>;
}

/// The one message each cell gets.
#[derive(Message)]
#[rtype(result = "()")]
struct Set(u64);

impl Handler<Set> for Cell {
    type Result = ();

    fn handle(&mut self, Set(value): Set, _ctx: &mut Context<Self>) {
        self.value = black_box(value);
        self.done.complete_one();
    }
}

/// Starts `actors` actors, alternating arbiters, sends each one value and
/// waits until all handled it.
pub(super) fn run(actors: u64) -> Result<Sample> {
    run_in_system(|arbiters| async move {
        let done = Completion::new(actors);
        let probe = RssProbe::start()?;
        let start = Instant::now();
        let mut handles = Vec::with_capacity(usize::try_from(actors)?);
        for i in 0..actors {
            let done = Arc::clone(&done);
            let arbiter = arbiters.get((i % 2) as usize);
            let actor = Cell::start_in_arbiter(arbiter, move |_| Cell { value: 0, done });
            actor.do_send(Set(i));
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
