//! The store every member shares (`fs://DIR`), read as an operator would:
//! the committed epochs by their manifests, and the balances through
//! `bank balances --store URL`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::transfers::parse_balances;

/// The commit point of an epoch: `epochs/<E:020>/MANIFEST` (the layout of
/// `cairn_persistence`'s keys). A manifest is written whole under a
/// temporary name and then renamed, so its presence means committed.
const MANIFEST: &str = "MANIFEST";

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

    /// The newest committed epoch, if any. Garbage collection removes old
    /// epochs while this lists them: a folder that vanishes is skipped.
    pub fn latest_commit(&self) -> Option<u64> {
        let entries = std::fs::read_dir(self.dir.join("epochs")).ok()?;
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name();
                let name = name.to_str()?;
                let epoch = name.parse::<u64>().ok().filter(|_| name.len() == 20)?;
                entry.path().join(MANIFEST).is_file().then_some(epoch)
            })
            .max()
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
