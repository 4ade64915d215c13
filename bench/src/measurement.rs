//! What a system returns ([`Sample`]) and what the harness reports ([`Measurement`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{rss::MemoryDelta, workloads::ask::LatencySummary, workloads::Workload};

/// The raw result of one workload run, as a system module reports it.
#[derive(Debug)]
pub(crate) struct Sample {
    /// Messages (or activations, or asks) completed in `elapsed`.
    pub(crate) messages: u64,
    /// The timed span.
    pub(crate) elapsed: Duration,
    /// Peak-RSS growth while creating actors (`activate` only).
    pub(crate) memory: Option<MemoryDelta>,
    /// Per-request latency figures (`ask` only).
    pub(crate) latency: Option<LatencySummary>,
}

impl Sample {
    /// A plain throughput sample.
    pub(crate) fn throughput(messages: u64, elapsed: Duration) -> Self {
        Self {
            messages,
            elapsed,
            memory: None,
            latency: None,
        }
    }

    /// Adds the memory figures of an `activate` run.
    pub(crate) fn with_memory(mut self, memory: MemoryDelta) -> Self {
        self.memory = Some(memory);
        self
    }

    /// Adds the latency figures of an `ask` run.
    pub(crate) fn with_latency(mut self, latency: LatencySummary) -> Self {
        self.latency = Some(latency);
        self
    }
}

/// One reported result: a child's single run, or the parent's median of several.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Measurement {
    /// The system measured (`cairn`, `actix`, `ractor`, `kameo`, `tokio-mpsc`).
    pub(crate) system: String,
    /// The workload name.
    pub(crate) workload: String,
    /// The `--scale` the counts were multiplied by.
    pub(crate) scale: f64,
    /// Runs this figure is the median of (1 for a child's own line).
    pub(crate) runs: u32,
    /// Messages, activations or asks completed.
    pub(crate) messages: u64,
    /// The timed span in seconds.
    pub(crate) seconds: f64,
    /// `messages / seconds` (activations/s for `activate`, asks/s for `ask`).
    pub(crate) msgs_per_sec: f64,
    /// `activate`: peak-RSS growth divided by the number of actors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bytes_per_actor: Option<f64>,
    /// `activate`: resident set size before the actors were created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rss_before_bytes: Option<u64>,
    /// `activate`: peak resident set size once every actor handled its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) peak_rss_bytes: Option<u64>,
    /// `ask`: mean round-trip latency (span / asks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mean_ns: Option<f64>,
    /// `ask`: median round-trip latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) p50_ns: Option<u64>,
    /// `ask`: 99th-percentile round-trip latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) p99_ns: Option<u64>,
}

impl Measurement {
    /// Turns a system's sample into a reportable measurement.
    pub(crate) fn new(system: &str, workload: Workload, scale: f64, sample: &Sample) -> Self {
        let seconds = sample.elapsed.as_secs_f64();
        Self {
            system: system.to_owned(),
            workload: workload.name().to_owned(),
            scale,
            runs: 1,
            messages: sample.messages,
            seconds,
            msgs_per_sec: sample.messages as f64 / seconds.max(f64::MIN_POSITIVE),
            bytes_per_actor: sample.memory.as_ref().map(|m| m.bytes_per_actor),
            rss_before_bytes: sample.memory.as_ref().map(|m| m.rss_before),
            peak_rss_bytes: sample.memory.as_ref().map(|m| m.peak_rss),
            mean_ns: sample.latency.as_ref().map(|l| l.mean_ns),
            p50_ns: sample.latency.as_ref().map(|l| l.p50_ns),
            p99_ns: sample.latency.as_ref().map(|l| l.p99_ns),
        }
    }
}
