//! Test functions: each records what it saw in its state, and answers
//! `Inspect` with a copy of that state.

use std::time::Duration;

use cairn::prelude::*;
use serde::{Deserialize, Serialize};

/// Asks an actor for a copy of its state.
#[derive(Debug, Serialize, Deserialize)]
pub struct Inspect;

/// Appends a number to the log.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record(pub u64);

/// Records every number it is sent, in arrival order, with the sender.
#[stateful_function(name = "test/recorder")]
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorder {
    /// The numbers, in arrival order.
    pub seen: Vec<u64>,
    /// The sender of each number (`None` for messages from outside).
    pub senders: Vec<Option<String>>,
    /// How many times this actor's state was created fresh by `Default`
    /// and then saw a message: stays 1 across passivation.
    pub activations_from_default: u32,
}

#[handlers]
impl Recorder {
    fn record(&mut self, ctx: &mut Context, msg: Record) {
        if self.seen.is_empty() {
            self.activations_from_default += 1;
        }
        self.seen.push(msg.0);
        self.senders
            .push(ctx.caller().map(|caller| caller.to_string()));
    }

    fn inspect(&self, ctx: &mut Context, _msg: Inspect) {
        ctx.reply(self.clone());
    }
}

/// Tells a streamer to send `count` numbers, `0..count`, to `to`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stream {
    /// The recorder's id.
    pub to: String,
    /// How many numbers.
    pub count: u64,
}

/// Tells a scheduler to set timers delivering `Record(n)` to a recorder.
#[derive(Debug, Serialize, Deserialize)]
pub struct Schedule {
    /// The recorder's id.
    pub to: String,
    /// `(delay in ms, number)` pairs.
    pub timers: Vec<(u64, u64)>,
    /// Indexes into `timers` of the timers to cancel right after setting them.
    pub cancel: Vec<usize>,
}

/// Cancels every timer a sender set and has not cancelled.
#[derive(Debug, Serialize, Deserialize)]
pub struct CancelTimers;

/// Sends to recorders: a stream of numbers, or numbers after delays.
#[stateful_function(name = "test/sender")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Sender {
    /// Timers set so far.
    pub timers_set: u64,
    /// The ids of the timers set and not cancelled, as handlers keep them.
    pub timer_ids: Vec<cairn::TimerId>,
}

#[handlers]
impl Sender {
    fn stream(&mut self, ctx: &mut Context, msg: Stream) {
        for n in 0..msg.count {
            ctx.send(Address::of::<Recorder>(msg.to.as_str()), Record(n));
        }
    }

    fn schedule(&mut self, ctx: &mut Context, msg: Schedule) {
        let to = Address::of::<Recorder>(msg.to.as_str());
        let ids: Vec<_> = msg
            .timers
            .iter()
            .map(|(delay, n)| ctx.send_after(Duration::from_millis(*delay), to.clone(), Record(*n)))
            .collect();
        for index in &msg.cancel {
            assert!(ctx.cancel_timer(ids[*index]), "a fresh timer cancels");
        }
        self.timers_set += ids.len() as u64;
        self.timer_ids.extend(
            ids.iter()
                .enumerate()
                .filter(|(index, _)| !msg.cancel.contains(index))
                .map(|(_, id)| *id),
        );
    }

    fn cancel_timers(&mut self, ctx: &mut Context, _msg: CancelTimers) {
        for id in self.timer_ids.drain(..) {
            ctx.cancel_timer(id);
        }
    }
}

/// Asks a responder to reply with its own address (to whoever called).
#[derive(Debug, Serialize, Deserialize)]
pub struct WhoAreYou;

/// The answer to [`WhoAreYou`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IAm {
    /// The responder's address, as text.
    pub address: String,
    /// The caller it saw, as text.
    pub caller: Option<String>,
}

/// Tells a questioner to ask a responder [`WhoAreYou`].
#[derive(Debug, Serialize, Deserialize)]
pub struct AskAround {
    /// The responder's id.
    pub responder: String,
}

/// Asks other actors who they are and keeps the answers.
#[stateful_function(name = "test/questioner")]
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Questioner {
    /// Answers received, in order.
    pub answers: Vec<IAm>,
}

#[handlers]
impl Questioner {
    fn ask_around(&mut self, ctx: &mut Context, msg: AskAround) {
        ctx.send(Address::of::<Responder>(msg.responder.as_str()), WhoAreYou);
    }

    fn answer(&mut self, _ctx: &mut Context, msg: IAm) {
        self.answers.push(msg);
    }

    fn inspect(&self, ctx: &mut Context, _msg: Inspect) {
        ctx.reply(self.clone());
    }
}

/// Makes the responder's handler panic.
#[derive(Debug, Serialize, Deserialize)]
pub struct Explode;

/// Makes the responder's handler block its shard for this many ms.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stall(pub u64);

/// Handled without a reply.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ignore;

/// Adds one to the responder's counter and replies with the new value.
#[derive(Debug, Serialize, Deserialize)]
pub struct Bump;

