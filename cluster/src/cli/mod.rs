//! The `cairn` command line: parsing, and one module per command.
//!
//! # Layout
//! - `client`: a blocking HTTP client for a node's endpoint.
//! - `inspect`: `cairn inspect …`, the JSON views as tables.
//! - `snapshots`: `cairn snapshots …`, a snapshot store read offline.
//! - `table`: aligned plain-text tables.

mod client;
mod inspect;
mod snapshots;
mod table;

use std::error::Error;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Inspects and operates a running Cairn node through its HTTP endpoint, and
/// reads its snapshot store.
#[derive(Debug, Parser)]
#[command(name = "cairn", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The top-level commands. Commands that change the cluster (snapshots, …)
/// are siblings of `inspect`.
#[derive(Debug, Subcommand)]
enum Command {
    /// Shows what a node knows: the cluster, its shards, its functions.
    Inspect(inspect::InspectArgs),
    /// Lists, verifies and reads the snapshots in a store, offline.
    Snapshots(snapshots::SnapshotsArgs),
}

/// Parses the command line (clap exits 2 on a mistake) and runs the command;
/// exits 1 if it fails, printing the error and its causes.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), Box<dyn Error>> = match cli.command {
        Command::Inspect(args) => inspect::run(args).map_err(Into::into),
        Command::Snapshots(args) => snapshots::run(args).map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
