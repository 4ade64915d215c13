//! A file read as a durable source: one record per line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{IngressSource, SplitReader};

/// A file with one record per line, divided into splits of about equal byte
/// ranges. A line belongs to the split its first byte falls in; empty lines
/// are skipped, a trailing `\r` is cut off, and a last line without a
/// newline is a record. Offsets are byte positions, so the file must not
/// change while a store refers to it.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
    splits: u32,
    len: u64,
}

impl FileSource {
    /// The file at `path`, read as `splits` splits (at least 1). Fails if the
    /// file cannot be opened.
    pub fn open(path: impl AsRef<Path>, splits: u32) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let len = File::open(&path)?.metadata()?.len();
        Ok(Self {
            path,
            splits: splits.max(1),
            len,
        })
    }

    /// The byte range `[start, end)` in which split `split`'s lines start.
    fn range(&self, split: u32) -> (u64, u64) {
        let at = |split: u32| {
            (u128::from(self.len) * u128::from(split) / u128::from(self.splits)) as u64
        };
        (at(split), at(split + 1))
    }
}

impl IngressSource for FileSource {
    fn split_count(&self) -> u32 {
        self.splits
    }

    fn open(&self, split: u32, offset: Option<u64>) -> io::Result<Box<dyn SplitReader>> {
        if split >= self.splits {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("split {split} of a file read as {} splits", self.splits),
            ));
        }
        let (start, end) = self.range(split);
        let mut file = BufReader::with_capacity(64 * 1024, File::open(&self.path)?);
        let position = match offset {
            Some(offset) => {
                file.seek(SeekFrom::Start(offset))?;
                offset
            }
            // The first line of a split is the first that starts at or after
            // its start: the one running across it belongs to the split
            // before.
            None if start == 0 => 0,
            None => {
                file.seek(SeekFrom::Start(start - 1))?;
                let mut partial = Vec::new();
                start - 1 + file.read_until(b'\n', &mut partial)? as u64
            }
        };
        Ok(Box::new(FileSplit {
            file,
            position,
            end,
            line: Vec::new(),
        }))
    }
}

/// One split of a [`FileSource`] being read.
struct FileSplit {
    file: BufReader<File>,
    /// Where the next line starts.
    position: u64,
    /// Lines starting here or later belong to the next split.
    end: u64,
    line: Vec<u8>,
}

impl SplitReader for FileSplit {
    fn next_record(&mut self) -> io::Result<Option<(Vec<u8>, u64)>> {
        loop {
            if self.position >= self.end {
                return Ok(None);
            }
            self.line.clear();
            let read = self.file.read_until(b'\n', &mut self.line)?;
            if read == 0 {
                return Ok(None);
            }
            self.position += read as u64;
            let mut record = self.line.as_slice();
            record = record.strip_suffix(b"\n").unwrap_or(record);
            record = record.strip_suffix(b"\r").unwrap_or(record);
            if !record.is_empty() {
                return Ok(Some((record.to_vec(), self.position)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;

    fn read_all(source: &FileSource, split: u32, offset: Option<u64>) -> Vec<(Vec<u8>, u64)> {
        let mut reader = source.open(split, offset).unwrap();
        let mut records = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            records.push(record);
        }
        records
    }

    fn file_with(contents: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(contents).unwrap();
        file
    }

    #[test]
    fn lines_are_records_and_offsets_point_past_them() {
        let file = file_with(b"a,1\r\n\nbb,2\nccc");
        let source = FileSource::open(file.path(), 1).unwrap();
        let records = read_all(&source, 0, None);
        assert_eq!(
            records,
            vec![
                (b"a,1".to_vec(), 5),
                (b"bb,2".to_vec(), 11),
                (b"ccc".to_vec(), 14)
            ]
        );
        assert_eq!(read_all(&source, 0, Some(11)), vec![(b"ccc".to_vec(), 14)]);
        assert_eq!(read_all(&source, 0, Some(14)), vec![]);
    }

    #[test]
    fn a_split_past_the_count_is_refused() {
        let file = file_with(b"x\n");
        let source = FileSource::open(file.path(), 2).unwrap();
        assert!(source.open(2, None).is_err());
    }

    proptest! {
        /// Whatever the line lengths and the split count, the splits
        /// together yield every line exactly once, in file order, and
        /// resuming any split at any returned offset yields the rest of it.
        #[test]
        fn splits_partition_the_lines(
            lines in prop::collection::vec("[a-z0-9,]{1,12}", 0..60),
            splits in 1u32..9,
            resume_at in 0usize..60,
        ) {
            let mut contents = lines.join("\n").into_bytes();
            if !lines.is_empty() && resume_at % 2 == 0 {
                contents.push(b'\n');
            }
            let file = file_with(&contents);
            let source = FileSource::open(file.path(), splits).unwrap();
            let mut all = Vec::new();
            for split in 0..splits {
                let records = read_all(&source, split, None);
                if let Some((_, offset)) = records.get(resume_at % records.len().max(1)) {
                    let rest: Vec<_> = records.iter().skip_while(|(_, o)| o <= offset).cloned().collect();
                    prop_assert_eq!(read_all(&source, split, Some(*offset)), rest);
                }
                all.extend(records.into_iter().map(|(record, _)| String::from_utf8(record).unwrap()));
            }
            prop_assert_eq!(all, lines);
        }
    }
}
