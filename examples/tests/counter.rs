//! The counter example, in process and as the `counter` binary.

use std::process::Command;

use cairn::Node;
use cairn_examples::counter::{counter, Add, Counter, Get};

/// Additions to several counters are all counted, each on its own counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_count_their_own_additions() -> anyhow::Result<()> {
    let node = Node::builder().register::<Counter>().start().await?;
    for amount in 1..=10 {
        node.send(counter("a"), Add(amount))?;
        node.send(counter("b"), Add(-amount))?;
    }
    node.flush().await?;
    let a: i64 = node.ask(counter("a"), Get).await?;
    let b: i64 = node.ask(counter("b"), Get).await?;
    let untouched: i64 = node.ask(counter("c"), Get).await?;
    node.shutdown().await;
    assert_eq!((a, b, untouched), (55, -55, 0));
    Ok(())
}

/// The binary prints every counter's expected value and exits 0.
#[test]
fn binary_prints_the_counts() {
    let output = Command::new(env!("CARGO_BIN_EXE_counter"))
        .args(["--counters", "2", "--increments", "5"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("the counter binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout, "counter-0: 5\ncounter-1: 10\n");
}
