//! Bank transfers: each transfer is a debit of the source account, which
//! sends a credit to the target account.
//!
//! ```text
//! cargo run --release -p cairn-examples --bin bank -- simulate \
//!     --accounts 100 --transfers 10000 --initial-balance 1000 [--seed 42] \
//!     [--egress-file transfers.jsonl | --egress-stdout] [--http 127.0.0.1:9090] \
//!     [--keep-serving]
//! ```
//!
//! ```text
//! cargo run --release -p cairn-examples --bin bank -- run --data DIR \
//!     --transfers FILE --accounts N --initial-balance B \
//!     [--snapshot-interval-ms MS] [--exit-when-done] [--http HOST:PORT] \
//!     [--egress-file FILE] [--allow-fallback]
//! cargo run --release -p cairn-examples --bin bank -- node \
//!     --transfers FILE --accounts N --initial-balance B \
//!     [--bind HOST:PORT --seeds LIST] [--store URL] [--http HOST:PORT] \
//!     [--shards N] [--snapshot-interval-ms MS] [--cluster-id ID] [--secret S] \
//!     [--max-frame BYTES]
//! cargo run --release -p cairn-examples --bin bank -- balances (--data DIR | --store URL)
//! ```
//!
//! `run` reads FILE (CSV lines `id,from,to,amount`, accounts `0..N`) as a
//! durable ingress and snapshots to the store in DIR (`fs://DIR`, created
//! if missing). N and B are pinned in the store on first start; a restart
//! with other values is refused. Killed at any moment and started again on
//! the same DIR, it resumes from the last committed epoch and ends with
//! exactly the balances of an uninterrupted run. With `--exit-when-done` it
//! exits 0 once every transfer is done and an epoch holding all of them has
//! committed; without it, it serves until SIGINT or SIGTERM. `balances`
//! prints `ACCOUNT BALANCE` for every account as of the latest committed
//! epoch of the store (a folder, or a URL), and nothing else, on stdout.
//!
//! `node` does what `run` does without `--exit-when-done`, taking the
//! standard node flags (`cairn::NodeArgs`; the store defaults to
//! `fs://./cairn-data`). With `--bind` it is one member of a cluster: start
//! every member with the same FILE, N, B, `--store`, `--shards` and secret
//! (`--secret` or `CAIRN_CLUSTER_SECRET`), each with its own `--bind` and
//! the others as `--seeds`; the members share the file's splits. It serves
//! until SIGINT or SIGTERM, then leaves the cluster and exits 0.
//!
//! `simulate` draws random transfers from the seed, sends them all, waits
//! for them to complete, reads every balance back and prints
//! `account N: BALANCE` lines and the total. It exits non-zero if the total
//! is not `accounts × initial-balance` or if any balance differs from the
//! one computed straight from the transfer list. Completed transfers go to
//! the `transfers` egress: a file of JSON lines with `--egress-file`,
//! standard output with `--egress-stdout`, nowhere otherwise. With
//! `--keep-serving` the node stays up after the check, until SIGINT or
//! SIGTERM, for a scrape or `cairn inspect`; the exit status is still the
//! check's.
//!
//! `run`, `node` and `simulate` serve the node's HTTP endpoint (metrics,
//! JSON views, ingress) on `--http HOST:PORT`: by default a free port on
//! loopback, logged at start as `serving HTTP addr=…` (a member also logs
//! `serving cluster addr=…`).

use std::net::SocketAddr;
use std::path::PathBuf;

use std::io::Write as _;
use std::time::Duration;

use cairn::{FileSink, Node, NodeArgs, StdoutSink};
use cairn_examples::bank::batch::{self, RunOptions};
use cairn_examples::bank::node::NodeOptions;
use cairn_examples::bank::{self, Account, BankParameters, Simulation, TRANSFERS_EGRESS};
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
    /// Runs the transfers of a file, crash-safe, snapshotting to a store.
    Run(RunArgs),
    /// Serves the transfers of a file as a node, alone or a cluster member.
    Node(NodeCommandArgs),
    /// Prints every balance as of the store's latest committed epoch.
    Balances(BalancesArgs),
    /// Runs random transfers in process and checks the balances.
    Simulate(SimulateArgs),
}

/// The transfers and the parameters pinned with them.
#[derive(Debug, Args)]
struct BankArgs {
    /// The transfers: CSV lines `id,from,to,amount`.
    #[arg(long, value_name = "FILE")]
    transfers: PathBuf,
    /// How many accounts (`0..N`).
    #[arg(long, value_name = "N")]
    accounts: u64,
    /// Every account's opening balance.
    #[arg(long, value_name = "B", allow_negative_numbers = true)]
    initial_balance: i64,
}

