use cairn::{handlers, stateful_function, Context};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Debit {
    amount: i64,
}

mod legacy {
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct Debit {
        pub cents: i64,
    }
}

#[stateful_function]
#[derive(Default, Serialize, Deserialize)]
pub struct Account {
    balance: i64,
}

#[handlers]
impl Account {
    fn debit(&mut self, _ctx: &mut Context, msg: Debit) {
        self.balance -= msg.amount;
    }

    fn legacy_debit(&mut self, _ctx: &mut Context, msg: legacy::Debit) {
        self.balance -= msg.cents / 100;
    }

    #[message(name = "Debit")]
    fn named_debit(&mut self, _ctx: &mut Context, msg: i64) {
        self.balance -= msg;
    }
}

fn main() {}