/// Answers who it is, and misbehaves on request: panics, stalls, or waits
/// at a [`Gate`](crate::gate::Gate).
#[stateful_function(name = "test/responder")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Responder {
    /// Bumps so far.
    pub bumps: u64,
}

#[handlers]
impl Responder {
    fn who(&self, ctx: &mut Context, _msg: WhoAreYou) {
        let answer = IAm {
            address: ctx.self_address().to_string(),
            caller: ctx.caller().map(|caller| caller.to_string()),
        };
        ctx.reply(answer);
    }

    fn bump(&mut self, ctx: &mut Context, _msg: Bump) {
        self.bumps += 1;
        ctx.reply(self.bumps);
    }

    fn explode(&mut self, _ctx: &mut Context, _msg: Explode) {
        panic!("asked to explode");
    }

    fn hold(&self, _ctx: &mut Context, msg: crate::gate::Hold) {
        crate::gate::pass(msg.0);
    }

    fn stall(&self, _ctx: &mut Context, msg: Stall) {
        std::thread::sleep(Duration::from_millis(msg.0));
    }

    fn ignore(&self, _ctx: &mut Context, _msg: Ignore) {}
}

/// Emits `value` to the egress named `egress`.
#[derive(Debug, Serialize, Deserialize)]
pub struct EmitTo {
    /// The egress name.
    pub egress: String,
    /// The value to emit.
    pub value: u64,
}

/// Emits records to egresses; counts emit errors.
#[stateful_function(name = "test/emitter")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Emitter {
    /// Emits that failed (unknown egress).
    pub failures: u64,
}

#[handlers]
impl Emitter {
    fn emit(&mut self, ctx: &mut Context, msg: EmitTo) {
        let emitter = ctx.self_address().id().to_string();
        let record = serde_json::json!({ "emitter": emitter, "value": msg.value });
        if ctx.emit(&msg.egress, &record).is_err() {
            self.failures += 1;
        }
    }

    fn failures(&self, ctx: &mut Context, _msg: Inspect) {
        ctx.reply(self.failures);
    }
}

/// A node with every test function registered and the given builder tweaks.
pub async fn start_node(configure: impl FnOnce(cairn::NodeBuilder) -> cairn::NodeBuilder) -> Node {
    let builder = Node::builder()
        .register::<Recorder>()
        .register::<Sender>()
        .register::<Questioner>()
        .register::<Responder>()
        .register::<Emitter>()
        .register::<Account>();
    configure(builder)
        .start()
        .await
        .expect("the test node starts")
}

/// A recorder's state, read with an ask.
pub async fn recorder_state(node: &Node, id: &str) -> Recorder {
    node.ask(Address::of::<Recorder>(id), Inspect)
        .await
        .expect("the recorder answers")
}

/// Puts money into an account.
#[derive(Debug, Serialize, Deserialize)]
pub struct Deposit(pub i64);

/// Moves `amount` from the receiving account to account `to`: a debit here,
/// then a [`Credit`] message there.
#[derive(Debug, Serialize, Deserialize)]
pub struct Transfer {
    /// The target account's id.
    pub to: u64,
    /// How much.
    pub amount: i64,
}

/// The second half of a transfer: money in flight until handled.
#[derive(Debug, Serialize, Deserialize)]
pub struct Credit(pub i64);

/// Money passed from account to account for `hops` more hops, then
/// credited: always in flight while it travels.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pass {
    /// How much.
    pub amount: i64,
    /// Hops left before it is credited.
    pub hops: u32,
    /// The account count, to pick the next account.
    pub accounts: u64,
}

/// Asks an account for its balance.
#[derive(Debug, Serialize, Deserialize)]
pub struct Balance;

/// A bank account; balances may go negative, so that the final balances do
/// not depend on the order transfers interleave in.
#[stateful_function(name = "test/account")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Account {
    /// The balance.
    pub balance: i64,
}

#[handlers]
impl Account {
    fn deposit(&mut self, _ctx: &mut Context, msg: Deposit) {
        self.balance += msg.0;
    }

    fn transfer(&mut self, ctx: &mut Context, msg: Transfer) {
        self.balance -= msg.amount;
        ctx.send(Address::of::<Account>(msg.to), Credit(msg.amount));
    }

    fn credit(&mut self, _ctx: &mut Context, msg: Credit) {
        self.balance += msg.0;
    }

    fn pass(&mut self, ctx: &mut Context, msg: Pass) {
        if msg.hops == 0 {
            self.balance += msg.amount;
            return;
        }
        let me: u64 = ctx
            .self_id()
            .as_str()
            .parse()
            .expect("accounts have numeric ids");
        let next = (me * 7 + 3) % msg.accounts;
        ctx.send(
            Address::of::<Account>(next),
            Pass {
                hops: msg.hops - 1,
                ..msg
            },
        );
    }

    fn balance(&self, ctx: &mut Context, _msg: Balance) {
        ctx.reply(self.balance);
    }
}
