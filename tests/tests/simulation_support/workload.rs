//! The bank workload of the simulation: two files, deposits and
//! transfers, read as durable ingresses and paced so that they run through
//! the faults, with the balances they must lead to and the deposits each
//! snapshot must hold.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cairn::{Address, FileSource, Ingress, IngressSource, SplitReader, StoredCursor};
use cairn_tests::functions::{Account, Deposit, Transfer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The deposits ingress's name.
const DEPOSITS: &str = "deposits";
/// The transfers ingress's name.
const TRANSFERS: &str = "transfers";
/// Accounts in the bank.
pub(super) const ACCOUNTS: u64 = 32;
/// Deposits in their file.
const DEPOSIT_RECORDS: usize = 1_000;
/// Transfers in their file.
const TRANSFER_RECORDS: usize = 3_000;
/// Splits of each file (one per shard of the cluster).
const SPLITS: u32 = 8;

/// The files, what they lead to, and how fast they are read.
pub(super) struct Workload {
    /// Every balance once each record has taken effect exactly once.
    pub(super) expected: Vec<i64>,
    /// Each deposit line's first byte and amount.
    deposit_lines: Vec<(u64, i64)>,
    /// The deposits file's length.
    deposits_len: u64,
    deposits: FileSource,
    transfers: FileSource,
    /// Milliseconds each split waits before each record.
    pace: Arc<AtomicU64>,
}

impl Workload {
    /// Writes `seed`'s files into `dir`; each split reads a record every
    /// `pace` until [`Workload::unpace`].
    pub(super) fn write(dir: &Path, seed: u64, pace: Duration) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_ba4c);
        let mut expected = vec![0i64; ACCOUNTS as usize];
        let mut text = String::new();
        let mut deposit_lines = Vec::with_capacity(DEPOSIT_RECORDS);
        for _ in 0..DEPOSIT_RECORDS {
            let (account, amount) = (rng.random_range(0..ACCOUNTS), rng.random_range(1..=100));
            expected[account as usize] += amount;
            deposit_lines.push((text.len() as u64, amount));
            text.push_str(&format!("{account},{amount}\n"));
        }
        let deposits_path = dir.join("deposits.csv");
        std::fs::write(&deposits_path, &text).expect("write the deposits");
        let deposits_len = text.len() as u64;
        text.clear();
        for _ in 0..TRANSFER_RECORDS {
            let (from, to) = (rng.random_range(0..ACCOUNTS), rng.random_range(0..ACCOUNTS));
            let amount = rng.random_range(1..=50);
            expected[from as usize] -= amount;
            expected[to as usize] += amount;
            text.push_str(&format!("{from},{to},{amount}\n"));
        }
        let transfers_path = dir.join("transfers.csv");
        std::fs::write(&transfers_path, &text).expect("write the transfers");
        Self {
            expected,
            deposit_lines,
            deposits_len,
            deposits: FileSource::open(&deposits_path, SPLITS).expect("open the deposits"),
            transfers: FileSource::open(&transfers_path, SPLITS).expect("open the transfers"),
            pace: Arc::new(AtomicU64::new(pace.as_millis() as u64)),
        }
    }

    /// The ingresses every member is given.
    pub(super) fn ingresses(&self) -> [Ingress; 2] {
        let paced = |file: &FileSource| Paced {
            file: file.clone(),
            pace: self.pace.clone(),
        };
        [
            Ingress::new(DEPOSITS, paced(&self.deposits), |line: &[u8]| {
                let [account, amount] = numbers(line)?;
                Ok::<_, String>((Address::of::<Account>(account as u64), Deposit(amount)))
            }),
            Ingress::new(TRANSFERS, paced(&self.transfers), |line: &[u8]| {
                let [from, to, amount] = numbers(line)?;
                let transfer = Transfer {
                    to: to as u64,
                    amount,
                };
                Ok::<_, String>((Address::of::<Account>(from as u64), transfer))
            }),
        ]
    }

    /// Lets the rest of the files be read at full speed.
    pub(super) fn unpace(&self) {
        self.pace.store(0, Ordering::Relaxed);
    }

    /// Every deposit in the file.
    pub(super) fn total_deposits(&self) -> i64 {
        self.deposit_lines.iter().map(|(_, amount)| amount).sum()
    }

    /// The deposits that had entered at a snapshot whose splits were read
    /// up to `cursors`: a split's records are the lines that start in its
    /// byte range (as `FileSource` divides the file), and those before its
    /// offset have entered.
    pub(super) fn deposits_entered(&self, cursors: &[StoredCursor]) -> i64 {
        cursors
            .iter()
            .filter(|cursor| cursor.source == DEPOSITS)
            .map(|cursor| {
                let start = self.deposits_len * u64::from(cursor.split) / u64::from(SPLITS);
                let offset = cursor.offset.unwrap_or(start);
                self.deposit_lines
                    .iter()
                    .filter(|(line, _)| (start..offset).contains(line))
                    .map(|(_, amount)| amount)
                    .sum::<i64>()
            })
            .sum()
    }
}

/// A line of `N` comma-separated numbers.
fn numbers<const N: usize>(line: &[u8]) -> Result<[i64; N], String> {
    let text = std::str::from_utf8(line).map_err(|error| error.to_string())?;
    let fields: Vec<i64> = text
        .split(',')
        .map(|field| field.parse().map_err(|error| format!("{field:?}: {error}")))
        .collect::<Result<_, String>>()?;
    fields
        .try_into()
        .map_err(|fields: Vec<i64>| format!("{} fields, not {N}", fields.len()))
}

/// A file whose splits wait `pace` before each record.
struct Paced {
    file: FileSource,
    pace: Arc<AtomicU64>,
}

impl IngressSource for Paced {
    fn split_count(&self) -> u32 {
        self.file.split_count()
    }

    fn open(&self, split: u32, offset: Option<u64>) -> std::io::Result<Box<dyn SplitReader>> {
        Ok(Box::new(PacedSplit {
            inner: self.file.open(split, offset)?,
            pace: self.pace.clone(),
        }))
    }
}

struct PacedSplit {
    inner: Box<dyn SplitReader>,
    pace: Arc<AtomicU64>,
}

impl SplitReader for PacedSplit {
    fn next_record(&mut self) -> std::io::Result<Option<(Vec<u8>, u64)>> {
        let pace = self.pace.load(Ordering::Relaxed);
        if pace > 0 {
            // Readers run on threads of their own: sleeping blocks nothing else.
            std::thread::sleep(Duration::from_millis(pace));
        }
        self.inner.next_record()
    }
}
