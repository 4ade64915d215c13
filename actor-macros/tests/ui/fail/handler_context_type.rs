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
    fn shared(&mut self, _ctx: &Context, msg: Debit) {
        self.balance -= msg.amount;
    }

    fn message_first(&mut self, msg: u64, _ctx: &mut Context) {
        self.balance += msg as i64;
    }
}

fn main() {}
