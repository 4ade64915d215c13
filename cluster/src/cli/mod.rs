//! The `cairn` command line: parsing, and one module per command.
//!
//! # Layout
//! - `client`: a blocking HTTP client for a node's endpoint.
//! - `inspect`: `cairn inspect …`, the JSON views as tables.
//! - `table`: aligned plain-text tables.

mod client;
mod inspect;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Inspects and operates a running Cairn node through its HTTP endpoint.
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
}

/// Parses the command line (clap exits 2 on a mistake) and runs the command;
/// exits 1 if it fails.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
