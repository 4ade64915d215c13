//! Ping-pong between two kameo actors.

use std::{sync::Arc, time::Instant};

use anyhow::{anyhow, Result};
use kameo::{
    actor::{ActorRef, Spawn},
    mailbox,
    message::{Context, Message},
    Actor,
};

use crate::{completion::Completion, measurement::Sample, runtime};

/// Passes the ball to its peer until none are left.
#[derive(Actor)]
struct Player {
    peer: Option<ActorRef<Player>>,
    done: Arc<Completion>,
}

/// Who to pass the ball to.
struct Peer(ActorRef<Player>);

/// The ball, carrying the tells still to go.
struct Ball(u64);

impl Message<Peer> for Player {
    type Reply = ();

    async fn handle(&mut self, Peer(peer): Peer, _ctx: &mut Context<Self, Self::Reply>) {
        self.peer = Some(peer);
    }
}

impl Message<Ball> for Player {
    type Reply = Result<(), String>;

    async fn handle(
        &mut self,
        Ball(left): Ball,
        _ctx: &mut Context<Self, Self::Reply>,
    ) -> Self::Reply {
        if left <= 1 {
            self.done.complete_one();
            return Ok(());
        }
        let peer = self.peer.as_ref().ok_or("ball before peer")?;
        peer.tell(Ball(left - 1))
            .try_send()
            .map_err(|err| err.to_string())
    }
}

/// Passes a ball `messages` times between two actors.
pub(super) fn run(messages: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let done = Completion::new(1);
        let spawn = || {
            let player = Player {
                peer: None,
                done: Arc::clone(&done),
            };
            Player::spawn_with_mailbox(player, mailbox::unbounded())
        };
        let a = spawn();
        let b = spawn();
        a.tell(Peer(b.clone()))
            .try_send()
            .map_err(|e| anyhow!("{e}"))?;
        b.tell(Peer(a.clone()))
            .try_send()
            .map_err(|e| anyhow!("{e}"))?;

        let start = Instant::now();
        a.tell(Ball(messages))
            .try_send()
            .map_err(|e| anyhow!("{e}"))?;
        done.wait().await?;
        let elapsed = start.elapsed();
        a.kill();
        b.kill();
        Ok(Sample::throughput(messages, elapsed))
    })
}
