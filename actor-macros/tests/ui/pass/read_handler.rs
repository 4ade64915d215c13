use cairn::{handlers, stateful_function, Context, Handlers};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct GetBalance;

#[stateful_function]
#[derive(Default, Serialize, Deserialize)]
pub struct Account {
    balance: i64,
}

#[handlers]
impl Account {
    fn balance(&self, ctx: &mut cairn::Context<'_>, _msg: GetBalance) {
        ctx.reply(self.balance);
    }

    fn explicit(self: &Self, ctx: &mut Context, msg: u64) {
        ctx.reply(self.balance + msg as i64);
    }
}

fn main() {
    let names: Vec<_> = Account::message_types().iter().map(|m| m.name()).collect();
    assert_eq!(names, ["GetBalance", "u64"]);
}
