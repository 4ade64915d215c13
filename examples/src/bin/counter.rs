//! The smallest Cairn application: a few counters, incremented and read back.
//!
//! ```text
//! cargo run --release -p cairn-examples --bin counter -- --counters 3 --increments 10
//! ```
//!
//! Counter `counter-c` gets `--increments` additions of `c + 1`; the binary
//! reads every counter back with `ask`, prints `counter-c: value` lines, and
//! exits non-zero if a value is not the expected one.

use anyhow::ensure;
use cairn::Node;
use cairn_examples::counter::{counter, Add, Counter, Get};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Increments a few counters and reads them back.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// How many counters.
    #[arg(long, default_value_t = 3)]
    counters: u32,
    /// How many additions each counter gets.
    #[arg(long, default_value_t = 10)]
    increments: u32,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    init_logging();
    let cli = Cli::parse();
    let node = Node::builder().register::<Counter>().start().await?;
    for c in 0..cli.counters {
        for _ in 0..cli.increments {
            node.send(counter(&format!("counter-{c}")), Add(i64::from(c) + 1))?;
        }
    }
    node.flush().await?;
    let mut wrong = Vec::new();
    for c in 0..cli.counters {
        let name = format!("counter-{c}");
        let value: i64 = node.ask(counter(&name), Get).await?;
        println!("{name}: {value}");
        let expected = i64::from(cli.increments) * (i64::from(c) + 1);
        if value != expected {
            wrong.push(format!("{name} is {value}, expected {expected}"));
        }
    }
    node.shutdown().await;
    ensure!(wrong.is_empty(), "wrong counts: {}", wrong.join("; "));
    Ok(())
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
