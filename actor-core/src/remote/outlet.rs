//! The outgoing end of a channel: a local shard's inbox, or a shard on
//! another node. Chosen once when the runtime starts, so sending to a
//! local shard stays one `mpsc` send. Markers for a shard on another node
//! do not go on its channel: they are batched per node (`markers`).

use std::sync::Arc;

use crate::address::ShardId;
use crate::envelope::{AskReply, Envelope};
use crate::error::{AskError, Error, Result};
use crate::registry::Registry;
use crate::shard::{Batch, Inbound, InboxSender};
use crate::snapshot::{Epoch, StoredMessage};

use super::batch::{encode_batch, largest_body, BatchHeader, FrameSizes};
use super::markers::RemoteCut;
use super::placement::{RemoteChannel, RemoteShards, EXTERNAL_SOURCE};
use super::wire::{write_frame, FrameHead, OutgoingMessage};

/// Where messages for one destination shard go.
pub(crate) enum Outlet {
    /// A shard of this runtime.
    Local(InboxSender),
    /// A shard on another node (boxed, so the outlets the shards index
    /// on every flush stay two words each).
    Remote(Box<RemoteOutlet>),
}

impl Outlet {
    /// Sends a batch on the channel `batch.from → this shard`. Returns
    /// `false` if a local destination has stopped (at shutdown).
    #[inline]
    pub(crate) fn send_batch(&self, batch: Batch) -> bool {
        match self {
            Outlet::Local(inbox) => inbox.send(Inbound::Batch(batch)).is_ok(),
            Outlet::Remote(remote) => {
                remote.send_batch(batch);
                true
            }
        }
    }

    /// Sends a marker for `epoch` on the channel `from → this shard` if
    /// the shard is local. A remote shard's marker is returned instead:
    /// it goes out in its node's batch.
    pub(crate) fn marker(
        &self,
        from: ShardId,
        epoch: Epoch,
        cut_seq: u64,
    ) -> Option<RemoteCut<'_>> {
        match self {
            Outlet::Local(inbox) => {
                let _ = inbox.send(Inbound::Marker {
                    from,
                    epoch,
                    cut_seq,
                });
                None
            }
            Outlet::Remote(remote) => Some(RemoteCut {
                sink: &remote.sink,
                to: remote.to,
                cut_seq,
            }),
        }
    }

    /// Tells this shard that shard `from` has handled every message
    /// through `through_seq` on the channel from this shard to it.
    pub(crate) fn grant(&self, from: ShardId, through_seq: u64) {
        match self {
            Outlet::Local(inbox) => {
                let _ = inbox.send(Inbound::Credit { from, through_seq });
            }
            Outlet::Remote(remote) => remote.sink.send_credit(
                RemoteChannel {
                    src: remote.to.0,
                    dst: from.0,
                },
                through_seq,
            ),
        }
    }

    /// The inbox of a local shard.
    pub(crate) fn local(&self) -> Option<&InboxSender> {
        match self {
            Outlet::Local(inbox) => Some(inbox),
            Outlet::Remote(_) => None,
        }
    }
}

/// A shard on another node: frames for it go to the [`RemoteShards`].
pub(crate) struct RemoteOutlet {
    to: ShardId,
    sink: Arc<dyn RemoteShards>,
    registry: Arc<Registry>,
}

impl RemoteOutlet {
    pub(crate) fn new(to: ShardId, sink: Arc<dyn RemoteShards>, registry: Arc<Registry>) -> Self {
        Self { to, sink, registry }
    }

    /// Encodes the batch into as many frames as the frame limit needs,
    /// each continuing the previous one's sequence numbers. An envelope
    /// between shards never carries an ask's reply channel (asks go
    /// straight to their shard); an ingress record's credit is returned
    /// here, when the record leaves the node.
    fn send_batch(&self, batch: Batch) {
        let Batch {
            from,
            first_seq,
            color,
            mut envelopes,
        } = batch;
        for envelope in &mut envelopes {
            if let Some(reply) = envelope.reply.take() {
                if reply.has_caller() {
                    reply.answer(Err(AskError::Send(Error::RemoteShard { shard: self.to.0 })));
                }
            }
        }
        let header = BatchHeader {
            from,
            to: self.to,
            first_seq,
            color,
        };
        for frame in encode_batch(&self.registry, header, &envelopes, self.frame_sizes()) {
            self.sink.send(
                RemoteChannel {
                    src: from.0,
                    dst: self.to.0,
                },
                frame,
            );
        }
    }

    /// Forwards a message sent from outside the actor system, on this
    /// node's external channel to the shard; an ask goes through
    /// [`RemoteShards::forward_ask`], which carries its answer back. A
    /// message that does not encode is refused (an ask is answered so).
    pub(crate) fn forward_external(&self, mut envelope: Envelope) -> Result<()> {
        let caller = match envelope.reply.take().map(AskReply::of) {
            Some(Ok(caller)) => Some(caller),
            // An ingress record's credit returns here, when it leaves.
            Some(Err(_)) | None => None,
        };
        let message = StoredMessage::encode(&self.registry, &envelope)
            .map_err(Error::from)
            .and_then(|message| self.fits(message));
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                if let Some(caller) = caller {
                    caller.answer(Err(AskError::Send(error.clone())));
                }
                return Err(error);
            }
        };
        if let Some(caller) = caller {
            let durable = caller.durable();
            self.sink.forward_ask(self.to.0, message, durable, caller);
            return Ok(());
        }
        let frame = write_frame(
            FrameHead::External { to: self.to },
            &[OutgoingMessage::from(&message)],
        );
        self.sink.send(
            RemoteChannel {
                src: EXTERNAL_SOURCE,
                dst: self.to.0,
            },
            frame,
        );
        Ok(())
    }

    /// `message`, if it fits in a frame to this shard on its own.
    fn fits(&self, message: StoredMessage) -> Result<StoredMessage> {
        let max = largest_body(
            self.sink.max_frame(),
            &message.to,
            message.from.as_ref(),
            &message.message,
        );
        match message.body.len() {
            size if size > max => Err(Error::MessageTooLarge { size, max }),
            _ => Ok(message),
        }
    }

    /// How many bytes of messages go in one frame, and how large a frame
    /// may be.
    fn frame_sizes(&self) -> FrameSizes {
        let largest = self.sink.max_frame();
        FrameSizes {
            budget: (largest / 4 * 3).max(1),
            largest,
        }
    }
}
