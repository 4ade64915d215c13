//! `cairn`: the command-line tool that reads a node's HTTP endpoint and its
//! snapshot store.
//!
//! ```text
//! cargo run -p cairn --bin cairn -- inspect --http 127.0.0.1:9090 shards
//! cargo run -p cairn --bin cairn -- inspect --http 127.0.0.1:9090 --json functions
//! cargo run -p cairn --bin cairn -- snapshots list --store fs://cairn-data
//! cargo run -p cairn --bin cairn -- snapshots verify --store fs://cairn-data [--epoch 7]
//! cargo run -p cairn --bin cairn -- snapshots show --store fs://cairn-data \
//!     --epoch 7 --function bank/account --id 42
//! ```
//!
//! Exits 0 on success; 1 when the node cannot be reached or answers with an
//! error, when the store cannot be opened or read, or when `verify` finds a
//! committed epoch damaged; and 2 on a command-line mistake.

#[path = "../cli/mod.rs"]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
