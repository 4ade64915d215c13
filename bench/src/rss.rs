//! Resident-memory probes read from `/proc/self/status` (Linux).

use anyhow::{bail, Context, Result};

/// Peak-RSS growth over a span in which actors were created.
#[derive(Clone, Debug)]
pub(crate) struct MemoryDelta {
    /// `VmRSS` when the probe started, in bytes.
    pub(crate) rss_before: u64,
    /// `VmHWM` when the probe finished, in bytes.
    pub(crate) peak_rss: u64,
    /// `(peak_rss - rss_before) / actors`.
    pub(crate) bytes_per_actor: f64,
}

/// Measures how far peak RSS rises above the current RSS.
#[derive(Debug)]
pub(crate) struct RssProbe {
    rss_before: u64,
}

impl RssProbe {
    /// Resets the kernel's peak-RSS mark (where allowed) and records `VmRSS`.
    pub(crate) fn start() -> Result<Self> {
        // Writing 5 to clear_refs resets VmHWM to the current RSS. It is a
        // refinement only: without it the baseline is still the current RSS,
        // and a fresh child process has had no earlier peak worth mentioning.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        Ok(Self {
            rss_before: status_bytes("VmRSS")?,
        })
    }

    /// Reads `VmHWM` and divides its growth by `actors`.
    pub(crate) fn finish(&self, actors: u64) -> Result<MemoryDelta> {
        let peak_rss = status_bytes("VmHWM")?;
        Ok(MemoryDelta {
            rss_before: self.rss_before,
            peak_rss,
            bytes_per_actor: peak_rss.saturating_sub(self.rss_before) as f64 / actors.max(1) as f64,
        })
    }
}

/// Reads one `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix(field).and_then(|r| r.strip_prefix(':')) {
            let kib: u64 = rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .with_context(|| format!("parsing {field} in /proc/self/status"))?;
            return Ok(kib * 1024);
        }
    }
    bail!("{field} missing from /proc/self/status")
}
