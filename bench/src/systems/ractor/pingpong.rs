//! Ping-pong between two ractor actors.

use std::{sync::Arc, time::Instant};

use anyhow::Result;
use ractor::{Actor, ActorProcessingErr, ActorRef};

use crate::{completion::Completion, measurement::Sample, runtime};

/// A player's messages.
enum PlayerMsg {
    /// Who to pass the ball to.
    Peer(ActorRef<PlayerMsg>),
    /// The ball, carrying the tells still to go.
    Ball(u64),
}

/// Passes the ball to its peer until none are left.
struct Player {
    done: Arc<Completion>,
}

impl Actor for Player {
    type Msg = PlayerMsg;
    type State = Option<ActorRef<PlayerMsg>>;
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        _args: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(None)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        peer: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            PlayerMsg::Peer(actor) => *peer = Some(actor),
            PlayerMsg::Ball(left) if left <= 1 => self.done.complete_one(),
            PlayerMsg::Ball(left) => peer
                .as_ref()
                .ok_or("ball before peer")?
                .cast(PlayerMsg::Ball(left - 1))?,
        }
        Ok(())
    }
}

/// Passes a ball `messages` times between two actors.
pub(super) fn run(messages: u64) -> Result<Sample> {
    runtime::run_on_workers(async move {
        let done = Completion::new(1);
        let spawn = || async {
            let player = Player {
                done: Arc::clone(&done),
            };
            Actor::spawn(None, player, ()).await.map(|(actor, _)| actor)
        };
        let a = spawn().await?;
        let b = spawn().await?;
        a.cast(PlayerMsg::Peer(b.clone()))?;
        b.cast(PlayerMsg::Peer(a.clone()))?;

        let start = Instant::now();
        a.cast(PlayerMsg::Ball(messages))?;
        done.wait().await?;
        let elapsed = start.elapsed();
        a.stop(None);
        b.stop(None);
        Ok(Sample::throughput(messages, elapsed))
    })
}
