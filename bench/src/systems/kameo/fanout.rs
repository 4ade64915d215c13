//! Fanout to 1,000 kameo actors.

use std::time::Instant;

use anyhow::{anyhow, Result};
use kameo::{
    actor::Spawn,
    mailbox,
    message::{Context, Message},
    Actor,
};

use crate::{
    measurement::Sample,
    runtime,
    workloads::fanout::{check_total, drive, RECEIVERS},
};

/// Folds every value it receives into its sum.
#[derive(Actor, Default)]
struct Receiver {
    sum: u64,
}

/// Fold a value into the sum.
struct Add(u64);

/// Reply with the sum.
struct Sum;

impl Message<Add> for Receiver {
    type Reply = ();

    async fn handle(&mut self, Add(value): Add, _ctx: &mut Context<Self, Self::Reply>) {
        self.sum = self.sum.wrapping_add(value);
    }
}

impl Message<Sum> for Receiver {
    type Reply = u64;

    async fn handle(&mut self, _: Sum, _ctx: &mut Context<Self, Self::Reply>) -> u64 {
        self.sum
    }
}

/// Tells `messages` values round-robin, then asks every receiver for its sum.
pub(super) fn run(messages: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let receivers: Vec<_> = (0..RECEIVERS)
            .map(|_| Receiver::spawn_with_mailbox(Receiver::default(), mailbox::unbounded()))
            .collect();

        let start = Instant::now();
        drive(messages, |i, value| {
            receivers[i]
                .tell(Add(value))
                .try_send()
                .map_err(|e| anyhow!("{e}"))
        })
        .await?;
        let mut total = 0u64;
        for receiver in &receivers {
            let sum = receiver.ask(Sum).send().await.map_err(|e| anyhow!("{e}"))?;
            total = total.wrapping_add(sum);
        }
        check_total(messages, total)?;
        let elapsed = start.elapsed();
        for receiver in &receivers {
            receiver.kill();
        }
        Ok(Sample::throughput(messages, elapsed))
    })
}
