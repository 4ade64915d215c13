//! Request/response over an unbounded channel plus a oneshot reply.

use anyhow::{anyhow, Context, Result};
use tokio::sync::{
    mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender},
    oneshot,
};

use crate::{
    measurement::Sample,
    runtime,
    workloads::ask::{measure, Asker},
};

/// A request and where its reply goes.
struct Request {
    value: u64,
    reply: oneshot::Sender<u64>,
}

/// Sends `asks` sequential requests to one echo task.
pub(super) fn run(asks: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let (tx, rx) = unbounded_channel();
        tokio::spawn(echo(rx));
        let run = measure(&mut Client { inbox: tx }, asks).await?;
        Ok(run.into_sample(asks))
    })
}

/// Answers every request with `value + 1`.
async fn echo(mut inbox: UnboundedReceiver<Request>) {
    while let Some(request) = inbox.recv().await {
        let _ = request.reply.send(request.value + 1);
    }
}

/// The driver's handle on the echo task.
struct Client {
    inbox: UnboundedSender<Request>,
}

impl Asker for Client {
    async fn ask(&mut self, value: u64) -> Result<u64> {
        let (reply, response) = oneshot::channel();
        self.inbox
            .send(Request { value, reply })
            .map_err(|_| anyhow!("the echo task is gone"))?;
        response.await.context("the echo task dropped the reply")
    }
}
