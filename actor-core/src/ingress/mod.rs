//! Durable ingress (SNAPSHOTS §3.6 rule 18): replayable sources whose read
//! positions live in the snapshot.
//!
//! A source is divided into splits. Each split is hosted by one shard, which
//! keeps the split's offset — the position after the last record it has
//! admitted — in its part of every snapshot. A reader task per split reads
//! records off the shard's thread, turns each into a message with the
//! source's route, and hands it to the hosting shard, which sends it on like
//! a message of its own: the message and the offset that covers it are then
//! always on the same side of a snapshot's cut. After a recovery each reader
//! seeks to its split's recorded offset, so every record takes effect
//! exactly once.
//!
//! Ingress is flow-controlled: at most [`Ingress::max_in_flight`] records of
//! a source may be read and not yet handled by the actor they are for, so a
//! fast source cannot flood mailboxes and bloat every snapshot.

mod cursor;
mod file;
mod flow;
mod reader;

use std::fmt;
use std::sync::Arc;

use crate::address::Address;
use crate::message::{Message, Payload};

pub use cursor::StoredCursor;
pub(crate) use cursor::{hosting_shard, SplitCursor};
pub use file::FileSource;
pub(crate) use flow::{FlowControl, IngressPermit};
pub(crate) use reader::{spawn_reader, ReaderHandle, ReaderStop, ReaderTarget};

/// The records admitted and not yet handled, per source (a gauge).
pub const INGRESS_IN_FLIGHT: &str = "cairn_ingress_records_in_flight";
/// Records read and admitted, per source (a counter).
pub const INGRESS_RECORDS: &str = "cairn_ingress_records_total";
/// Records the route refused and skipped, per source (a counter).
pub const INGRESS_REJECTED: &str = "cairn_ingress_records_rejected_total";

/// How many records of one source may be in flight by default.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4096;

/// A replayable source of records, divided into a fixed number of splits
/// read independently. Reading is blocking and runs on a thread of its own.
pub trait IngressSource: Send + Sync + 'static {
    /// How many splits the source has. It must not change while a store
    /// refers to the source: recorded offsets belong to their split.
    fn split_count(&self) -> u32;

    /// Opens split `split`, positioned at `offset` (a value this source
    /// returned with an earlier record of the split) or at the split's
    /// start.
    fn open(&self, split: u32, offset: Option<u64>) -> std::io::Result<Box<dyn SplitReader>>;
}

/// A split being read.
pub trait SplitReader: Send {
    /// The next record and the offset after it, or `None` at the end of the
    /// split.
    fn next_record(&mut self) -> std::io::Result<Option<(Vec<u8>, u64)>>;
}

/// Why a record was refused: it is skipped, logged and counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RouteError(pub String);

/// Turns a record into the message it stands for and its destination.
pub(crate) type Route = dyn Fn(&[u8]) -> Result<(Address, Payload), RouteError> + Send + Sync;

/// A named source, how its records become messages, and its flow control.
/// Cloning is cheap: clones share the source and the route.
#[derive(Clone)]
pub struct Ingress {
    pub(crate) name: Arc<str>,
    pub(crate) source: Arc<dyn IngressSource>,
    pub(crate) route: Arc<Route>,
    pub(crate) max_in_flight: usize,
}

impl Ingress {
    /// An ingress named `name` (unique on the node; recorded offsets are
    /// found by it) reading `source`, whose records `route` turns into
    /// messages. A record `route` refuses is skipped: it is logged with its
    /// split and offset and counted in [`INGRESS_REJECTED`].
    pub fn new<M, E, F>(name: &str, source: impl IngressSource, route: F) -> Self
    where
        M: Message,
        E: fmt::Display,
        F: Fn(&[u8]) -> Result<(Address, M), E> + Send + Sync + 'static,
    {
        Self {
            name: name.into(),
            source: Arc::new(source),
            route: Arc::new(move |record: &[u8]| {
                route(record)
                    .map(|(to, message)| (to, Payload::new(message)))
                    .map_err(|error| RouteError(error.to_string()))
            }),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }

    /// Allows at most `records` records read from the source and not yet
    /// handled (at least 1). Default [`DEFAULT_MAX_IN_FLIGHT`].
    pub fn max_in_flight(mut self, records: usize) -> Self {
        self.max_in_flight = records.max(1);
        self
    }

    /// The ingress's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for Ingress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ingress")
            .field("name", &self.name)
            .field("splits", &self.source.split_count())
            .field("max_in_flight", &self.max_in_flight)
            .finish_non_exhaustive()
    }
}
