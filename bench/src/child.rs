//! The child side: one measurement, printed as one JSON line on stdout.

use anyhow::{ensure, Context, Result};

use crate::{cli::Args, measurement::Measurement, systems};

/// Runs the single (system, workload) named on the command line.
pub(crate) fn run(args: &Args) -> Result<()> {
    let system_name = args.system.as_deref().context("--child needs --system")?;
    let workload = args.workload.context("--child needs --workload")?;
    ensure!(
        args.scale.is_finite() && args.scale > 0.0,
        "--scale must be positive"
    );
    let system = systems::find(system_name)?;
    let count = workload.count(args.scale);
    let sample = (system.run)(workload, count)
        .with_context(|| format!("{} / {} failed", system.name, workload.name()))?;
    let measurement = Measurement::new(system.name, workload, args.scale, &sample);
    println!("{}", serde_json::to_string(&measurement)?);
    Ok(())
}
