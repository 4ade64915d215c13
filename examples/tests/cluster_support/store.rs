//! The store every member shares (`fs://DIR`), read as an operator would:
//! the committed epochs as recovery reads them, and the balances through
//! `bank balances --store URL`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::transfers::parse_balances;

/// A shared `fs://` store.
#[derive(Debug, Clone)]
pub struct SharedStore {
    dir: PathBuf,
}

impl SharedStore {
    /// The store in `dir`, which the members create on first start.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The URL the members and `bank balances` are given.
    pub fn url(&self) -> String {
        format!("fs://{}", self.dir.display())
    }

    /// The newest committed epoch, if any, as recovery would choose it:
    /// `ABORTED` tombstones and fenced manifests do not count.
    pub fn latest_commit(&self) -> Option<u64> {
        let store = cairn::persistence::Store::open(
            &self.url(),
            cairn::persistence::StoreOptions::default(),
        )
        .ok()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime to read the store");
        // Garbage collection may remove an epoch while it is listed: that
        // read fails, and the next poll tries again.
        runtime
            .block_on(store.latest_committed())
            .ok()
            .flatten()
            .map(|manifest| manifest.epoch)
    }

    /// Every balance as of the latest committed epoch, from
    /// `bank balances --store URL`, or why it could not be read.
    pub fn balances(&self) -> Result<Vec<i64>, String> {
        let output = Command::new(crate::cluster_support::BANK)
            .args(["balances", "--store", &self.url()])
            .env("NO_COLOR", "1")
            .output()
            .map_err(|error| format!("running bank balances: {error}"))?;
        if !output.status.success() {
            return Err(format!(
                "bank balances --store {} exited with {}: {}",
                self.url(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let stdout = String::from_utf8(output.stdout)
            .map_err(|_| "bank balances printed something not UTF-8".to_owned())?;
        parse_balances(&stdout)
    }
}
