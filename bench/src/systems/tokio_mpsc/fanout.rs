//! Fanout to 1,000 tasks, one unbounded channel each.

use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use tokio::sync::{
    mpsc::{unbounded_channel, UnboundedReceiver},
    oneshot,
};

use crate::{
    measurement::Sample,
    runtime,
    workloads::fanout::{check_total, drive, RECEIVERS},
};

/// What a receiver task handles.
enum Command {
    /// Fold a value into the sum.
    Add(u64),
    /// Reply with the sum.
    Sum(oneshot::Sender<u64>),
}

/// Sends `messages` values round-robin, then flushes and checks the sums.
pub(super) fn run(messages: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let inboxes: Vec<_> = (0..RECEIVERS)
            .map(|_| {
                let (tx, rx) = unbounded_channel();
                tokio::spawn(receiver(rx));
                tx
            })
            .collect();

        let start = Instant::now();
        drive(messages, |i, value| {
            inboxes[i]
                .send(Command::Add(value))
                .map_err(|_| anyhow!("receiver {i} is gone"))
        })
        .await?;
        let mut total = 0u64;
        for inbox in &inboxes {
            let (tx, rx) = oneshot::channel();
            inbox
                .send(Command::Sum(tx))
                .map_err(|_| anyhow!("a receiver is gone"))?;
            total = total.wrapping_add(rx.await.context("a receiver dropped its reply")?);
        }
        check_total(messages, total)?;
        Ok(Sample::throughput(messages, start.elapsed()))
    })
}

/// Folds every value it receives into its sum.
async fn receiver(mut inbox: UnboundedReceiver<Command>) {
    let mut sum = 0u64;
    while let Some(command) = inbox.recv().await {
        match command {
            Command::Add(value) => sum = sum.wrapping_add(value),
            Command::Sum(reply) => {
                let _ = reply.send(sum);
            }
        }
    }
}
