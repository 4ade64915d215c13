use cairn::{handlers, stateful_function, Context, StatefulFunction};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Debit {
    amount: i64,
}

#[stateful_function(name = "bank/account")]
#[derive(Default, Serialize, Deserialize)]
pub struct Account {
    balance: i64,
}

#[handlers]
impl Account {
    fn debit(&mut self, _ctx: &mut Context, msg: Debit) {
        self.balance -= msg.amount;
    }
}

fn main() {
    assert_eq!(Account::TYPE_NAME, "bank/account");
    assert_eq!(Account::function_type().name(), "bank/account");
}
