//! `cairn-bench`: compares Cairn with other Rust actor runtimes.
//!
//! The parent process runs every (system, workload) pair several times, each
//! time in a fresh child process of this same binary, and reports the median
//! run. See `bench/README.md`.

mod child;
mod cli;
mod completion;
mod measurement;
mod parent;
mod report;
mod rss;
mod runtime;
mod systems;
mod workloads;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let args = cli::Args::parse();
    if args.child {
        child::run(&args)
    } else {
        parent::run(&args)
    }
}
