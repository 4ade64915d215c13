//! `cairn`: the command-line tool that reads a node's HTTP endpoint.
//!
//! ```text
//! cargo run -p cairn --bin cairn -- inspect --http 127.0.0.1:9090 shards
//! cargo run -p cairn --bin cairn -- inspect --http 127.0.0.1:9090 --json functions
//! ```
//!
//! Exits 0 on success, 1 when the node cannot be reached or answers with an
//! error, and 2 on a command-line mistake.

#[path = "../cli/mod.rs"]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
