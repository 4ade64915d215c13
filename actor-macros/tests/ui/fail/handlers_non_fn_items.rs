use cairn::{handlers, stateful_function, Context};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Debit {
    amount: i64,
}

macro_rules! helper_macro {
    () => {};
}

#[stateful_function]
#[derive(Default, Serialize, Deserialize)]
pub struct Account {
    balance: i64,
}

#[handlers]
impl Account {
    const LIMIT: i64 = 100;

    type Amount = i64;

    helper_macro!();

    fn debit(&mut self, _ctx: &mut Context, msg: Debit) {
        self.balance -= msg.amount;
    }
}

fn main() {}
