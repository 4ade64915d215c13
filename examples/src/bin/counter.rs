//! The smallest Cairn application: a few counters, incremented and read back.
//!
//! ```text
//! cargo run --release -p cairn-examples --bin counter -- --counters 3 --increments 10 \
//!     [--http 127.0.0.1:9090] [--keep-serving]
//! ```
//!
//! The node serves its HTTP endpoint (metrics, JSON views, ingress) while it
//! runs, on `--http HOST:PORT`: by default a free port on loopback, logged
//! at start as `serving HTTP addr=…`. With `--keep-serving` it stays up
//! after printing the counts, until SIGINT or SIGTERM, for a scrape or
//! `cairn inspect --http ADDR …`; the exit status is still the check's.
//!
//! Counter `counter-c` gets `--increments` additions of `c + 1`; the binary
//! reads every counter back with `ask`, prints `counter-c: value` lines, and
//! exits non-zero if a value is not the expected one.

use std::net::SocketAddr;

use anyhow::ensure;
use cairn::Node;
use cairn_examples::counter::{counter, Add, Counter, Get};
use cairn_examples::launch;
use clap::Parser;

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
    /// Serves the node's HTTP endpoint on HOST:PORT (an IP address and a
    /// port; default: a free port on loopback, logged at start).
    #[arg(long, value_name = "HOST:PORT", default_value = launch::DEFAULT_HTTP)]
    http: SocketAddr,
    /// After printing the counts, keeps the node and its HTTP endpoint up
    /// until SIGINT or SIGTERM.
    #[arg(long)]
    keep_serving: bool,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    launch::init_logging();
    let cli = Cli::parse();
    let builder = Node::builder().register::<Counter>();
    let node = launch::start(builder, Some(cli.http)).await?;
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
    launch::keep_serving(&node, cli.keep_serving).await;
    node.shutdown().await;
    ensure!(wrong.is_empty(), "wrong counts: {}", wrong.join("; "));
    Ok(())
}
