//! The threads that run egress sinks, and the handle shards publish through.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{EgressRecord, EgressSink};

/// Work for one sink's thread.
enum Command {
    Publish(Vec<EgressRecord>),
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
        for (name, sink) in sinks {
            let (sender, receiver) = mpsc::unbounded_channel();
            let thread_name = format!("cairn-egress-{name}");
            let sink_name = name.clone();
            let thread = std::thread::Builder::new()
                .name(thread_name)
                .spawn(move || run_sink(sink_name, sink, receiver))
                .expect("the OS can start a thread");
            names.push(name);
            senders.push(sender);
            threads.push(thread);
        }
        let hub = Self {
            names: names.into(),
            senders: senders.into(),
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
    pub(crate) fn publish(&self, records: Vec<EgressRecord>) {
        if self.senders.len() == 1 {
            let _ = self.senders[0].send(Command::Publish(records));
            return;
        }
        let mut per_sink: Vec<Vec<EgressRecord>> = vec![Vec::new(); self.senders.len()];
        for record in records {
            per_sink[record.sink].push(record);
        }
        for (sender, records) in self.senders.iter().zip(per_sink) {
            if !records.is_empty() {
                let _ = sender.send(Command::Publish(records));
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

    /// Tells every sink thread to end once it has published what it holds.
    pub(crate) fn close(&self) {
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
) {
    while let Some(command) = commands.blocking_recv() {
        match command {
            Command::Publish(records) => publish_until_accepted(&name, sink.as_mut(), &records),
            Command::Barrier(done) => {
                let _ = done.send(());
            }
            Command::Close => break,
        }
    }
}

/// Offers the records again after each failure, backing off up to 5 s:
/// egress is never dropped.
fn publish_until_accepted(name: &str, sink: &mut dyn EgressSink, records: &[EgressRecord]) {
    let mut backoff = Duration::from_millis(50);
    while let Err(error) = sink.publish(records) {
        tracing::error!(egress = name, %error, retry_in = ?backoff, "egress sink failed; retrying");
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
