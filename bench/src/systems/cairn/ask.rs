//! Sequential asks from outside to one echo actor.

use anyhow::Result;
use cairn::prelude::*;

use super::functions::{start_node, Echo, Echoer};
use crate::{
    measurement::Sample,
    runtime,
    workloads::ask::{measure, Asker},
};

/// Sends `asks` sequential asks.
pub(super) fn run(asks: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let node = start_node().await?;
        let mut client = Client {
            echo: Address::of::<Echoer>("echo"),
            node: node.clone(),
        };
        let run = measure(&mut client, asks).await?;
        node.shutdown().await;
        Ok(run.into_sample(asks))
    })
}

/// The driver's handle on the echo actor.
struct Client {
    node: Node,
    echo: Address,
}

impl Asker for Client {
    async fn ask(&mut self, value: u64) -> Result<u64> {
        Ok(self.node.ask(self.echo.clone(), Echo(value)).await?)
    }
}
