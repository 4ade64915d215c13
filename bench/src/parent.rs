//! The parent side: runs each (system, workload) in fresh child processes and
//! reports the median run.

use std::{
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{bail, ensure, Context, Result};

use crate::{
    cli::Args,
    measurement::Measurement,
    report,
    systems::{self, System, SYSTEMS},
    workloads::Workload,
};

/// Runs every selected pair `--runs` times and prints JSON lines or a table.
pub(crate) fn run(args: &Args) -> Result<()> {
    ensure!(
        args.scale.is_finite() && args.scale > 0.0,
        "--scale must be positive"
    );
    ensure!(args.runs >= 1, "--runs must be at least 1");
    let selected: Vec<&System> = if args.systems.is_empty() {
        SYSTEMS.iter().collect()
    } else {
        args.systems
            .iter()
            .map(|name| systems::find(name))
            .collect::<Result<_>>()?
    };
    let workloads = if args.workloads.is_empty() {
        Workload::ALL.to_vec()
    } else {
        args.workloads.clone()
    };
    let exe = std::env::current_exe().context("locating the benchmark binary")?;

    let mut results = Vec::new();
    let mut failures = Vec::new();
    for system in selected {
        for &workload in &workloads {
            match measure_pair(&exe, system.name, workload, args) {
                Ok(median) => {
                    if args.json {
                        println!("{}", serde_json::to_string(&median)?);
                    }
                    results.push(median);
                }
                Err(err) => {
                    eprintln!("FAILED {}/{}: {err:#}", system.name, workload.name());
                    failures.push(format!("{}/{}", system.name, workload.name()));
                }
            }
        }
    }
    if !args.json {
        report::print_table(&results);
    }
    if !failures.is_empty() {
        bail!("failed: {}", failures.join(", "));
    }
    Ok(())
}

/// Runs one pair `args.runs` times and returns the median run.
fn measure_pair(exe: &Path, system: &str, workload: Workload, args: &Args) -> Result<Measurement> {
    let mut runs = Vec::new();
    for run in 1..=args.runs {
        let measurement = run_child(exe, system, workload, args.scale)?;
        eprintln!(
            "{system}/{} run {run}/{}: {}",
            workload.name(),
            args.runs,
            report::summary(&measurement)
        );
        runs.push(measurement);
    }
    Ok(median(runs, workload))
}

/// Runs one measurement in a fresh child process and parses its JSON line.
fn run_child(exe: &Path, system: &str, workload: Workload, scale: f64) -> Result<Measurement> {
    let output = Command::new(exe)
        .args(["--child", "--system", system, "--workload", workload.name()])
        .args(["--scale", &scale.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("starting a child process")?;
    ensure!(output.status.success(), "child {}", output.status);
    let stdout = String::from_utf8(output.stdout).context("child output is not UTF-8")?;
    let line = stdout
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .context("child printed no result")?;
    serde_json::from_str(line).with_context(|| format!("parsing child result {line:?}"))
}

/// The median run: by mean latency for `ask`, by throughput otherwise.
fn median(mut runs: Vec<Measurement>, workload: Workload) -> Measurement {
    if workload.ranks_by_latency() {
        runs.sort_by(|a, b| {
            a.mean_ns
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.mean_ns.unwrap_or(f64::INFINITY))
        });
    } else {
        runs.sort_by(|a, b| a.msgs_per_sec.total_cmp(&b.msgs_per_sec));
    }
    let count = runs.len();
    let mut chosen = runs.swap_remove(count / 2);
    chosen.runs = u32::try_from(count).unwrap_or(u32::MAX);
    chosen
}
