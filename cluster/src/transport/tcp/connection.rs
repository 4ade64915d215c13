//! One established TCP connection: a read half delivering frames into the
//! peer's link, a write half sending queued frames and batched
//! acknowledgements. Both run in the connection's task, concurrently, so a
//! write blocked on a full socket never stops reading (two nodes writing
//! to each other cannot deadlock).

use std::sync::Arc;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, Notify};
use tokio::time::{sleep_until, Instant};

use crate::transport::codec::WireError;
use crate::transport::error::Refusal;
use crate::transport::handshake::{Established, Wire};
use crate::transport::identity::NodeId;
use crate::transport::wire::Frame;

use super::peers::Shared;

/// Frames written before one flush, at most.
const WRITE_BATCH: usize = 256;

/// Why a connection ended.
enum Ended {
    /// Closed by this node (replaced, disconnected, shut down).
    Closed,
    /// The socket failed or the peer closed it.
    Lost(std::io::Error),
    /// The peer sent bad input.
    Refused(Refusal, String),
}

impl From<WireError> for Ended {
    fn from(error: WireError) -> Self {
        match error {
            WireError::Io(error) => Ended::Lost(error),
            other => Ended::Refused(
                other.refusal().unwrap_or(Refusal::Malformed),
                other.to_string(),
            ),
        }
    }
}

/// Runs a handshaken connection until it ends, then detaches it.
pub(crate) async fn run(shared: Arc<Shared>, established: Established, wire: Wire, remote: String) {
    let peer = established.peer;
    let Some(attachment) = shared.attach(&peer, &established.peer_delivered) else {
        return;
    };
    let (sink, stream) = wire.split();
    let ack_due = Notify::new();
    let ended = tokio::select! {
        () = attachment.cancel.cancelled() => Ended::Closed,
        ended = read(&shared, &peer, attachment.id, stream, &ack_due) => ended,
        ended = write(&shared, &peer, attachment.id, sink, attachment.rx, &ack_due) => ended,
    };
    shared.detach(&peer, attachment.id);
    match ended {
        Ended::Closed => tracing::debug!(node = %shared.local, %peer, "cluster connection closed"),
        Ended::Lost(error) => {
            tracing::info!(node = %shared.local, %peer, %error, "cluster connection lost");
        }
        Ended::Refused(reason, detail) => shared.refused(&remote, reason, &detail),
    }
}

async fn read(
    shared: &Shared,
    peer: &NodeId,
    id: u64,
    mut stream: SplitStream<Wire>,
    ack_due: &Notify,
) -> Ended {
    loop {
        let frame = match stream.next().await {
            Some(Ok(frame)) => frame,
            Some(Err(error)) => return error.into(),
            None => return Ended::Lost(std::io::ErrorKind::UnexpectedEof.into()),
        };
        let kind = frame.kind();
        match shared.on_frame(peer, id, frame) {
            Ok(true) => ack_due.notify_one(),
            Ok(false) => {}
            Err(reason) => {
                return Ended::Refused(reason, format!("{kind} frame after the handshake"))
            }
        }
    }
}

async fn write(
    shared: &Shared,
    peer: &NodeId,
    id: u64,
    mut sink: SplitSink<Wire, Frame>,
    mut rx: mpsc::UnboundedReceiver<Frame>,
    ack_due: &Notify,
) -> Ended {
    let mut ack_at: Option<Instant> = None;
    loop {
        let result = tokio::select! {
            frame = rx.recv() => match frame {
                Some(frame) => write_batch(&mut sink, frame, &mut rx).await,
                None => return Ended::Closed,
            },
            () = ack_due.notified(), if ack_at.is_none() => {
                ack_at = Some(Instant::now() + shared.config.ack_delay);
                Ok(())
            }
            () = sleep_until(ack_at.unwrap_or_else(Instant::now)), if ack_at.is_some() => {
                ack_at = None;
                match shared.take_ack(peer, id) {
                    Some(ack) => sink.send(ack).await,
                    None => Ok(()),
                }
            }
        };
        if let Err(error) = result {
            return error.into();
        }
    }
}

/// Writes `first` and whatever else is queued, up to a batch, then flushes.
async fn write_batch(
    sink: &mut SplitSink<Wire, Frame>,
    first: Frame,
    rx: &mut mpsc::UnboundedReceiver<Frame>,
) -> Result<(), WireError> {
    sink.feed(first).await?;
    for _ in 1..WRITE_BATCH {
        match rx.try_recv() {
            Ok(frame) => sink.feed(frame).await?,
            Err(_) => break,
        }
    }
    sink.flush().await
}
