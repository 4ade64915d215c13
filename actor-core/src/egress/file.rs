//! An egress sink that appends JSON lines to a file.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{EgressRecord, EgressSink};

/// Appends each record as one JSON line (`{"key":…,"record":…}`) to a file,
/// creating it and its folder if needed. Each batch is flushed to the
/// operating system before `publish` returns.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    writer: BufWriter<File>,
}

impl FileSink {
    /// Opens `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Self {
            path,
            writer: BufWriter::new(file),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl EgressSink for FileSink {
    fn publish(&mut self, records: &[EgressRecord]) -> std::io::Result<()> {
        for record in records {
            self.writer.write_all(record.to_json_line().as_bytes())?;
        }
        self.writer.flush()
    }
}
