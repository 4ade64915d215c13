//! Activation of many tasks, one message each.

use std::{hint::black_box, sync::Arc, time::Instant};

use anyhow::{anyhow, Result};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use crate::{completion::Completion, measurement::Sample, rss::RssProbe, runtime, workloads::TURN};

/// Spawns `actors` tasks, sends each one value and waits until all handled it.
pub(super) fn run(actors: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let done = Completion::new(actors);
        let probe = RssProbe::start()?;
        let start = Instant::now();
        let mut handles = Vec::with_capacity(usize::try_from(actors)?);
        for i in 0..actors {
            let (tx, rx) = unbounded_channel();
            tokio::spawn(cell(rx, Arc::clone(&done)));
            tx.send(i).map_err(|_| anyhow!("cell {i} is gone"))?;
            handles.push(tx);
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

/// Keeps the last value it received.
async fn cell(mut inbox: UnboundedReceiver<u64>, done: Arc<Completion>) {
    let mut value = 0u64;
    while let Some(v) = inbox.recv().await {
        value = black_box(v);
        done.complete_one();
    }
    black_box(value);
}
