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
    fn no_receiver(_ctx: &mut Context, _msg: Debit) {}

    fn by_value(self, _ctx: &mut Context, _msg: u64) {}

    fn boxed(self: Box<Self>, _ctx: &mut Context, _msg: u32) {}
}

fn main() {}
