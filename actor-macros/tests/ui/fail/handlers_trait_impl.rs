use cairn::{handlers, stateful_function};
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
impl Clone for Account {
    fn clone(&self) -> Self {
        Account {
            balance: self.balance,
        }
    }
}

fn main() {}
