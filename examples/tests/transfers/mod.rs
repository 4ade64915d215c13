//! The bank's input and output as scripts see them: a transfers file with
//! the balances it leads to, and the `ACCOUNT BALANCE` lines that
//! `bank balances` prints.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;

use cairn_examples::Rng;

/// Writes a transfers file of `count` random transfers between `accounts`
/// accounts, drawn from `seed`, and returns the balances it leads to when
/// every account opens with `initial`.
pub fn write_transfers(
    path: &Path,
    count: u64,
    accounts: u64,
    initial: i64,
    seed: u64,
) -> Vec<i64> {
    let mut rng = Rng::new(seed);
    let mut balances = vec![initial; accounts as usize];
    let mut text = String::with_capacity(count as usize * 16);
    for id in 0..count {
        let (from, to, amount) = (rng.below(accounts), rng.below(accounts), rng.between(0, 99));
        text.push_str(&format!("{id},{from},{to},{amount}\n"));
        balances[from as usize] -= amount;
        balances[to as usize] += amount;
    }
    std::fs::write(path, text).unwrap();
    balances
}

/// The balances in `bank balances`' output, which must list accounts
/// `0, 1, 2, …` in order, one `ACCOUNT BALANCE` line each.
pub fn parse_balances(stdout: &str) -> Result<Vec<i64>, String> {
    stdout
        .lines()
        .enumerate()
        .map(|(index, line)| {
            let (account, balance) = line
                .split_once(' ')
                .ok_or_else(|| format!("not `ACCOUNT BALANCE`: {line:?}"))?;
            if account != index.to_string() {
                return Err(format!(
                    "line {}: accounts ascend from 0: {line:?}",
                    index + 1
                ));
            }
            balance
                .parse()
                .map_err(|_| format!("not a balance: {line:?}"))
        })
        .collect()
}

/// The accounts whose balance differs, as `(account, got, want)`, at most
/// `limit` of them; a length mismatch counts as a difference of its own.
pub fn differences(got: &[i64], want: &[i64], limit: usize) -> Vec<String> {
    let mut wrong: Vec<String> = got
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (got, want))| got != want)
        .take(limit)
        .map(|(account, (got, want))| format!("account {account}: {got}, expected {want}"))
        .collect();
    if got.len() != want.len() {
        wrong.push(format!("{} accounts, expected {}", got.len(), want.len()));
    }
    wrong
}
