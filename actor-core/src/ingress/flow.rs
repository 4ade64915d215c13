//! Flow control of one source: a bounded number of records read and not yet
//! handled.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::INGRESS_IN_FLIGHT;
use crate::remote::RemoteShards;

/// How long a reader waits before looking again at a congested link to
/// other nodes.
const CONGESTION_PAUSE: Duration = Duration::from_millis(1);

/// The credit of one source's readers.
pub(crate) struct FlowControl {
    credit: Semaphore,
    in_flight: AtomicUsize,
    gauge: metrics::Gauge,
    /// The other nodes' shards, whose congestion also holds readers back.
    remote: Option<Arc<dyn RemoteShards>>,
}

impl std::fmt::Debug for FlowControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowControl")
            .field("in_flight", &self.in_flight)
            .finish_non_exhaustive()
    }
}

impl FlowControl {
    /// Credit for `max_in_flight` records of source `source`; with
    /// `remote`, a record is admitted only while the link to the other
    /// nodes is not congested.
    pub(crate) fn new(
        source: &str,
        max_in_flight: usize,
        remote: Option<Arc<dyn RemoteShards>>,
    ) -> Arc<Self> {
        let gauge = metrics::gauge!(INGRESS_IN_FLIGHT, "source" => source.to_owned());
        gauge.set(0.0);
        Arc::new(Self {
            credit: Semaphore::new(max_in_flight),
            in_flight: AtomicUsize::new(0),
            gauge,
            remote,
        })
    }

    /// Waits for credit for one record, and for the link to other nodes
    /// to have room; `None` once the source is closed.
    ///
    /// A record admitted is handled at once, but what it causes may cross
    /// to other nodes, and no credit bounds that: without this wait a
    /// source read faster than the nodes exchange messages would pile
    /// frames up in the transport without bound, and every epoch's markers
    /// would queue behind them.
    pub(crate) async fn admit(self: &Arc<Self>) -> Option<IngressPermit> {
        if let Some(remote) = &self.remote {
            while remote.congested() {
                if self.is_closed() {
                    return None;
                }
                tokio::time::sleep(CONGESTION_PAUSE).await;
            }
        }
        self.credit.acquire().await.ok()?.forget();
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.gauge.increment(1.0);
        Some(IngressPermit(self.clone()))
    }

    /// Records admitted and not yet handled.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Wakes every reader waiting for credit and admits nothing more.
    pub(crate) fn close(&self) {
        self.credit.close();
    }

    /// Whether [`FlowControl::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.credit.is_closed()
    }
}

/// One record's credit, travelling with its message: dropping it — once
/// the handler has run, or with the message at shutdown — returns the
/// credit.
#[derive(Debug)]
pub(crate) struct IngressPermit(Arc<FlowControl>);

impl Drop for IngressPermit {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.gauge.decrement(1.0);
        self.0.credit.add_permits(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn credit_is_bounded_and_returned_when_a_permit_drops() {
        let flow = FlowControl::new("test", 2, None);
        let first = flow.admit().await.unwrap();
        let _second = flow.admit().await.unwrap();
        assert_eq!(flow.in_flight(), 2);
        let waiting = tokio::spawn({
            let flow = flow.clone();
            async move { flow.admit().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(first);
        let third = waiting.await.unwrap();
        assert!(
            third.is_some(),
            "the returned credit admits the next record"
        );
        assert_eq!(flow.in_flight(), 2);
        drop(third);
        assert_eq!(flow.in_flight(), 1);
    }

    #[tokio::test]
    async fn closing_stops_waiting_readers() {
        let flow = FlowControl::new("test", 1, None);
        let _held = flow.admit().await.unwrap();
        let waiting = tokio::spawn({
            let flow = flow.clone();
            async move { flow.admit().await.is_none() }
        });
        tokio::task::yield_now().await;
        flow.close();
        assert!(waiting.await.unwrap());
    }
}
