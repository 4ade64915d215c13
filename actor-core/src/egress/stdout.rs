//! An egress sink that prints JSON lines to standard output.

use std::io::Write;

use super::{EgressRecord, EgressSink};

/// Prints each record as one JSON line on standard output.
///
/// At-least-once by nature: standard output cannot be read back, so a record
/// offered again after an error, or again after a restart, is printed again.
/// Readers that need exactly-once deduplicate by the record's `key`.
#[derive(Debug, Default)]
pub struct StdoutSink;

impl StdoutSink {
    /// A sink printing to standard output.
    pub fn new() -> Self {
        Self
    }
}

impl EgressSink for StdoutSink {
    fn publish(&mut self, records: &[EgressRecord]) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        for record in records {
            out.write_all(record.to_json_line().as_bytes())?;
        }
        out.flush()
    }
}
