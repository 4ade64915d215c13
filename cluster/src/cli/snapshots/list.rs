//! `cairn snapshots list`: one row per MANIFEST.

use cairn_persistence::ManifestStatus;
use clap::Args;
use serde::Serialize;

use super::{describe, open, SnapshotsError, StoreArg};
use crate::cli::table;

/// `list`'s flags.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Prints a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// One MANIFEST: what it is and what it references. A torn MANIFEST has no
/// readable fields but its epoch.
#[derive(Debug, Serialize)]
struct Row {
    epoch: u64,
    status: &'static str,
    generation: Option<u64>,
    parent: Option<u64>,
    shards: Option<u32>,
    objects: Option<usize>,
    bytes: Option<u64>,
    detail: Option<String>,
}

impl Row {
    fn new(epoch: u64, status: &ManifestStatus) -> Self {
        let (word, detail) = describe(status);
        let manifest = match status {
            ManifestStatus::Committed(manifest) | ManifestStatus::Aborted(manifest) => {
                Some(manifest)
            }
            ManifestStatus::Fenced { manifest, .. } => Some(manifest),
            ManifestStatus::Torn { .. } => None,
        };
        Self {
            epoch,
            status: word,
            generation: manifest.map(|m| m.generation),
            parent: manifest.and_then(|m| m.parent),
            shards: manifest.map(|m| m.shard_count),
            objects: manifest.map(|m| m.objects().count()),
            bytes: manifest.map(|m| m.objects().map(|object| object.len).sum()),
            detail,
        }
    }
}

/// Reads every MANIFEST and prints the rows.
pub(super) async fn run(args: ListArgs) -> Result<(), SnapshotsError> {
    let store = open(&args.store)?;
    let rows: Vec<Row> = store
        .manifests()
        .await?
        .iter()
        .map(|(epoch, status)| Row::new(*epoch, status))
        .collect();
    if args.json {
        let json = serde_json::to_string_pretty(&rows)
            .expect("rows of numbers and strings always encode; this is a bug");
        println!("{json}");
    } else {
        println!("{}", table(&rows));
    }
    Ok(())
}

/// The rows as a borderless table, numbers right-aligned, `-` for what a
/// torn MANIFEST does not say.
fn table(rows: &[Row]) -> String {
    let headers = [
        "EPOCH",
        "STATUS",
        "GENERATION",
        "PARENT",
        "SHARDS",
        "OBJECTS",
        "BYTES",
        "DETAIL",
    ];
    let mut table = table::table(&headers, &[0, 2, 3, 4, 5, 6]);
    let cell = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    for row in rows {
        table.add_row(vec![
            row.epoch.to_string(),
            row.status.to_owned(),
            cell(row.generation.map(|g| g.to_string())),
            cell(row.parent.map(|p| p.to_string())),
            cell(row.shards.map(|s| s.to_string())),
            cell(row.objects.map(|o| o.to_string())),
            cell(row.bytes.map(|b| b.to_string())),
            row.detail.clone().unwrap_or_default(),
        ]);
    }
    table::render(&table)
}
