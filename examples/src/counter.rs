//! The smallest Cairn application: named counters that can be added to and
//! read.

use cairn::prelude::*;
use serde::{Deserialize, Serialize};

/// A counter: its state is one number.
#[stateful_function(name = "example/counter")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Counter {
    count: i64,
}

/// Adds `.0` to the counter.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Add(pub i64);

/// Asks for the counter's value; the reply is an `i64`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Get;

#[handlers]
impl Counter {
    fn add(&mut self, _ctx: &mut Context, msg: Add) {
        self.count += msg.0;
    }

    fn get(&self, ctx: &mut Context, _msg: Get) {
        ctx.reply(self.count);
    }
}

/// The address of the counter named `name`.
pub fn counter(name: &str) -> Address {
    Address::of::<Counter>(name)
}
