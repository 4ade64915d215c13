//! Ping-pong between two actix actors, on two arbiters or on one.

use std::{sync::Arc, time::Instant};

use actix::{Actor, Addr, Context, Handler, Message};
use anyhow::Result;

use super::arbiters::run_in_system;
use crate::{completion::Completion, measurement::Sample};

/// Passes the ball to its peer until none are left.
struct Player {
    peer: Option<Addr<Player>>,
    done: Arc<Completion>,
}

impl Actor for Player {
    type Context = Context<Self>;
}

/// Who to pass the ball to.
#[derive(Message)]
#[rtype(result = "()")]
struct Peer(Addr<Player>);

/// The ball, carrying the tells still to go.
#[derive(Message)]
#[rtype(result = "()")]
struct Ball(u64);

impl Handler<Peer> for Player {
    type Result = ();

    fn handle(&mut self, Peer(peer): Peer, _ctx: &mut Context<Self>) {
        self.peer = Some(peer);
    }
}

impl Handler<Ball> for Player {
    type Result = ();

    fn handle(&mut self, Ball(left): Ball, _ctx: &mut Context<Self>) {
        if left <= 1 {
            self.done.complete_one();
        } else if let Some(peer) = &self.peer {
            peer.do_send(Ball(left - 1));
        }
    }
}

/// Passes a ball `messages` times between two actors; with `same_arbiter`
/// both live on the system arbiter, otherwise one on each arbiter.
pub(super) fn run(messages: u64, same_arbiter: bool) -> Result<Sample> {
    run_in_system(|arbiters| async move {
        let done = Completion::new(1);
        let spawn = |arbiter: usize| {
            let done = Arc::clone(&done);
            Player::start_in_arbiter(arbiters.get(arbiter), move |_| Player { peer: None, done })
        };
        let a = spawn(0);
        let b = spawn(if same_arbiter { 0 } else { 1 });
        a.do_send(Peer(b.clone()));
        b.do_send(Peer(a.clone()));

        let start = Instant::now();
        a.do_send(Ball(messages));
        done.wait().await?;
        Ok(Sample::throughput(messages, start.elapsed()))
    })
}
