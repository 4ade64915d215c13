use cairn::{handlers, stateful_function, Context, Handlers};
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
    /// Docs and other attributes stay on the method.
    #[message(name = "account.debit")]
    #[inline]
    fn debit(&mut self, _ctx: &mut Context, msg: Debit) {
        self.balance -= msg.amount;
    }

    #[message(name = "pair")]
    fn pair(&mut self, _ctx: &mut Context, msg: (i64, i64)) {
        self.balance += msg.0 * msg.1;
    }
}

fn main() {
    let names: Vec<_> = Account::message_types().iter().map(|m| m.name()).collect();
    assert_eq!(names, ["account.debit", "pair"]);
}
