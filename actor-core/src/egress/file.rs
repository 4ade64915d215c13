//! An egress sink that appends JSON lines to a file, each record once.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{EgressKey, EgressRecord, EgressSink};
use crate::address::ShardId;

/// Appends each record as one JSON line (`{"key":…,"record":…}`) to a file,
/// creating it and its folder if needed. Each batch is written and synced
/// to disk (`fdatasync`) before `publish` returns.
///
/// Idempotent across restarts: a shard's records carry increasing sequence
/// numbers, so on opening the sink reads the highest sequence already in
/// the file for each shard and skips any record at or below it. Records a
/// recovery publishes again therefore appear once.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    writer: BufWriter<File>,
    /// The highest sequence number written for each shard.
    written: HashMap<ShardId, u64>,
}

/// The part of a line the sink reads back.
#[derive(Deserialize)]
struct WrittenLine {
    key: EgressKey,
}

impl FileSink {
    /// Opens `path` for appending, reading back which records it already
    /// holds. A torn last line (a write a crash cut short) is cut off; a bad
    /// line anywhere else is an error naming it, and the file is left alone.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let written = read_written(&path)?;
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Self {
            path,
            writer: BufWriter::new(file),
            written,
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads the highest sequence per shard. A last line without its newline is
/// a write a crash cut short: it is cut off (its record is sealed in a
/// committed snapshot and is published again on recovery). A bad line
/// anywhere else is an error naming it.
fn read_written(path: &Path) -> std::io::Result<HashMap<ShardId, u64>> {
    let mut written = HashMap::new();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(written),
        Err(error) => return Err(error),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut complete_len = 0u64;
    for number in 1.. {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            tracing::warn!(path = %path.display(), line = number, "cutting off a torn last egress line");
            OpenOptions::new()
                .write(true)
                .open(path)?
                .set_len(complete_len)?;
            break;
        }
        let parsed: WrittenLine = serde_json::from_slice(&line).map_err(|error| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}:{number}: not an egress record: {error}", path.display()),
            )
        })?;
        complete_len += read as u64;
        let highest = written.entry(parsed.key.shard).or_insert(0);
        *highest = (*highest).max(parsed.key.seq);
    }
    Ok(written)
}

impl EgressSink for FileSink {
    fn publish(&mut self, records: &[EgressRecord]) -> std::io::Result<()> {
        for record in records {
            let highest = self.written.entry(record.key.shard).or_insert(0);
            if record.key.seq <= *highest {
                continue;
            }
            self.writer.write_all(record.to_json_line().as_bytes())?;
            *highest = record.key.seq;
        }
        self.writer.flush()?;
        // Exactly-once egress stops sealing a record once its sink says it
        // is written: make that true across a power loss too.
        self.writer.get_ref().sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(shard: u32, seq: u64) -> EgressRecord {
        EgressRecord {
            sink: 0,
            key: EgressKey {
                epoch: 1,
                shard: ShardId(shard),
                seq,
            },
            record: format!("{{\"n\":{seq}}}"),
        }
    }

    fn lines(path: &Path) -> usize {
        std::fs::read_to_string(path).unwrap().lines().count()
    }

    #[test]
    fn records_already_in_the_file_are_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/records.jsonl");
        let mut sink = FileSink::open(&path).unwrap();
        sink.publish(&[record(0, 1), record(0, 2), record(1, 1)])
            .unwrap();
        sink.publish(&[record(0, 2)]).unwrap();
        drop(sink);
        assert_eq!(lines(&path), 3);

        let mut reopened = FileSink::open(&path).unwrap();
        reopened
            .publish(&[
                record(0, 1),
                record(0, 2),
                record(0, 3),
                record(1, 1),
                record(1, 2),
            ])
            .unwrap();
        assert_eq!(lines(&path), 5, "only (0,3) and (1,2) are new");
    }

    #[test]
    fn a_torn_last_line_is_cut_off_and_a_bad_middle_line_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let good = "{\"key\":{\"epoch\":1,\"shard\":0,\"seq\":1},\"record\":1}\n";
        std::fs::write(&path, format!("{good}{{\"key\":{{\"ep")).unwrap();
        let mut sink = FileSink::open(&path).unwrap();
        sink.publish(&[record(0, 1), record(0, 2)]).unwrap();
        assert_eq!(lines(&path), 2, "the torn tail is gone, (0,2) appended");

        std::fs::write(&path, format!("garbage\n{good}")).unwrap();
        let error = FileSink::open(&path).unwrap_err();
        assert!(error.to_string().contains("records.jsonl:1"), "{error}");
    }
}
