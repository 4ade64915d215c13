//! The task that takes the transport's deliveries into the runtime.

use cairn_core::{RemoteChannel, Runtime};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::credit::{decode_grant, CREDIT_CHANNEL};
use super::generation::{admit, untag, Admission};
use super::sink::MARKER_CHANNEL;
use crate::transport::{Delivery, Events, Generation, TransportEvent};

/// Delivers every frame the transport receives to the runtime's shards,
/// and passes every other event (peers up, down, restarted) on to the
/// layer above. Stopped by [`ReceiveLoop::stop`] or when dropped.
#[derive(Debug)]
pub struct ReceiveLoop {
    task: JoinHandle<()>,
    _stop: DropGuard,
}

impl ReceiveLoop {
    /// Starts the loop on the current tokio runtime, delivering frames of
    /// map `generation` (others are dropped). Events other than
    /// deliveries go to `others`, if given, else are logged.
    pub fn start(
        runtime: Runtime,
        generation: Generation,
        events: Events,
        others: Option<mpsc::UnboundedSender<TransportEvent>>,
    ) -> Self {
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(runtime, generation, events, others, cancel.clone()));
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
    generation: Generation,
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
                if deliver(&runtime, generation, &delivery) == Delivered::ShuttingDown {
                    break;
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

/// What became of one delivered frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Handed to its shard (or refused by it, logged).
    Done,
    /// Sent under another generation than `generation`, or without a tag:
    /// not handed over; [`admit`] tells which.
    NotAdmitted(Option<Admission>),
    /// The runtime is shutting down.
    ShuttingDown,
}

/// Hands `delivery`'s frame to `runtime` if it was sent under
/// `generation`.
pub fn deliver(runtime: &Runtime, generation: Generation, delivery: &Delivery) -> Delivered {
    let channel = RemoteChannel {
        src: delivery.channel.src,
        dst: delivery.channel.dst,
    };
    let Some((sent_under, frame)) = untag(&delivery.payload) else {
        tracing::warn!(from = %delivery.from, %channel, "frame without a generation tag refused");
        return Delivered::NotAdmitted(None);
    };
    match admit(generation, sent_under) {
        Admission::Deliver => {}
        other => return Delivered::NotAdmitted(Some(other)),
    }
    let delivered = if delivery.channel == MARKER_CHANNEL {
        runtime.deliver_markers(delivery.from.as_str(), frame)
    } else if delivery.channel == CREDIT_CHANNEL {
        match decode_grant(frame) {
            Ok((channel, through_seq)) => runtime.deliver_credit(channel, through_seq),
            Err(error) => {
                tracing::warn!(from = %delivery.from, %error, "credit grant refused");
                return Delivered::Done;
            }
        }
    } else {
        runtime.deliver_remote(channel, delivery.payload.slice_ref(frame))
    };
    if let Err(error) = delivered {
        if runtime.is_shutting_down() {
            return Delivered::ShuttingDown;
        }
        tracing::warn!(from = %delivery.from, %channel, seq = delivery.seq, %error, "frame refused");
    }
    Delivered::Done
}