impl BankArgs {
    fn parameters(&self) -> BankParameters {
        BankParameters {
            accounts: self.accounts,
            initial_balance: self.initial_balance,
        }
    }
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The store's folder, created if missing.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    #[command(flatten)]
    bank: BankArgs,
    /// How often a snapshot epoch starts, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    snapshot_interval_ms: u64,
    /// Exits once every transfer is done and committed.
    #[arg(long)]
    exit_when_done: bool,
    /// Serves the node's HTTP endpoint on HOST:PORT (default: a free port
    /// on loopback, logged at start).
    #[arg(long, value_name = "HOST:PORT", default_value = launch::DEFAULT_HTTP)]
    http: SocketAddr,
    /// Writes each completed transfer to this file as a JSON line, exactly
    /// once per committed transfer, across crashes.
    #[arg(long, value_name = "FILE")]
    egress_file: Option<PathBuf>,
    /// If the latest committed snapshot is damaged, resumes from the newest
    /// intact one instead of refusing to start. Exactly-once is then lost
    /// for the egress released since that snapshot.
    #[arg(long)]
    allow_fallback: bool,
}

#[derive(Debug, Args)]
struct NodeCommandArgs {
    #[command(flatten)]
    bank: BankArgs,
    #[command(flatten)]
    node: NodeArgs,
}

/// Exactly one of `--data` and `--store`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct BalancesArgs {
    /// The store's folder (`fs://DIR`).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The store: fs://PATH or s3://BUCKET/PREFIX?endpoint=…&region=….
    #[arg(long, value_name = "URL", value_parser = checked_store_url)]
    store: Option<String>,
}

impl BalancesArgs {
    /// The store's URL, from whichever of the two was given.
    fn url(self) -> String {
        match (self.store, self.data) {
            (Some(url), _) => url,
            (None, Some(data)) => batch::store_url(&data),
            (None, None) => unreachable!("this is a bug: clap requires --data or --store"),
        }
    }
}

/// A store URL, checked before anything opens.
fn checked_store_url(url: &str) -> Result<String, cairn::persistence::Error> {
    cairn::persistence::check_url(url).map(|()| url.to_owned())
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
    /// port; default: a free port on loopback, logged at start).
    #[arg(long, value_name = "HOST:PORT", default_value = launch::DEFAULT_HTTP)]
    http: SocketAddr,
    /// After the check, keeps the node and its HTTP endpoint up until
    /// SIGINT or SIGTERM.
    #[arg(long)]
    keep_serving: bool,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    launch::init_logging();
    match Cli::parse().command {
        Command::Run(args) => {
            batch::run(RunOptions {
                data: args.data,
                parameters: args.bank.parameters(),
                transfers: args.bank.transfers,
                snapshot_interval: Duration::from_millis(args.snapshot_interval_ms),
                exit_when_done: args.exit_when_done,
                http: Some(args.http),
                egress_file: args.egress_file,
                allow_fallback: args.allow_fallback,
            })
            .await
        }
        Command::Node(args) => {
            bank::node::serve(NodeOptions {
                node: args.node,
                parameters: args.bank.parameters(),
                transfers: args.bank.transfers,
            })
            .await
        }
        Command::Balances(args) => print_balances(&bank::balances(&args.url()).await?),
        Command::Simulate(args) => simulate(args).await,
    }
}

/// Prints `ACCOUNT BALANCE` lines; a reader that stops reading early (a
/// closed pipe) is not an error.
fn print_balances(balances: &[i64]) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = balances
        .iter()
        .enumerate()
        .try_for_each(|(account, balance)| writeln!(out, "{account} {balance}"))
        .and_then(|()| out.flush());
    match written {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
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
    let node = launch::start(builder, Some(args.http)).await?;
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
    // Stopped before printing, so egress on standard output ends before the
    // balances; kept up only when asked (then stopped after serving; a
    // second shutdown is a no-op).
    if !args.keep_serving || outcome.is_err() {
        node.shutdown().await;
    }
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
    launch::keep_serving(&node, args.keep_serving).await;
    node.shutdown().await;
    outcome.check()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("bank").chain(args.iter().copied()))
            .map(|cli| cli.command)
    }

    /// The commands' flags do not clash, flattened ones included.
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// `node` takes the bank's flags and the standard node flags; a bad
    /// node flag is a command-line mistake (exit 2).
    #[test]
    fn node_takes_the_bank_and_node_flags() {
        let bank = [
            "node",
            "--transfers",
            "t.csv",
            "--accounts",
            "3",
            "--initial-balance",
            "-5",
        ];
        let cluster = [
            "--bind",
            "127.0.0.1:7001",
            "--seeds",
            "127.0.0.1:7000",
            "--store",
            "fs://d",
        ];
        let Command::Node(args) = parse(&[&bank[..], &cluster].concat()).unwrap() else {
            panic!("a node command");
        };
        assert_eq!(
            args.bank.parameters(),
            BankParameters {
                accounts: 3,
                initial_balance: -5
            }
        );
        assert_eq!(args.node.store, "fs://d");
        assert_eq!(args.node.seeds, ["127.0.0.1:7000"]);
        let error = parse(&[&bank[..], &["--shards", "0"]].concat()).unwrap_err();
        assert_eq!(error.exit_code(), 2, "{error}");
    }
}
