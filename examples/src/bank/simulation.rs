//! Random transfers sent in process, checked against balances computed
//! from the same plan.

use anyhow::{ensure, Context as _};
use cairn::Node;

use super::{account, Debit, Deposit, GetBalance};
use crate::Rng;

/// One planned transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// The transfer's id, its index in the plan.
    pub id: u64,
    /// The source account.
    pub from: u64,
    /// The target account.
    pub to: u64,
    /// The amount moved, at least 1.
    pub amount: i64,
}

/// The parameters of a simulated run: accounts `0..accounts`, each opened
/// with `initial_balance`, then `transfers` random transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Simulation {
    /// How many accounts.
    pub accounts: u64,
    /// How many transfers.
    pub transfers: u64,
    /// Every account's opening balance.
    pub initial_balance: i64,
    /// The largest amount of one transfer.
    pub max_amount: i64,
    /// The PRNG seed the transfers are drawn from.
    pub seed: u64,
}

impl Simulation {
    /// The transfers of this run, the same for the same parameters. The
    /// source and target differ whenever there are two accounts or more.
    pub fn plan(&self) -> Vec<Transfer> {
        let mut rng = Rng::new(self.seed);
        (0..self.transfers)
            .map(|id| {
                let from = rng.below(self.accounts);
                let mut to = rng.below(self.accounts);
                if to == from && self.accounts > 1 {
                    to = (to + 1 + rng.below(self.accounts - 1)) % self.accounts;
                }
                let amount = rng.between(1, self.max_amount.max(1));
                Transfer {
                    id,
                    from,
                    to,
                    amount,
                }
            })
            .collect()
    }

    /// The balances the accounts must end with, computed straight from the
    /// plan.
    pub fn expected_balances(&self, plan: &[Transfer]) -> Vec<i64> {
        let mut balances = vec![self.initial_balance; self.accounts as usize];
        for transfer in plan {
            balances[transfer.from as usize] -= transfer.amount;
            balances[transfer.to as usize] += transfer.amount;
        }
        balances
    }

    /// The money in the bank, which transfers conserve.
    pub fn expected_total(&self) -> i64 {
        self.initial_balance * self.accounts as i64
    }

    /// Opens the accounts, sends the planned transfers, waits until every
    /// one has completed, and reads every balance back.
    pub async fn run(&self, node: &Node) -> anyhow::Result<Outcome> {
        let plan = self.plan();
        for id in 0..self.accounts {
            node.send(
                account(id),
                Deposit {
                    amount: self.initial_balance,
                },
            )?;
        }
        for transfer in &plan {
            let debit = Debit {
                transfer: transfer.id,
                to: transfer.to,
                amount: transfer.amount,
            };
            node.send(account(transfer.from), debit)?;
        }
        node.flush().await?;
        let mut balances = Vec::with_capacity(self.accounts as usize);
        for id in 0..self.accounts {
            let balance: i64 = node
                .ask(account(id), GetBalance)
                .await
                .with_context(|| format!("reading the balance of account {id}"))?;
            balances.push(balance);
        }
        Ok(Outcome {
            expected: self.expected_balances(&plan),
            expected_total: self.expected_total(),
            balances,
        })
    }
}

/// What a simulated run ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Every account's balance as read back, by account id.
    pub balances: Vec<i64>,
    /// The balances computed from the plan.
    pub expected: Vec<i64>,
    /// The money the bank started with.
    pub expected_total: i64,
}

impl Outcome {
    /// The sum of the balances read back.
    pub fn total(&self) -> i64 {
        self.balances.iter().sum()
    }

    /// Fails unless money was conserved and every balance is the expected one.
    pub fn check(&self) -> anyhow::Result<()> {
        ensure!(
            self.total() == self.expected_total,
            "the total is {}, not the {} the bank started with",
            self.total(),
            self.expected_total
        );
        let wrong: Vec<String> = self
            .balances
            .iter()
            .zip(&self.expected)
            .enumerate()
            .filter(|(_, (got, want))| got != want)
            .map(|(id, (got, want))| format!("account {id}: {got}, expected {want}"))
            .collect();
        ensure!(
            wrong.is_empty(),
            "{} balance(s) differ: {}",
            wrong.len(),
            wrong.join("; ")
        );
        Ok(())
    }
}
