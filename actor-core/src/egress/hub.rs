//! The threads that run egress sinks, and the handle shards publish through.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{EgressRecord, EgressSink};

/// Where a sink reports records written, so the shard can stop sealing
/// them into snapshots.
pub(crate) type ConfirmTo = tokio::sync::mpsc::UnboundedSender<crate::shard::Inbound>;

/// Work for one sink's thread.
enum Command {
    Publish(Vec<EgressRecord>, Option<ConfirmTo>),
    /// Answered once every record sent before it has been published.
    Barrier(oneshot::Sender<()>),
    /// Publish what came before, then end the thread.
    Close,
}

/// The shards' handle to the sinks: cheap to clone.
#[derive(Clone)]
pub(crate) struct EgressHub {
    names: Arc<[String]>,
    senders: Arc<[mpsc::UnboundedSender<Command>]>,
    /// Set at shutdown: a failing sink stops retrying.
    closing: Arc<AtomicBool>,
}

/// The sink threads, joined at shutdown.
pub(crate) struct EgressThreads {
    threads: Vec<JoinHandle<()>>,
}

impl EgressHub {
    /// Starts one thread per sink.
    pub(crate) fn start(sinks: Vec<(String, Box<dyn EgressSink>)>) -> (Self, EgressThreads) {
        let mut names = Vec::with_capacity(sinks.len());
        let mut senders = Vec::with_capacity(sinks.len());
        let mut threads = Vec::with_capacity(sinks.len());
        let closing = Arc::new(AtomicBool::new(false));
        for (name, sink) in sinks {
            let (sender, receiver) = mpsc::unbounded_channel();
            let thread_name = format!("cairn-egress-{name}");
            let sink_name = name.clone();
            let sink_closing = closing.clone();
            let thread = std::thread::Builder::new()
                .name(thread_name)
                .spawn(move || run_sink(sink_name, sink, receiver, sink_closing))
                .expect("the OS can start a thread");
            names.push(name);
            senders.push(sender);
            threads.push(thread);
        }
        let hub = Self {
            names: names.into(),
            senders: senders.into(),
            closing,
        };
        (hub, EgressThreads { threads })
    }

    /// The index of the sink named `name`.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|sink| sink == name)
    }

    /// The sink names, in sink-index order.
    pub(crate) fn names(&self) -> Arc<[String]> {
        self.names.clone()
    }

    /// Hands records to their sinks, keeping each sink's records in order.
    /// With `confirm`, each sink reports back once it has written them.
    pub(crate) fn publish(&self, records: Vec<EgressRecord>, confirm: Option<ConfirmTo>) {
        if self.senders.len() == 1 {
            let _ = self.senders[0].send(Command::Publish(records, confirm));
            return;
        }
        let mut per_sink: Vec<Vec<EgressRecord>> = vec![Vec::new(); self.senders.len()];
        for record in records {
            per_sink[record.sink].push(record);
        }
        for (sender, records) in self.senders.iter().zip(per_sink) {
            if !records.is_empty() {
                let _ = sender.send(Command::Publish(records, confirm.clone()));
            }
        }
    }

    /// Waits until every record handed over before the call is published.
    pub(crate) async fn barrier(&self) {
        for sender in self.senders.iter() {
            let (done, wait) = oneshot::channel();
            if sender.send(Command::Barrier(done)).is_ok() {
                let _ = wait.await;
            }
        }
    }

    /// Tells every sink thread to end once it has published what it holds;
    /// a sink that keeps failing gives up instead of holding the stop.
    pub(crate) fn close(&self) {
        self.closing.store(true, Ordering::Release);
        for sender in self.senders.iter() {
            let _ = sender.send(Command::Close);
        }
    }
}

impl EgressThreads {
    /// Waits for the sink threads to finish (after [`EgressHub::close`]).
    pub(crate) fn join(self) {
        for thread in self.threads {
            if thread.join().is_err() {
                tracing::error!("an egress sink thread panicked");
            }
        }
    }
}

fn run_sink(
    name: String,
    mut sink: Box<dyn EgressSink>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    closing: Arc<AtomicBool>,
) {
    while let Some(command) = commands.blocking_recv() {
        match command {
            Command::Publish(records, confirm) => {
                let written = publish_until_accepted(&name, sink.as_mut(), &records, &closing);
                if let (true, Some(confirm), Some(last)) = (written, confirm, records.last()) {
                    // One shard's records, in order: the last one's sequence
                    // covers the batch.
                    let _ = confirm.send(crate::shard::Inbound::EgressWritten {
                        sink: last.sink,
                        through_seq: last.key.seq,
                    });
                }
            }
            Command::Barrier(done) => {
                let _ = done.send(());
            }
            Command::Close => break,
        }
    }
}

/// Offers the records again after each failure, backing off up to 5 s:
/// egress is never dropped while the node runs. At shutdown a failing sink
/// gives up; with snapshots the records stay sealed in the last committed
/// snapshot and are published again on restart. Returns whether the sink
/// took them.
fn publish_until_accepted(
    name: &str,
    sink: &mut dyn EgressSink,
    records: &[EgressRecord],
    closing: &AtomicBool,
) -> bool {
    let mut backoff = Duration::from_millis(50);
    while let Err(error) = sink.publish(records) {
        if closing.load(Ordering::Acquire) {
            tracing::error!(
                egress = name, %error, records = records.len(),
                "egress sink still failing at shutdown; giving up on these records \
                 (with snapshots they are published again on restart)"
            );
            return false;
        }
        tracing::error!(egress = name, %error, retry_in = ?backoff, "egress sink failed; retrying");
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
    true
}
