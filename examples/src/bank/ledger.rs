//! What the bank keeps in its store beside the snapshots: its parameters
//! and the layout of its transfers file, pinned on first start; and the
//! balances read back from the latest committed epoch.

use std::path::Path;

use anyhow::Context as _;
use cairn::persistence::{Store, StoreOptions};
use cairn::{CommittedSnapshot, Ingress, Registry};
use serde::{Deserialize, Serialize};

use super::{Account, TransferFile};

/// How many splits the transfers file is read as. Pinned in the store:
/// recorded offsets belong to their split.
const TRANSFER_SPLITS: u32 = 8;

/// Names of the pinned parameters.
const PARAMETERS: &str = "bank";
const LAYOUT: &str = "bank-transfers";

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

impl BankParameters {
    /// Reads and checks every line of the transfers file at `path` against
    /// these parameters, before anything is written anywhere.
    pub fn check(&self, path: &Path) -> anyhow::Result<TransferFile> {
        anyhow::ensure!(self.accounts > 0, "--accounts must be at least 1");
        TransferFile::check(path, self.accounts)
    }

    /// Pins these parameters and `file`'s layout in the store at `url`
    /// (refusing others than the store was started with), and returns the
    /// file as the bank's durable ingress. Every process sharing the store
    /// (a restart, or each member of a cluster) reads the file the same
    /// way.
    pub async fn pin(&self, url: &str, file: &TransferFile) -> anyhow::Result<Ingress> {
        let store = Store::open(url, StoreOptions::default())?;
        store
            .pin_parameters(PARAMETERS, self)
            .await
            .with_context(|| format!("the store {url} belongs to another bank"))?;
        let layout = TransfersLayout {
            splits: TRANSFER_SPLITS,
            file_len: file.len(),
        };
        store
            .pin_parameters(LAYOUT, &layout)
            .await
            .with_context(|| {
                format!("the transfers file is not the one the store {url} was started with")
            })?;
        file.ingress(TRANSFER_SPLITS)
    }
}

/// Every account's balance, `0..N`, as of the latest committed epoch of the
/// store at `url` (N and the opening balance read from the store).
pub async fn balances(url: &str) -> anyhow::Result<Vec<i64>> {
    let store = Store::open(url, StoreOptions::default())?;
    let parameters: BankParameters =
        store.read_parameters(PARAMETERS).await?.with_context(|| {
            format!("{url} holds no bank: run `bank run` or `bank node` on it first")
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
