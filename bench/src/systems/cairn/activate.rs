//! Activation of many actors, one message each, and the memory they take.

use std::time::Instant;

use anyhow::Result;
use cairn::prelude::*;

use super::functions::{set_completion, start_node, ActivateDriver, StartActivate};
use crate::{completion::Completion, measurement::Sample, rss::RssProbe, runtime};

/// Activates `actors` cells through one driver actor and waits until each
/// has handled its message.
pub(super) fn run(actors: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let node = start_node().await?;
        let done = Completion::new(actors);
        set_completion(done.clone());
        let probe = RssProbe::start()?;
        let start = Instant::now();
        node.send(
            Address::of::<ActivateDriver>("driver"),
            StartActivate { cells: actors },
        )?;
        done.wait().await?;
        let elapsed = start.elapsed();
        let memory = probe.finish(actors)?;
        Ok(Sample::throughput(actors, elapsed).with_memory(memory))
    })
}
