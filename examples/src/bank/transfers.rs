//! A file of transfers, one CSV line `id,from,to,amount` each, read as a
//! durable ingress.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cairn::{FileSource, Ingress};

use super::{account, Debit};

/// The name of the transfers ingress; its offsets are found by it.
pub const TRANSFERS_INGRESS: &str = "transfers";

/// Why a line is not a transfer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct TransferLineError {
    /// The 1-based line number, or 0 when not known (inside the ingress).
    pub line: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// One transfer as a line holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line {
    id: u64,
    from: u64,
    to: u64,
    amount: i64,
}

/// Parses `id,from,to,amount`: non-negative integers, accounts below
/// `accounts`.
fn parse(record: &[u8], accounts: u64) -> Result<Line, String> {
    let text = std::str::from_utf8(record).map_err(|_| "not UTF-8".to_owned())?;
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    let [id, from, to, amount] = fields[..] else {
        return Err(format!(
            "expected 4 fields `id,from,to,amount`, found {}",
            fields.len()
        ));
    };
    let number = |name: &str, field: &str| {
        field
            .parse::<u64>()
            .map_err(|_| format!("{name} {field:?} is not a non-negative integer"))
    };
    let (id, from, to) = (number("id", id)?, number("from", from)?, number("to", to)?);
    let amount = i64::try_from(number("amount", amount)?)
        .map_err(|_| format!("amount {amount} is too large"))?;
    for (name, account) in [("from", from), ("to", to)] {
        if account >= accounts {
            return Err(format!(
                "{name} account {account} is not below --accounts {accounts}"
            ));
        }
    }
    Ok(Line {
        id,
        from,
        to,
        amount,
    })
}

/// A transfers file, checked line by line before it is read as an ingress.
#[derive(Debug, Clone)]
pub struct TransferFile {
    path: PathBuf,
    accounts: u64,
    /// The balance changes the file makes, by account.
    net: Vec<i64>,
    /// The file's length in bytes, pinned in the store with the parameters:
    /// offsets into another file would be meaningless.
    len: u64,
}

impl TransferFile {
    /// Reads and checks every line of `path` for `accounts` accounts. Empty
    /// lines are skipped; any other line that is not a transfer is an error
    /// naming it, and nothing is run.
    pub fn check(path: &Path, accounts: u64) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("reading the transfers file {}", path.display()))?;
        let mut net = vec![0i64; accounts as usize];
        for (index, line) in bytes.split(|&byte| byte == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let transfer = parse(line, accounts).map_err(|reason| TransferLineError {
                line: index as u64 + 1,
                reason,
            });
            let transfer =
                transfer.with_context(|| format!("in the transfers file {}", path.display()))?;
            net[transfer.from as usize] -= transfer.amount;
            net[transfer.to as usize] += transfer.amount;
        }
        Ok(Self {
            path: path.to_path_buf(),
            accounts,
            net,
            len: bytes.len() as u64,
        })
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The balances the accounts end with once every transfer is done, each
    /// opened with `initial_balance`.
    pub fn expected_balances(&self, initial_balance: i64) -> Vec<i64> {
        self.net.iter().map(|net| initial_balance + net).collect()
    }

    /// The file as a durable ingress of `splits` splits: each line becomes a
    /// [`Debit`] of its source account.
    pub fn ingress(&self, splits: u32) -> anyhow::Result<Ingress> {
        let source = FileSource::open(&self.path, splits)
            .with_context(|| format!("opening the transfers file {}", self.path.display()))?;
        let accounts = self.accounts;
        Ok(Ingress::new(TRANSFERS_INGRESS, source, move |record| {
            parse(record, accounts).map(|line| {
                let debit = Debit {
                    transfer: line.id,
                    to: line.to,
                    amount: line.amount,
                };
                (account(line.from), debit)
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_into_transfers() {
        assert_eq!(
            parse(b"7, 1,2,30", 3),
            Ok(Line {
                id: 7,
                from: 1,
                to: 2,
                amount: 30
            })
        );
        for bad in [
            &b"1,2,3"[..],
            b"1,2,3,4,5",
            b"x,1,2,3",
            b"1,-1,2,3",
            b"1,1,2,-3",
            b"1,1,3,3",
            b"1,1,2,99999999999999999999",
            b"\xff,1,2,3",
        ] {
            assert!(parse(bad, 3).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_bad_line_is_named_and_balances_come_from_the_good_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("transfers.csv");
        std::fs::write(&path, "0,0,1,5\n\n1,1,2,7\r\n").unwrap();
        let file = TransferFile::check(&path, 3).unwrap();
        assert_eq!(file.expected_balances(10), vec![5, 8, 17]);
        std::fs::write(&path, "0,0,1,5\n1,1,5,7\n").unwrap();
        let error = format!("{:#}", TransferFile::check(&path, 3).unwrap_err());
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("not below --accounts 3"), "{error}");
    }
}
