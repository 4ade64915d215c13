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
    #[message]
    fn debit(&mut self, _ctx: &mut Context, msg: Debit) {
        self.balance -= msg.amount;
    }

    #[message = "credit"]
    fn credit(&mut self, _ctx: &mut Context, msg: u64) {
        self.balance += msg as i64;
    }

    #[message()]
    fn reset(&mut self, _ctx: &mut Context, _msg: u32) {
        self.balance = 0;
    }

    #[message(name = "a")]
    #[message(name = "b")]
    fn set(&mut self, _ctx: &mut Context, msg: i32) {
        self.balance = msg.into();
    }
}

fn main() {}
