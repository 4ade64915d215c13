//! Request/response with kameo's `ask`.

use anyhow::{anyhow, Result};
use kameo::{
    actor::{ActorRef, Spawn},
    mailbox,
    message::{Context, Message},
    Actor,
};

use crate::{
    measurement::Sample,
    runtime,
    workloads::ask::{measure, Asker},
};

/// Answers every request with `value + 1`.
#[derive(Actor)]
struct Echo;

/// A request.
struct Request(u64);

impl Message<Request> for Echo {
    type Reply = u64;

    async fn handle(&mut self, Request(value): Request, _ctx: &mut Context<Self, u64>) -> u64 {
        value + 1
    }
}

/// Asks one echo actor `asks` times in sequence.
pub(super) fn run(asks: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let echo = Echo::spawn_with_mailbox(Echo, mailbox::unbounded());
        let run = measure(&mut Client(echo.clone()), asks).await?;
        echo.kill();
        Ok(run.into_sample(asks))
    })
}

/// The driver's handle on the echo actor.
struct Client(ActorRef<Echo>);

impl Asker for Client {
    async fn ask(&mut self, value: u64) -> Result<u64> {
        self.0
            .ask(Request(value))
            .send()
            .await
            .map_err(|e| anyhow!("{e}"))
    }
}
