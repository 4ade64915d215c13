//! Bank transfers: each transfer is a debit of the source account, which
//! sends a credit to the target account.
//!
//! ```text
//! cargo run --release -p cairn-examples --bin bank -- simulate \
//!     --accounts 100 --transfers 10000 --initial-balance 1000 [--seed 42] \
//!     [--egress-file transfers.jsonl | --egress-stdout] [--http 127.0.0.1:9090]
//! ```
//!
//! `simulate` draws random transfers from the seed, sends them all, waits
//! for them to complete, reads every balance back and prints
//! `account N: BALANCE` lines and the total. It exits non-zero if the total
//! is not `accounts × initial-balance` or if any balance differs from the
//! one computed straight from the transfer list. Completed transfers go to
//! the `transfers` egress: a file of JSON lines with `--egress-file`,
//! standard output with `--egress-stdout`, nowhere otherwise. With `--http`
//! the node serves its HTTP endpoint (metrics, JSON views, ingress) while
//! the simulation runs; without it, no endpoint runs.

use std::net::SocketAddr;
use std::path::PathBuf;

use cairn::{FileSink, Node, StdoutSink};
use cairn_examples::bank::{Account, Simulation, TRANSFERS_EGRESS};
use cairn_examples::launch;
use clap::{Args, Parser, Subcommand};

/// Bank accounts and transfers on Cairn.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs random transfers in process and checks the balances.
    Simulate(SimulateArgs),
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// How many accounts.
    #[arg(long, default_value_t = 100)]
    accounts: u64,
    /// How many transfers.
    #[arg(long, default_value_t = 10_000)]
    transfers: u64,
    /// Every account's opening balance.
    #[arg(long, default_value_t = 1_000)]
    initial_balance: i64,
    /// The largest amount of one transfer.
    #[arg(long, default_value_t = 100)]
    max_amount: i64,
    /// The seed the transfers are drawn from.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Writes completed transfers to this file, one JSON line each.
    #[arg(long, conflicts_with = "egress_stdout")]
    egress_file: Option<PathBuf>,
    /// Prints completed transfers on standard output, one JSON line each.
    #[arg(long)]
    egress_stdout: bool,
    /// Serves the node's HTTP endpoint on HOST:PORT (an IP address and a
    /// port, such as 127.0.0.1:9090). No endpoint runs without it.
    #[arg(long, value_name = "HOST:PORT")]
    http: Option<SocketAddr>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    launch::init_logging();
    match Cli::parse().command {
        Command::Simulate(args) => simulate(args).await,
    }
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.accounts > 0, "--accounts must be at least 1");
    let mut builder = Node::builder().register::<Account>();
    if let Some(path) = &args.egress_file {
        builder = builder.egress(TRANSFERS_EGRESS, FileSink::open(path)?);
    } else if args.egress_stdout {
        builder = builder.egress(TRANSFERS_EGRESS, StdoutSink::new());
    }
    let node = launch::start(builder, args.http).await?;
    let simulation = Simulation {
        accounts: args.accounts,
        transfers: args.transfers,
        initial_balance: args.initial_balance,
        max_amount: args.max_amount,
        seed: args.seed,
    };
    let started = std::time::Instant::now();
    let outcome = simulation.run(&node).await;
    let elapsed = started.elapsed();
    node.shutdown().await;
    let outcome = outcome?;
    for (id, balance) in outcome.balances.iter().enumerate() {
        println!("account {id}: {balance}");
    }
    println!(
        "total: {} (expected {})",
        outcome.total(),
        outcome.expected_total
    );
    tracing::info!(
        transfers = args.transfers,
        elapsed_ms = elapsed.as_millis() as u64,
        "transfers completed"
    );
    outcome.check()
}
