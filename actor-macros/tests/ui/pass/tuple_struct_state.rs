use cairn::{handlers, stateful_function, Context, StatefulFunction};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Add(u64);

#[stateful_function(name = "counter")]
#[derive(Default, Serialize, Deserialize)]
pub struct Counter(u64, Vec<u64>);

#[stateful_function(name = "unit")]
#[derive(Default, Serialize, Deserialize)]
pub struct Stateless;

#[handlers]
impl Counter {
    fn add(&mut self, _ctx: &mut Context, msg: Add) {
        self.0 += msg.0;
        self.1.push(msg.0);
    }
}

#[handlers]
impl Stateless {
    fn add(&self, ctx: &mut Context, msg: Add) {
        ctx.reply(msg.0);
    }
}

fn main() {
    assert_ne!(Counter::SCHEMA_HASH, Stateless::SCHEMA_HASH);
}
