//! The stateful functions every member registers: an echo for asks, and
//! for one-way tells a driver, its sinks and a tally of finished sinks.

use cairn::prelude::*;
use serde::{Deserialize, Serialize};

/// How many items a driver sends per handler call.
const TURN: u64 = cairn_bench::TURN;

/// A request whose bytes come back unchanged.
#[derive(Serialize, Deserialize)]
pub(crate) struct Echo(#[serde(with = "serde_bytes")] pub(crate) Vec<u8>);

/// The reply to an [`Echo`].
#[derive(Serialize, Deserialize)]
pub(crate) struct Echoed(#[serde(with = "serde_bytes")] pub(crate) Vec<u8>);

/// Answers every [`Echo`] with its bytes.
#[stateful_function(name = "bench-cluster/echo")]
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Echoer {
    answered: u64,
}

#[handlers]
impl Echoer {
    fn echo(&mut self, ctx: &mut Context, msg: Echo) {
        self.answered += 1;
        ctx.reply(Echoed(msg.0));
    }
}

/// One item of a one-way stream.
#[derive(Serialize, Deserialize)]
pub(crate) struct Item(#[serde(with = "serde_bytes")] pub(crate) Vec<u8>);

/// Tells a sink how many items to expect, and which tally to tell when
/// they have all arrived.
#[derive(Serialize, Deserialize)]
pub(crate) struct Expect {
    count: u64,
    tally: u64,
}

/// Asks a sink how many items it received.
#[derive(Serialize, Deserialize)]
pub(crate) struct GetCount;

/// Counts the items it receives; tells its tally once it has them all.
#[stateful_function(name = "bench-cluster/sink")]
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Sink {
    received: u64,
    expected: Option<u64>,
    tally: u64,
}

#[handlers]
impl Sink {
    fn expect(&mut self, ctx: &mut Context, msg: Expect) {
        self.expected = Some(msg.count);
        self.tally = msg.tally;
        self.maybe_done(ctx);
    }

    fn item(&mut self, ctx: &mut Context, _msg: Item) {
        self.received += 1;
        self.maybe_done(ctx);
    }

    fn count(&self, ctx: &mut Context, _msg: GetCount) {
        ctx.reply(self.received);
    }
}

impl Sink {
    fn maybe_done(&mut self, ctx: &mut Context) {
        if self.expected == Some(self.received) {
            ctx.send(Address::of::<Tally>(self.tally), SinkDone);
        }
    }
}

/// A sink has received everything it expected.
#[derive(Serialize, Deserialize)]
pub(crate) struct SinkDone;

/// Asks a tally how many sinks are done.
#[derive(Serialize, Deserialize)]
pub(crate) struct GetDone;

/// Counts the sinks that received everything.
#[stateful_function(name = "bench-cluster/tally")]
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Tally {
    done: u64,
}

#[handlers]
impl Tally {
    fn sink_done(&mut self, _ctx: &mut Context, _msg: SinkDone) {
        self.done += 1;
    }

    fn get(&self, ctx: &mut Context, _msg: GetDone) {
        ctx.reply(self.done);
    }
}

/// Starts a driver: `total` items of `payload` bytes, round-robin over
/// the sinks `sinks`, whose tally is `tally`.
#[derive(Serialize, Deserialize)]
pub(crate) struct StartTells {
    pub(crate) total: u64,
    pub(crate) payload: usize,
    pub(crate) sinks: Vec<u64>,
    pub(crate) tally: u64,
}

/// A driver's next turn.
#[derive(Serialize, Deserialize)]
pub(crate) struct NextTurn;

/// Sends its items [`TURN`] per handler call, with `ctx.send`: to sinks
/// on another node, that is the data plane.
#[stateful_function(name = "bench-cluster/driver")]
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Driver {
    next: u64,
    total: u64,
    #[serde(with = "serde_bytes")]
    payload: Vec<u8>,
    sinks: Vec<Address>,
}

#[handlers]
impl Driver {
    fn start(&mut self, ctx: &mut Context, msg: StartTells) {
        self.total = msg.total;
        self.payload = vec![7; msg.payload];
        self.sinks = msg.sinks.into_iter().map(Address::of::<Sink>).collect();
        let sinks = self.sinks.len() as u64;
        for (index, sink) in self.sinks.iter().enumerate() {
            // Items `index, index + sinks, …` go to this sink.
            let count = (msg.total + sinks - 1 - index as u64) / sinks;
            let tally = msg.tally;
            ctx.send(sink.clone(), Expect { count, tally });
        }
        self.turn(ctx, NextTurn);
    }

    fn turn(&mut self, ctx: &mut Context, _msg: NextTurn) {
        let end = (self.next + TURN).min(self.total);
        let sinks = self.sinks.len() as u64;
        for item in self.next..end {
            let sink = self.sinks[(item % sinks) as usize].clone();
            ctx.send(sink, Item(self.payload.clone()));
        }
        self.next = end;
        if self.next < self.total {
            let me = ctx.self_address().clone();
            ctx.send(me, NextTurn);
        }
    }
}
