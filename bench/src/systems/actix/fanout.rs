//! Fanout to 1,000 actix actors spread over both arbiters.

use std::time::Instant;

use actix::{Actor, Context, Handler, Message};
use anyhow::Result;

use super::arbiters::run_in_system;
use crate::{
    measurement::Sample,
    workloads::fanout::{check_total, drive, RECEIVERS},
};

/// Folds every value it receives into its sum.
#[derive(Default)]
struct Receiver {
    sum: u64,
}

impl Actor for Receiver {
    type Context = Context<Self>;
}

/// Fold a value into the sum.
#[derive(Message)]
#[rtype(result = "()")]
struct Add(u64);

/// Reply with the sum.
#[derive(Message)]
#[rtype(result = "u64")]
struct Sum;

impl Handler<Add> for Receiver {
    type Result = ();

    fn handle(&mut self, Add(value): Add, _ctx: &mut Context<Self>) {
        self.sum = self.sum.wrapping_add(value);
    }
}

impl Handler<Sum> for Receiver {
    type Result = u64;

    fn handle(&mut self, _: Sum, _ctx: &mut Context<Self>) -> u64 {
        self.sum
    }
}

/// Sends `messages` values round-robin with `do_send`, then asks every
/// receiver for its sum.
pub(super) fn run(messages: u64) -> Result<Sample> {
    run_in_system(|arbiters| async move {
        let receivers: Vec<_> = (0..RECEIVERS)
            .map(|i| Receiver::start_in_arbiter(arbiters.get(i), |_| Receiver::default()))
            .collect();

        let start = Instant::now();
        drive(messages, |i, value| {
            receivers[i].do_send(Add(value));
            Ok(())
        })
        .await?;
        let mut total = 0u64;
        for receiver in &receivers {
            total = total.wrapping_add(receiver.send(Sum).await?);
        }
        check_total(messages, total)?;
        Ok(Sample::throughput(messages, start.elapsed()))
    })
}
