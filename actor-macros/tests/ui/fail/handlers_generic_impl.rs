use cairn::{handlers, Context};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Debit {
    amount: i64,
}

#[derive(Default, Serialize, Deserialize)]
pub struct Account<T> {
    balance: T,
}

#[handlers]
impl<T> Account<T> {
    fn debit(&mut self, _ctx: &mut Context, _msg: Debit) {}
}

fn main() {}
