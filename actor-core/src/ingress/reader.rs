//! The reader of one split: reads records off the shards' threads and hands
//! them, turned into messages, to the split's hosting shard.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{FlowControl, Ingress, SplitReader, INGRESS_RECORDS, INGRESS_REJECTED};
use crate::envelope::{Envelope, ReplyTo};
use crate::registry::Registry;
use crate::shard::{Inbound, InboxSender};

/// How long a reader waits before it opens its split again after an I/O
/// error.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A running reader.
pub(crate) struct ReaderHandle {
    pub(crate) flow: Arc<FlowControl>,
    pub(crate) task: JoinHandle<()>,
}

/// Where a reader delivers: the hosting shard, and the split's index among
/// the cursors that shard holds; and how that shard stops it.
pub(crate) struct ReaderTarget {
    pub(crate) shard: InboxSender,
    pub(crate) cursor: usize,
    pub(crate) stop: Arc<ReaderStop>,
}

/// Raised by a shard that leaves this node, for the readers of the splits
/// it hosts: they stop at once, even while they wait for credit (the new
/// owner reads on from the offsets in the shard's snapshot). Without it a
/// reader whose records the shard no longer takes would wait for credit
/// until the runtime shuts down, holding a thread.
#[derive(Debug, Default)]
pub(crate) struct ReaderStop {
    raised: AtomicBool,
    notify: Notify,
}

impl ReaderStop {
    /// Stops the reader.
    pub(crate) fn raise(&self) {
        self.raised.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Returns once [`ReaderStop::raise`] was called.
    async fn raised(&self) {
        loop {
            let notified = self.notify.notified();
            if self.raised.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// Starts reading split `split` of `ingress` at `offset` (its start if
/// `None`) on a blocking thread. The reader stops at the split's end, when
/// the flow control closes, when the shard leaves this node, or when the
/// shard is gone.
pub(crate) fn spawn_reader(
    ingress: &Ingress,
    flow: Arc<FlowControl>,
    registry: Arc<Registry>,
    split: u32,
    offset: Option<u64>,
    target: ReaderTarget,
) -> ReaderHandle {
    let runtime = tokio::runtime::Handle::current();
    let name = ingress.name.clone();
    let source = ingress.source.clone();
    let route = ingress.route.clone();
    let admitted = metrics::counter!(INGRESS_RECORDS, "source" => name.to_string());
    let rejected = metrics::counter!(INGRESS_REJECTED, "source" => name.to_string());
    let task_flow = flow.clone();
    let task = tokio::task::spawn_blocking(move || {
        let flow = task_flow;
        let mut position = offset;
        let send = |item: Inbound| target.shard.send(item).is_ok();
        loop {
            let mut reader: Box<dyn SplitReader> = match source.open(split, position) {
                Ok(reader) => reader,
                Err(error) => {
                    tracing::error!(source = %name, split, %error, "cannot open the split; retrying");
                    if !wait_to_retry(&runtime, &flow, &target.stop) {
                        return;
                    }
                    continue;
                }
            };
            loop {
                let permit = runtime.block_on(async {
                    tokio::select! {
                        biased;
                        () = target.stop.raised() => None,
                        permit = flow.admit() => permit,
                    }
                });
                let Some(permit) = permit else {
                    return;
                };
                let (record, next_offset) = match reader.next_record() {
                    Ok(Some(record)) => record,
                    Ok(None) => {
                        drop(permit);
                        send(Inbound::IngressEnd {
                            cursor: target.cursor,
                        });
                        return;
                    }
                    Err(error) => {
                        tracing::error!(source = %name, split, ?position, %error, "reading the split failed; retrying");
                        break;
                    }
                };
                position = Some(next_offset);
                let routed = route(&record).and_then(|(to, payload)| {
                    registry
                        .check_accepts(to.function(), &payload)
                        .map(|()| (to, payload))
                        .map_err(|error| super::RouteError(error.to_string()))
                });
                let envelope = match routed {
                    Ok((to, payload)) => {
                        admitted.increment(1);
                        Some(Envelope {
                            to,
                            from: None,
                            payload,
                            reply: Some(ReplyTo::Ingress(permit)),
                        })
                    }
                    Err(error) => {
                        rejected.increment(1);
                        tracing::error!(
                            source = %name,
                            split,
                            offset = next_offset,
                            record = %String::from_utf8_lossy(&record),
                            %error,
                            "record refused and skipped"
                        );
                        None
                    }
                };
                let item = Inbound::Ingress {
                    cursor: target.cursor,
                    envelope,
                    next_offset,
                };
                if !send(item) {
                    return;
                }
            }
            if !wait_to_retry(&runtime, &flow, &target.stop) {
                return;
            }
        }
    });
    ReaderHandle { flow, task }
}

/// Waits [`RETRY_AFTER`]; `false` if the source closed or the shard left
/// meanwhile.
fn wait_to_retry(runtime: &tokio::runtime::Handle, flow: &FlowControl, stop: &ReaderStop) -> bool {
    runtime.block_on(async {
        tokio::select! {
            () = stop.raised() => false,
            () = tokio::time::sleep(RETRY_AFTER) => !flow.is_closed(),
        }
    })
}
