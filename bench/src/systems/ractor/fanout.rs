//! Fanout to 1,000 ractor actors.

use std::time::Instant;

use anyhow::{anyhow, Result};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::{
    measurement::Sample,
    runtime,
    workloads::fanout::{check_total, drive, RECEIVERS},
};

/// A receiver's messages.
enum ReceiverMsg {
    /// Fold a value into the sum.
    Add(u64),
    /// Reply with the sum.
    Sum(RpcReplyPort<u64>),
}

/// Folds every value it receives into its sum.
struct Receiver;

impl Actor for Receiver {
    type Msg = ReceiverMsg;
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
        message: Self::Msg,
        sum: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ReceiverMsg::Add(value) => *sum = sum.wrapping_add(value),
            ReceiverMsg::Sum(reply) => reply.send(*sum)?,
        }
        Ok(())
    }
}

/// Casts `messages` values round-robin, then calls every receiver for its sum.
pub(super) fn run(messages: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let mut receivers = Vec::with_capacity(RECEIVERS);
        for _ in 0..RECEIVERS {
            receivers.push(Actor::spawn(None, Receiver, ()).await?.0);
        }

        let start = Instant::now();
        drive(messages, |i, value| {
            receivers[i].cast(ReceiverMsg::Add(value))?;
            Ok(())
        })
        .await?;
        let mut total = 0u64;
        for receiver in &receivers {
            let sum = receiver
                .call(ReceiverMsg::Sum, None)
                .await?
                .success_or(anyhow!("a receiver dropped its reply"))?;
            total = total.wrapping_add(sum);
        }
        check_total(messages, total)?;
        let elapsed = start.elapsed();
        for receiver in &receivers {
            receiver.stop(None);
        }
        Ok(Sample::throughput(messages, elapsed))
    })
}
