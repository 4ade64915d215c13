use cairn::{handlers, Context};

#[handlers]
fn debit(_ctx: &mut Context, _amount: i64) {}

fn main() {}
