//! Ping-pong between two tasks over unbounded channels.

use std::{sync::Arc, time::Instant};

use anyhow::{anyhow, Result};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::{completion::Completion, measurement::Sample, runtime};

/// Passes a ball `messages` times between two tasks.
pub(super) fn run(messages: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let done = Completion::new(1);
        let (a_tx, a_rx) = unbounded_channel();
        let (b_tx, b_rx) = unbounded_channel();
        tokio::spawn(player(a_rx, b_tx, Arc::clone(&done)));
        tokio::spawn(player(b_rx, a_tx.clone(), Arc::clone(&done)));

        let start = Instant::now();
        a_tx.send(messages)
            .map_err(|_| anyhow!("player A is gone"))?;
        done.wait().await?;
        Ok(Sample::throughput(messages, start.elapsed()))
    })
}

/// Receives the ball carrying the tells still to go and passes it on.
async fn player(
    mut inbox: UnboundedReceiver<u64>,
    peer: UnboundedSender<u64>,
    done: Arc<Completion>,
) {
    while let Some(left) = inbox.recv().await {
        if left <= 1 {
            done.complete_one();
        } else if peer.send(left - 1).is_err() {
            return;
        }
    }
}
