use cairn::{handlers, stateful_function, Context};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Debit {
    amount: i64,
}

#[stateful_function]
#[derive(Default, Serialize, Deserialize)]
pub struct Account {
    balance: i64,
}

#[handlers]
impl Account {
    fn no_context(&mut self, msg: Debit) {
        self.balance -= msg.amount;
    }

    fn two_messages(&mut self, _ctx: &mut Context, first: u64, second: u64) {
        self.balance += (first + second) as i64;
    }
}

fn main() {}
