//! Human-readable output: one-line summaries and the aligned table.

use crate::measurement::Measurement;

/// A one-line summary of a run, for progress output on stderr.
pub(crate) fn summary(m: &Measurement) -> String {
    let mut line = format!(
        "{} msgs in {:.3} s = {}/s",
        m.messages,
        m.seconds,
        grouped(m.msgs_per_sec)
    );
    if let Some(bytes) = m.bytes_per_actor {
        line.push_str(&format!(", {bytes:.0} B/actor"));
    }
    if let Some(mean) = m.mean_ns {
        line.push_str(&format!(", mean {mean:.0} ns"));
    }
    line
}

/// Prints the measurements as an aligned table on stdout.
pub(crate) fn print_table(results: &[Measurement]) {
    let header = [
        "system",
        "workload",
        "messages",
        "seconds",
        "msgs/s",
        "bytes/actor",
        "mean ns",
        "p50 ns",
        "p99 ns",
    ];
    let rows: Vec<[String; 9]> = results.iter().map(row).collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let render = |cells: &[&str]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                if i < 2 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        parts.join("  ")
    };
    println!("{}", render(&header));
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        println!("{}", render(&cells));
    }
}

/// The table cells of one measurement.
fn row(m: &Measurement) -> [String; 9] {
    let optional = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), grouped);
    [
        m.system.clone(),
        m.workload.clone(),
        grouped(m.messages as f64),
        format!("{:.3}", m.seconds),
        grouped(m.msgs_per_sec),
        optional(m.bytes_per_actor),
        optional(m.mean_ns),
        optional(m.p50_ns.map(|v| v as f64)),
        optional(m.p99_ns.map(|v| v as f64)),
    ]
}

/// Rounds to an integer and groups digits by thousands: `1234567.8` -> `1,234,568`.
fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(0.4), "0");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1_234_567.8), "1,234,568");
    }
}
