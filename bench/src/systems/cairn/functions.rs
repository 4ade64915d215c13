//! The stateful functions the Cairn workloads run.

use std::sync::{Arc, Mutex};

use cairn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::completion::Completion;
use cairn_bench::fanout::NextTurn;
use cairn_bench::TURN;

pub(super) use cairn_bench::fanout::{FanoutDriver, GetSum, Sink, StartFanout};

/// Where handlers report that the workload is done. Each measurement runs in
/// a process of its own, so one slot is enough.
static DONE: Mutex<Option<Arc<Completion>>> = Mutex::new(None);

/// Makes `done` the latch handlers count down.
pub(super) fn set_completion(done: Arc<Completion>) {
    *DONE.lock().expect("the latch slot is never poisoned") = Some(done);
}

fn complete_one() {
    if let Some(done) = DONE.lock().expect("never poisoned").as_ref() {
        done.complete_one();
    }
}

/// Tells a player who its partner is.
#[derive(Serialize, Deserialize)]
pub(super) struct Partner(pub(super) Address);

/// The ball, carrying how many tells are still to go.
#[derive(Serialize, Deserialize)]
pub(super) struct Ball(pub(super) u64);

/// One side of a ping-pong.
#[stateful_function(name = "bench/player")]
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Player {
    partner: Option<Address>,
}

#[handlers]
impl Player {
    fn partner(&mut self, _ctx: &mut Context, msg: Partner) {
        self.partner = Some(msg.0);
    }

    fn ball(&self, ctx: &mut Context, msg: Ball) {
        match &self.partner {
            Some(partner) if msg.0 > 1 => ctx.send(partner.clone(), Ball(msg.0 - 1)),
            _ => complete_one(),
        }
    }
}

/// A value for a cell to keep.
#[derive(Serialize, Deserialize)]
pub(super) struct Keep(pub(super) u64);

/// An actor that keeps one `u64`, activated by its first message.
#[stateful_function(name = "bench/cell")]
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Cell {
    value: u64,
}

#[handlers]
impl Cell {
    fn keep(&mut self, _ctx: &mut Context, msg: Keep) {
        self.value = msg.0;
        complete_one();
    }
}

/// Starts an activation driver: one message to each of `cells` cells.
#[derive(Serialize, Deserialize)]
pub(super) struct StartActivate {
    pub(super) cells: u64,
}

/// Sends one message to each of cells `0..cells`, [`TURN`] per handler call.
#[stateful_function(name = "bench/activate-driver")]
#[derive(Default, Serialize, Deserialize)]
pub(super) struct ActivateDriver {
    next: u64,
    cells: u64,
}

#[handlers]
impl ActivateDriver {
    fn start(&mut self, ctx: &mut Context, msg: StartActivate) {
        self.cells = msg.cells;
        self.turn(ctx, NextTurn);
    }

    fn turn(&mut self, ctx: &mut Context, _msg: NextTurn) {
        let end = (self.next + TURN).min(self.cells);
        for cell in self.next..end {
            ctx.send(Address::of::<Cell>(cell), Keep(cell));
        }
        self.next = end;
        if self.next < self.cells {
            let me = ctx.self_address().clone();
            ctx.send(me, NextTurn);
        }
    }
}

/// A request to the echo actor.
#[derive(Serialize, Deserialize)]
pub(super) struct Echo(pub(super) u64);

/// Answers `Echo(v)` with `v + 1`.
#[stateful_function(name = "bench/echo")]
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Echoer;

#[handlers]
impl Echoer {
    fn echo(&self, ctx: &mut Context, msg: Echo) {
        ctx.reply(msg.0 + 1);
    }
}

/// A node with every bench function registered.
pub(super) async fn start_node() -> anyhow::Result<Node> {
    Ok(Node::builder()
        .register::<Player>()
        .register::<Sink>()
        .register::<FanoutDriver>()
        .register::<Cell>()
        .register::<ActivateDriver>()
        .register::<Echoer>()
        .start()
        .await?)
}
