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
    fn debit<M: Into<i64>>(&mut self, _ctx: &mut Context, msg: M) {
        self.balance -= msg.into();
    }

    fn credit(&mut self, _ctx: &mut Context, msg: impl Into<i64>) {
        self.balance += msg.into();
    }
}

fn main() {}
