//! Command-line arguments.

use clap::Parser;

use crate::workloads::Workload;

/// Benchmarks Cairn against other actor runtimes.
///
/// Every (system, workload) pair runs `--runs` times, each in a fresh child
/// process; the median run is reported.
#[derive(Debug, Parser)]
#[command(name = "cairn-bench")]
pub(crate) struct Args {
    /// Print one JSON object per (system, workload) on stdout instead of a table.
    #[arg(long)]
    pub(crate) json: bool,

    /// Multiplies every message and actor count.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) scale: f64,

    /// Comma-separated systems to run (default: all).
    #[arg(long, value_delimiter = ',')]
    pub(crate) systems: Vec<String>,

    /// Comma-separated workloads to run (default: all).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub(crate) workloads: Vec<Workload>,

    /// Runs per (system, workload); the median is reported.
    #[arg(long, default_value_t = 3)]
    pub(crate) runs: u32,

    /// Internal: run one measurement and print it as one JSON line.
    #[arg(long, hide = true)]
    pub(crate) child: bool,

    /// Internal: the system a child measures.
    #[arg(long, hide = true, requires = "child")]
    pub(crate) system: Option<String>,

    /// Internal: the workload a child measures.
    #[arg(long, hide = true, requires = "child", value_enum)]
    pub(crate) workload: Option<Workload>,
}
