//! The bank as a crash-safe batch job: transfers read from a file as a
//! durable ingress, state snapshotted to a store, balances reported from
//! the last committed epoch. Killed at any moment and started again on the
//! same store, a run resumes from its last committed epoch and ends with
//! exactly the balances of an uninterrupted one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use cairn::persistence::{Store, StoreOptions};
use cairn::{CommittedSnapshot, FileSink, Node, NodeError, Registry};
use serde::{Deserialize, Serialize};

use super::{Account, TransferFile, TRANSFERS_EGRESS};
use crate::launch;

/// How many splits the transfers file is read as. Pinned in the store:
/// recorded offsets belong to their split.
const TRANSFER_SPLITS: u32 = 8;

/// The bank's parameters, pinned in the store on first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankParameters {
    /// Accounts `0..accounts`.
    pub accounts: u64,
    /// Every account's opening balance.
    pub initial_balance: i64,
}

/// How the transfers file is read, pinned beside the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct TransfersLayout {
    splits: u32,
    file_len: u64,
}

/// Names of the pinned parameters.
const PARAMETERS: &str = "bank";
const LAYOUT: &str = "bank-transfers";

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
    anyhow::ensure!(parameters.accounts > 0, "--accounts must be at least 1");
    let file = TransferFile::check(&transfers, parameters.accounts)?;
    std::fs::create_dir_all(&data)
        .with_context(|| format!("creating the data folder {}", data.display()))?;
    let url = store_url(&data);
    let store = Store::open(&url, StoreOptions::default())?;
    store
        .pin_parameters(PARAMETERS, &parameters)
        .await
        .context("the data folder belongs to another bank")?;
    let layout = TransfersLayout {
        splits: TRANSFER_SPLITS,
        file_len: file.len(),
    };
    store
        .pin_parameters(LAYOUT, &layout)
        .await
        .context("the transfers file is not the one this data folder was started with")?;
    let mut builder = Node::builder()
        .register::<Account>()
        .store(url)
        .snapshot_interval(Some(snapshot_interval))
        .allow_fallback(allow_fallback)
        .ingress(file.ingress(TRANSFER_SPLITS)?);
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
    if let Some(epoch) = node.recovered_from() {
        tracing::info!(epoch, "resumed from the last committed epoch");
    }
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

/// Every account's balance, `0..N`, as of the latest committed epoch of the
/// store in `data` (N and the opening balance read from the store).
pub async fn balances(data: &Path) -> anyhow::Result<Vec<i64>> {
    let url = store_url(data);
    let store = Store::open(&url, StoreOptions::default())?;
    let parameters: BankParameters =
        store.read_parameters(PARAMETERS).await?.with_context(|| {
            format!(
                "{} holds no bank: run `bank run` on it first",
                data.display()
            )
        })?;
    let mut balances = vec![parameters.initial_balance; parameters.accounts as usize];
    // Stored addresses decode only for registered function types.
    Registry::default().register::<Account>()?;
    if let Some(snapshot) = CommittedSnapshot::latest(&store).await? {
        for (id, account) in snapshot.states::<Account>()? {
            let index: usize = id
                .as_str()
                .parse()
                .ok()
                .filter(|&index: &usize| index < balances.len())
                .with_context(|| format!("the store holds an account {id} outside 0..N"))?;
            balances[index] += account.balance();
        }
    }
    Ok(balances)
}
