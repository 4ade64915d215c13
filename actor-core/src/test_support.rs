//! Test functions and parts shared by the crate's unit tests.

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::function::{Access, Handlers, MessageType, StatefulFunction};
use crate::message::Payload;

/// Adds every `u64` it is sent to its total.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Tally {
    pub(crate) total: u64,
}

impl StatefulFunction for Tally {
    const TYPE_NAME: &'static str = "test/tally";
    const SCHEMA_HASH: u64 = 1;
}

impl Handlers for Tally {
    fn handle(&mut self, _ctx: &mut Context<'_>, message: Payload) -> Result<Access, Payload> {
        self.total += message.downcast::<u64>()?;
        Ok(Access::Write)
    }

    fn message_types() -> Vec<MessageType> {
        vec![MessageType::of::<u64>("u64")]
    }
}

/// Takes a `u64` as "count" and a `String` as "label": two message types,
/// the first also a message of [`Tally`] under another name. It handles
/// neither (its tests only encode and decode).
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Labeller;

impl StatefulFunction for Labeller {
    const TYPE_NAME: &'static str = "test/labeller";
    const SCHEMA_HASH: u64 = 1;
}

impl Handlers for Labeller {
    fn handle(&mut self, _ctx: &mut Context<'_>, message: Payload) -> Result<Access, Payload> {
        Err(message)
    }

    fn message_types() -> Vec<MessageType> {
        vec![
            MessageType::of::<u64>("count"),
            MessageType::of::<String>("label"),
        ]
    }
}

/// An empty, not full part of shard 0 for `epoch`.
pub(crate) fn empty_part(epoch: crate::snapshot::Epoch) -> crate::snapshot::ShardSnapshot {
    crate::snapshot::ShardSnapshot {
        shard: crate::address::ShardId(0),
        epoch,
        full: false,
        actors: Vec::new(),
        mailbox: Vec::new(),
        timers: Vec::new(),
        sent: Vec::new(),
        channels: Vec::new(),
        unencodable: 0,
        egress: Vec::new(),
        next_egress_seq: 0,
        next_timer_id: 0,
        ingress: Vec::new(),
    }
}

/// A remote sink that drops everything and places no shard on any node,
/// for tests that only need a runtime to run part of the shards.
pub(crate) struct Nowhere;

impl crate::remote::RemoteShards for Nowhere {
    fn send(&self, _channel: crate::remote::RemoteChannel, _frame: Vec<u8>) {}
    fn max_frame(&self) -> usize {
        1024
    }
    fn node_of(&self, _shard: u32) -> Option<&str> {
        None
    }
    fn send_markers(&self, _node: &str, _frame: Vec<u8>) {}
    fn send_credit(&self, _channel: crate::remote::RemoteChannel, _through_seq: u64) {}
}
