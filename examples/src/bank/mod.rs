//! Bank transfers: accounts, and a transfer as a debit that sends a credit.
//!
//! A transfer is a [`Debit`] sent to the source account, which takes the
//! amount off its balance and sends a [`Credit`] to the target account. No
//! transfer is refused, so balances may go negative: the final balances are
//! then the same whatever order the transfers interleave in, and a run can be
//! checked exactly against balances computed straight from the transfer list.
//! Each credit emits a [`TransferRecord`] to the egress named
//! [`TRANSFERS_EGRESS`], if the node has one.
//!
//! Two ways to drive it: [`Simulation`] sends random transfers in process;
//! [`TransferFile`] reads them from a CSV file as a durable ingress, for
//! runs that survive crashes: one process that ends when the file is done
//! ([`batch`]), or a node that serves, alone or in a cluster ([`node`]).
//! Both pin their [`BankParameters`] in the store, and [`balances`] reads
//! the result back from it.
//!
//! # Layout
//! - `simulation`: random transfers sent in process, checked exactly.
//! - `transfers`: the transfers file, checked, as a durable ingress.
//! - `ledger`: the parameters pinned in the store, and the balances read
//!   back from its latest committed epoch.
//! - [`batch`]: `bank run`, a crash-safe run over the file.
//! - [`node`]: `bank node`, a node serving the file alone or as a member.

pub mod batch;
mod ledger;
pub mod node;
mod simulation;
mod transfers;

pub use ledger::{balances, BankParameters};
pub use simulation::{Outcome, Simulation, Transfer};
pub use transfers::{TransferFile, TransferLineError, TRANSFERS_INGRESS};

use cairn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::egress::emit_optional;

/// The egress completed transfers are emitted to.
pub const TRANSFERS_EGRESS: &str = "transfers";

/// A bank account, identified by a number.
#[stateful_function(name = "bank/account")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Account {
    /// Deposits plus transfers in, minus transfers out. A [`Simulation`]
    /// deposits the opening balance; a [`batch`] run keeps the opening
    /// balance in the store's parameters and adds it when it reports.
    balance: i64,
    debits: u64,
    credits: u64,
}

/// Puts money into an account from outside the bank.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Deposit {
    /// The amount deposited.
    pub amount: i64,
}

/// The first half of a transfer, sent to the source account.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Debit {
    /// The transfer's id.
    pub transfer: u64,
    /// The target account.
    pub to: u64,
    /// The amount moved.
    pub amount: i64,
}

/// The second half of a transfer, sent by the source account to the target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credit {
    /// The transfer's id.
    pub transfer: u64,
    /// The source account.
    pub from: ActorId,
    /// The amount moved.
    pub amount: i64,
}

/// Asks for an account's balance; the reply is an `i64`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GetBalance;

/// A completed transfer, as emitted to the [`TRANSFERS_EGRESS`] egress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRecord {
    /// The transfer's id.
    pub transfer: u64,
    /// The source account.
    pub from: ActorId,
    /// The target account.
    pub to: ActorId,
    /// The amount moved.
    pub amount: i64,
}

#[handlers]
impl Account {
    fn deposit(&mut self, _ctx: &mut Context, msg: Deposit) {
        self.balance += msg.amount;
    }

    fn debit(&mut self, ctx: &mut Context, msg: Debit) {
        self.balance -= msg.amount;
        self.debits += 1;
        let credit = Credit {
            transfer: msg.transfer,
            from: ctx.self_address().id().clone(),
            amount: msg.amount,
        };
        ctx.send(account(msg.to), credit);
    }

    fn credit(&mut self, ctx: &mut Context, msg: Credit) {
        self.balance += msg.amount;
        self.credits += 1;
        let record = TransferRecord {
            transfer: msg.transfer,
            from: msg.from,
            to: ctx.self_address().id().clone(),
            amount: msg.amount,
        };
        emit_optional(ctx, TRANSFERS_EGRESS, &record);
    }

    fn report_balance(&self, ctx: &mut Context, _msg: GetBalance) {
        ctx.reply(self.balance);
    }
}

impl Account {
    /// Deposits plus transfers in, minus transfers out.
    pub fn balance(&self) -> i64 {
        self.balance
    }
}

/// The address of account `id`.
pub fn account(id: u64) -> Address {
    Address::of::<Account>(id)
}
