//! The bank as a crash-safe batch job: transfers read from a file as a
//! durable ingress, state snapshotted to a store, balances reported from
//! the last committed epoch. Killed at any moment and started again on the
//! same store, a run resumes from its last committed epoch and ends with
//! exactly the balances of an uninterrupted one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn::{FileSink, Node, NodeError};

use super::{Account, BankParameters, TRANSFERS_EGRESS};
use crate::launch;

/// What `bank run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The store's folder (`fs://DIR`), created if missing.
    pub data: PathBuf,
    /// The transfers file.
    pub transfers: PathBuf,
    /// The bank's parameters.
    pub parameters: BankParameters,
    /// How often an epoch starts.
    pub snapshot_interval: Duration,
    /// Exit once every transfer is done and committed.
    pub exit_when_done: bool,
    /// Where the node serves HTTP, if anywhere.
    pub http: Option<SocketAddr>,
    /// Where completed transfers are written, one JSON line each, exactly
    /// once per committed transfer (a [`FileSink`]), if anywhere.
    pub egress_file: Option<PathBuf>,
    /// If the latest committed epoch is damaged, resume from the newest
    /// intact one instead of refusing to start (exactly-once is then lost
    /// for the egress released since).
    pub allow_fallback: bool,
}

/// The store URL of a data folder, its path taken verbatim.
pub fn store_url(data: &Path) -> String {
    format!("fs://{}", data.display())
}

/// Runs the bank over the transfers file: pins the parameters (refusing
/// others than the store was started with), resumes from the last committed
/// epoch, and — with `exit_when_done` — returns once every transfer has
/// been handled and an epoch holding all of them has committed. Without it,
/// serves until SIGINT or SIGTERM.
pub async fn run(options: RunOptions) -> anyhow::Result<()> {
    let RunOptions {
        data,
        transfers,
        parameters,
        snapshot_interval,
        exit_when_done,
        http,
        egress_file,
        allow_fallback,
    } = options;
    let file = parameters.check(&transfers)?;
    let url = store_url(&data);
    let ingress = parameters.pin(&url, &file).await?;
    let mut builder = Node::builder()
        .register::<Account>()
        .store(url)
        .snapshot_interval(Some(snapshot_interval))
        .allow_fallback(allow_fallback)
        .ingress(ingress);
    if let Some(path) = &egress_file {
        builder = builder.egress(TRANSFERS_EGRESS, FileSink::open(path)?);
    }
    let node = match launch::start(builder, http).await {
        Ok(node) => node,
        Err(error @ NodeError::CorruptSnapshot { .. }) => {
            return Err(anyhow::Error::new(error).context(
                "the latest snapshot is damaged: start again with --allow-fallback to resume \
                 from the newest intact one (exactly-once is then lost for the egress released since)",
            ))
        }
        Err(error) => return Err(error.into()),
    };
    let outcome = if exit_when_done {
        node.finish_ingress()
            .await
            .map(|epoch| tracing::info!(epoch, "every transfer is done and committed"))
            .map_err(anyhow::Error::from)
    } else {
        launch::wait_for_stop_signal().await;
        Ok(())
    };
    node.shutdown().await;
    outcome
}
