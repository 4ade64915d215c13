//! The task that takes the transport's deliveries into the runtime.

use cairn_core::{RemoteChannel, Runtime};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::transport::{Events, TransportEvent};

/// Delivers every frame the transport receives to the runtime's shards,
/// and passes every other event (peers up, down, restarted) on to the
/// layer above. Stopped by [`ReceiveLoop::stop`] or when dropped.
#[derive(Debug)]
pub struct ReceiveLoop {
    task: JoinHandle<()>,
    _stop: DropGuard,
}

impl ReceiveLoop {
    /// Starts the loop on the current tokio runtime. Events other than
    /// deliveries go to `others`, if given, else are logged.
    pub fn start(
        runtime: Runtime,
        events: Events,
        others: Option<mpsc::UnboundedSender<TransportEvent>>,
    ) -> Self {
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(runtime, events, others, cancel.clone()));
        Self {
            task,
            _stop: cancel.drop_guard(),
        }
    }

    /// Stops the loop and waits for it; frames not yet taken stay with
    /// the transport's events.
    pub async fn stop(self) {
        let Self { task, _stop } = self;
        drop(_stop);
        if let Err(error) = task.await {
            tracing::error!(%error, "the data plane's receive loop failed");
        }
    }
}

async fn run(
    runtime: Runtime,
    mut events: Events,
    others: Option<mpsc::UnboundedSender<TransportEvent>>,
    cancel: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            () = cancel.cancelled() => break,
            event = events.recv() => match event {
                Some(event) => event,
                None => break,
            },
        };
        match event {
            TransportEvent::Message(delivery) => {
                let channel = RemoteChannel {
                    src: delivery.channel.src,
                    dst: delivery.channel.dst,
                };
                if let Err(error) = runtime.deliver_remote(channel, &delivery.payload) {
                    if runtime.is_shutting_down() {
                        break;
                    }
                    tracing::warn!(from = %delivery.from, %channel, seq = delivery.seq, %error, "frame refused");
                }
            }
            TransportEvent::PeerRestarted { ref peer, .. } => {
                // Its channels restart at sequence 1: only a rollback of
                // the whole cluster (SNAPSHOTS §3.7) makes them whole again.
                tracing::error!(%peer, "peer restarted: its channels were reset; the cluster must roll back");
                forward(&others, event);
            }
            other => forward(&others, other),
        }
    }
}

fn forward(others: &Option<mpsc::UnboundedSender<TransportEvent>>, event: TransportEvent) {
    match others {
        Some(others) => {
            let _ = others.send(event);
        }
        None => tracing::debug!(?event, "transport event"),
    }
}
