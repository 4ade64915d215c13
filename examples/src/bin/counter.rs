//! The smallest Cairn application: a few counters, incremented and read back.
//!
//! ```text
//! cargo run --release -p cairn-examples --bin counter -- --counters 3 --increments 10
//! ```
//!
//! With `--http 127.0.0.1:9090` the node serves its HTTP endpoint (metrics,
//! JSON views, ingress) while it runs; without it, no endpoint runs.
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
    /// port, such as 127.0.0.1:9090). No endpoint runs without it.
    #[arg(long, value_name = "HOST:PORT")]
    http: Option<SocketAddr>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    launch::init_logging();
    let cli = Cli::parse();
    let builder = Node::builder().register::<Counter>();
    let node = launch::start(builder, cli.http).await?;
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
