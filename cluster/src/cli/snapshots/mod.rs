//! `cairn snapshots …`: reads a snapshot store offline, without a node.
//!
//! - `list`: one row per MANIFEST and what it amounts to.
//! - `verify`: every committed epoch's objects exist and pass their
//!   checksums; crash leftovers are listed as uncommitted, not errors.
//! - `show`: one actor's state as of a committed epoch, as JSON.
//!
//! The tool registers no function types, so it reads shard parts through
//! its own mirror of their layout (`state`), with function names as plain
//! strings.

mod list;
mod show;
mod state;
mod verify;

use std::path::Path;

use cairn_persistence::{ManifestStatus, Store, StoreOptions};
use clap::{Args, Subcommand};

/// Which store to read.
#[derive(Debug, Args)]
pub(crate) struct StoreArg {
    /// The store: fs://PATH, memory:// or s3://BUCKET/PREFIX?endpoint=…&region=….
    #[arg(long, value_name = "URL")]
    store: String,
}

/// `cairn snapshots` and its subcommand.
#[derive(Debug, Args)]
pub(crate) struct SnapshotsArgs {
    #[command(subcommand)]
    command: SnapshotsCommand,
}

/// What to do with the store.
#[derive(Debug, Subcommand)]
enum SnapshotsCommand {
    /// Lists every epoch that has a MANIFEST: committed, aborted, fenced or torn.
    List(list::ListArgs),
    /// Checks that committed epochs are intact; exits 1 if one is not.
    Verify(verify::VerifyArgs),
    /// Prints an actor's state as of a committed epoch, as JSON.
    Show(show::ShowArgs),
}

/// Why a `snapshots` command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotsError {
    /// An fs store URL names a folder that does not exist. Opening it would
    /// create it, which a reading tool must not do.
    #[error("no store at {0}: the folder does not exist")]
    NoStore(String),
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(#[from] cairn_persistence::Error),
    /// The async runtime the store needs could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// `verify` found damage; the problems were printed.
    #[error(
        "verify found {problems} problem(s) ({epochs} committed epoch(s), {objects} object(s) checked)"
    )]
    Damaged {
        /// How many problems.
        problems: usize,
        /// How many committed epochs were checked.
        epochs: usize,
        /// How many distinct objects were checked.
        objects: usize,
    },
    /// The epoch asked for is not a committed one.
    #[error("epoch {epoch} is not committed: {why}")]
    NotCommitted {
        /// The epoch asked for.
        epoch: u64,
        /// What its MANIFEST amounts to, or that it has none.
        why: String,
    },
    /// The committed epoch holds no state for the actor.
    #[error(
        "no state stored for {function}/{id} as of epoch {epoch} (it may never have been written)"
    )]
    NoState {
        /// The function type's name.
        function: String,
        /// The actor's id.
        id: String,
        /// The epoch asked for.
        epoch: u64,
    },
    /// A stored part or state could not be read as expected.
    #[error("{what}: {reason}")]
    Undecodable {
        /// What was being read.
        what: String,
        /// Why it failed.
        reason: String,
    },
}

/// Runs a `snapshots` subcommand.
pub(crate) fn run(args: SnapshotsArgs) -> Result<(), SnapshotsError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(SnapshotsError::Runtime)?;
    runtime.block_on(async {
        match args.command {
            SnapshotsCommand::List(args) => list::run(args).await,
            SnapshotsCommand::Verify(args) => verify::run(args).await,
            SnapshotsCommand::Show(args) => show::run(args).await,
        }
    })
}

/// Opens the store for reading, without a cache (each object is read once).
fn open(arg: &StoreArg) -> Result<Store, SnapshotsError> {
    // `Store::open` creates a missing fs folder; a typo must not leave one behind.
    if let Some(path) = arg.store.strip_prefix("fs://") {
        if !path.is_empty() && !Path::new(path).exists() {
            return Err(SnapshotsError::NoStore(path.to_owned()));
        }
    }
    let options = StoreOptions {
        cache_capacity_bytes: 0,
        ..StoreOptions::default()
    };
    Ok(Store::open(&arg.store, options)?)
}

/// The status word of a MANIFEST, and what more there is to say about it.
fn describe(status: &ManifestStatus) -> (&'static str, Option<String>) {
    match status {
        ManifestStatus::Committed(_) => ("committed", None),
        ManifestStatus::Aborted(_) => ("aborted", Some("ABORTED tombstone".to_owned())),
        ManifestStatus::Fenced { by_generation, .. } => (
            "fenced",
            Some(format!("fenced by generation {by_generation}")),
        ),
        ManifestStatus::Torn { reason } => ("torn", Some(reason.clone())),
    }
}
