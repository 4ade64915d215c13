//! Request/response with actix's `send().await`.
//!
//! The echo actor is started the default way (`Actor::start`), on the
//! caller's arbiter, as the tokio-based peers' schedulers also mostly keep a
//! woken task on the waking worker. Across arbiters each ask pays two thread
//! wake-ups (several microseconds on this machine).

use actix::{Actor, Addr, Context, Handler, Message};
use anyhow::Result;

use super::arbiters::run_in_system;
use crate::{
    measurement::Sample,
    workloads::ask::{measure, Asker},
};

/// Answers every request with `value + 1`.
struct Echo;

impl Actor for Echo {
    type Context = Context<Self>;
}

/// A request.
#[derive(Message)]
#[rtype(result = "u64")]
struct Request(u64);

impl Handler<Request> for Echo {
    type Result = u64;

    fn handle(&mut self, Request(value): Request, _ctx: &mut Context<Self>) -> u64 {
        value + 1
    }
}

/// Asks one echo actor `asks` times in sequence.
pub(super) fn run(asks: u64) -> Result<Sample> {
    run_in_system(|_arbiters| async move {
        let echo = Echo.start();
        let run = measure(&mut Client(echo), asks).await?;
        Ok(run.into_sample(asks))
    })
}

/// The driver's handle on the echo actor.
struct Client(Addr<Echo>);

impl Asker for Client {
    async fn ask(&mut self, value: u64) -> Result<u64> {
        Ok(self.0.send(Request(value)).await?)
    }
}
