//! The figures as a Markdown table, with each target and whether it is
//! met.

use std::time::Duration;

use crate::latency::Latency;
use crate::recovery::Recovery;
use crate::throughput::Throughput;

/// Everything one run measured.
pub(crate) struct Figures {
    pub(crate) latency: Latency,
    pub(crate) throughput: Throughput,
    pub(crate) recoveries: Vec<Recovery>,
    pub(crate) detection_bound: Duration,
}

/// Prints `figures` on stdout.
pub(crate) fn print(figures: &Figures) {
    let latency = &figures.latency;
    println!();
    println!(
        "Two member processes on loopback, {} shards, 64-byte payloads, epochs every 1 s",
        crate::member::SHARDS
    );
    println!();
    println!("| measurement | raw TCP | transport alone | Cairn | Cairn / raw | target | met |");
    println!("|---|---|---|---|---|---|---|");
    for (name, raw, transport, ask) in [
        (
            "ask round trip p50",
            latency.raw.0,
            latency.transport.0,
            latency.ask.0,
        ),
        (
            "ask round trip p99",
            latency.raw.1,
            latency.transport.1,
            latency.ask.1,
        ),
    ] {
        let ratio = ask / raw;
        println!(
            "| {name} ({} each) | {raw:.0} µs | {transport:.0} µs | {ask:.0} µs | {ratio:.2}× | ≤ 2× | {} |",
            latency.round_trips,
            met(ratio <= 2.0)
        );
    }
    let throughput = &figures.throughput;
    let (raw, tells) = (median(&throughput.raw), median(&throughput.tells));
    let ratio = tells / raw;
    println!(
        "| one-way tells, median of {} runs ({} M raw, {} M Cairn) | {} | – | {} | {ratio:.3}× | ≥ 0.5× | {} |",
        throughput.tells.len(),
        throughput.raw_messages as f64 / 1e6,
        throughput.messages as f64 / 1e6,
        rate(raw),
        rate(tells),
        met(ratio >= 0.5)
    );
    let local = median(&throughput.local);
    println!(
        "| one-way tells on one member, no network (reference), median of {} runs | {} | – | {} | {:.3}× | | |",
        throughput.local.len(),
        rate(raw),
        rate(local),
        local / raw,
    );
    println!(
        "  runs: raw {}; Cairn {}; one member {}",
        list(&throughput.raw),
        list(&throughput.tells),
        list(&throughput.local)
    );
    if figures.recoveries.is_empty() {
        return;
    }
    println!();
    let bound = figures.detection_bound;
    let target = bound + Duration::from_secs(2);
    println!(
        "Kill -9 of one of three members (not the coordinator), steady traffic; \
         failure-detection bound {}, target: serving within {}",
        secs(bound),
        secs(target)
    );
    println!();
    println!(
        "| run | declared dead | new generation runs | every killed shard answers | first commit after kill | serving − detection | met |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (run, recovery) in figures.recoveries.iter().enumerate() {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            run + 1,
            secs(recovery.detected),
            secs(recovery.reconfigured),
            secs(recovery.serving),
            secs(recovery.committed),
            secs(recovery.serving.saturating_sub(recovery.detected)),
            met(recovery.serving <= target)
        );
    }
}

fn met(yes: bool) -> &'static str {
    if yes {
        "yes"
    } else {
        "**no**"
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn rate(per_sec: f64) -> String {
    if per_sec >= 1e6 {
        format!("{:.2} M msgs/s", per_sec / 1e6)
    } else {
        format!("{:.0} K msgs/s", per_sec / 1e3)
    }
}

fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(|value| rate(*value))
        .collect::<Vec<_>>()
        .join(", ")
}

fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
