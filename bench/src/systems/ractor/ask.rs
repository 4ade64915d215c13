//! Request/response with ractor's `call`.

use anyhow::{anyhow, Result};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::{
    measurement::Sample,
    runtime,
    workloads::ask::{measure, Asker},
};

/// A request and where its reply goes.
struct Request {
    value: u64,
    reply: RpcReplyPort<u64>,
}

/// Answers every request with `value + 1`.
struct Echo;

impl Actor for Echo {
    type Msg = Request;
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        _args: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        request: Request,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        request.reply.send(request.value + 1)?;
        Ok(())
    }
}

/// Calls one echo actor `asks` times in sequence.
pub(super) fn run(asks: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let (echo, _) = Actor::spawn(None, Echo, ()).await?;
        let run = measure(&mut Client(echo.clone()), asks).await?;
        echo.stop(None);
        Ok(run.into_sample(asks))
    })
}

/// The driver's handle on the echo actor.
struct Client(ActorRef<Request>);

impl Asker for Client {
    async fn ask(&mut self, value: u64) -> Result<u64> {
        self.0
            .call(|reply| Request { value, reply }, None)
            .await?
            .success_or(anyhow!("the echo actor dropped the reply"))
    }
}
