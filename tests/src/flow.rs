//! Functions for the flow-control tests: a producer that sends in chunks,
//! one chunk per handler call, a consumer slower than it, and bouncers
//! that pass balls back and forth.

use std::time::{Duration, Instant};

use cairn::prelude::*;
use cairn::{ShardCount, ShardId, StatefulFunction};
use serde::{Deserialize, Serialize};

/// Tells a producer to send `count` items to the consumer `to`, `chunk`
/// per handler call.
#[derive(Debug, Serialize, Deserialize)]
pub struct Produce {
    /// The consumer's id.
    pub to: String,
    /// How many items in all.
    pub count: u64,
    /// How many items per handler call.
    pub chunk: u64,
}

/// A producer's next chunk.
#[derive(Debug, Serialize, Deserialize)]
pub struct NextChunk;

/// Sends items to a consumer as fast as its shard runs turns.
#[stateful_function(name = "test/producer")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Producer {
    to: String,
    left: u64,
    chunk: u64,
}

#[handlers]
impl Producer {
    fn produce(&mut self, ctx: &mut Context, msg: Produce) {
        self.to = msg.to;
        self.left = msg.count;
        self.chunk = msg.chunk;
        self.next_chunk(ctx, NextChunk);
    }

    fn next_chunk(&mut self, ctx: &mut Context, _msg: NextChunk) {
        let chunk = self.chunk.min(self.left);
        for _ in 0..chunk {
            ctx.send(Address::of::<Consumer>(self.to.as_str()), Item);
        }
        self.left -= chunk;
        if self.left > 0 {
            let me = ctx.self_address().clone();
            ctx.send(me, NextChunk);
        }
    }
}

/// One item for a consumer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Item;

/// Asks a consumer or a bouncer how many items or balls it has had.
#[derive(Debug, Serialize, Deserialize)]
pub struct Count;

/// How long a consumer works on each item.
pub const WORK_PER_ITEM: Duration = Duration::from_micros(2);

/// Counts the items it receives, working [`WORK_PER_ITEM`] on each.
#[stateful_function(name = "test/consumer")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Consumer {
    received: u64,
}

#[handlers]
impl Consumer {
    fn item(&mut self, _ctx: &mut Context, _msg: Item) {
        let started = Instant::now();
        while started.elapsed() < WORK_PER_ITEM {
            std::hint::spin_loop();
        }
        self.received += 1;
    }

    fn count(&self, ctx: &mut Context, _msg: Count) {
        ctx.reply(self.received);
    }
}

/// Tells a bouncer to throw `balls` balls at bouncer `to`, all in this one
/// handler call, each to be thrown back `hops` times.
#[derive(Debug, Serialize, Deserialize)]
pub struct Serve {
    /// The other bouncer's id.
    pub to: String,
    /// How many balls.
    pub balls: u64,
    /// How many times each is thrown back.
    pub hops: u64,
}

/// A ball, to be thrown back `hops` more times.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ball {
    hops: u64,
}

/// Catches balls and throws each back to whoever threw it.
#[stateful_function(name = "test/bouncer")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Bouncer {
    caught: u64,
}

#[handlers]
impl Bouncer {
    fn serve(&mut self, ctx: &mut Context, msg: Serve) {
        for _ in 0..msg.balls {
            let hops = msg.hops;
            ctx.send(Address::of::<Bouncer>(msg.to.as_str()), Ball { hops });
        }
    }

    fn ball(&mut self, ctx: &mut Context, msg: Ball) {
        self.caught += 1;
        if msg.hops > 0 {
            if let Some(thrower) = ctx.caller().cloned() {
                ctx.send(thrower, Ball { hops: msg.hops - 1 });
            }
        }
    }

    fn count(&self, ctx: &mut Context, _msg: Count) {
        ctx.reply(self.caught);
    }
}

/// The first id `"<prefix>-<n>"` whose actor of function `F` runs on
/// `shard` of `shards`.
pub fn id_on<F: StatefulFunction>(prefix: &str, shard: u32, shards: u32) -> String {
    let count = ShardCount::new(shards).expect("not zero");
    (0u64..)
        .map(|n| format!("{prefix}-{n}"))
        .find(|id| Address::of::<F>(id.as_str()).shard(count) == ShardId(shard))
        .expect("some id lands on every shard")
}
