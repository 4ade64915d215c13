//! The control plane's messages between members, on one transport channel
//! per node pair ([`CONTROL_CHANNEL`]), as MessagePack.
//!
//! The coordinator configures a generation (`Configure` → `Ready`), drives
//! epochs (`StartEpoch` → `Parts` → `Committed` or `Aborted`), moves shards
//! at an epoch's cut (`PrepareHandoff` → `Prepared`, then that epoch), and
//! members ask it for an epoch sooner (`EpochWanted`); before it claims a
//! generation it checks that a majority hears it (`Probe` → `ProbeAck`). `Ask` and `Answer` carry an
//! ask to the node running its actor's shard.

use bytes::Bytes;
use cairn_core::{Address, Epoch};
use serde::{Deserialize, Serialize};

use crate::snapshots::PartUpload;
use crate::transport::{ChannelId, Generation, Incarnation, NodeId};

/// The transport channel control messages travel on: no shard has its
/// number, and the data plane's external and marker channels use
/// `u32::MAX` and `u32::MAX - 2`.
pub(crate) const CONTROL_CHANNEL: ChannelId = ChannelId {
    src: u32::MAX - 1,
    dst: u32::MAX - 1,
};

/// One control message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Control {
    /// Coordinator → member: run generation `generation` of the shard map.
    Configure(Configuration),
    /// Member → coordinator: the generation runs here.
    Ready { generation: Generation },
    /// Coordinator → member: take epoch `epoch` of `generation`.
    StartEpoch {
        generation: Generation,
        epoch: Epoch,
    },
    /// Member → coordinator: this member's shards' parts of `epoch`, uploaded.
    Parts {
        generation: Generation,
        epoch: Epoch,
        parts: Vec<PartUpload>,
    },
    /// Coordinator → member: `epoch` committed.
    Committed {
        generation: Generation,
        epoch: Epoch,
    },
    /// Coordinator → member: `epoch` was aborted.
    Aborted {
        generation: Generation,
        epoch: Epoch,
    },
    /// Coordinator → member: the shards move to `owners` at the cut of
    /// `epoch` (SNAPSHOTS §3.8 rule 24), within `generation`.
    PrepareHandoff {
        generation: Generation,
        epoch: Epoch,
        owners: Vec<NodeId>,
    },
    /// Member → coordinator: this member switches routes at its shards'
    /// cuts of `epoch`.
    Prepared {
        generation: Generation,
        epoch: Epoch,
    },
    /// Member → coordinator: a shard is over its bound on active actors
    /// and needs an epoch to make dirty actors clean.
    EpochWanted { generation: Generation },
    /// Coordinator → member: answer if you hear this. Sent before a new
    /// generation is claimed, since gossip may still show members alive
    /// that the coordinator can no longer reach.
    Probe { nonce: u64 },
    /// Member → coordinator: the answer to `Probe { nonce }`.
    ProbeAck { nonce: u64 },
    /// Any node → the node running `request.to`'s shard.
    Ask(AskRequest),
    /// The answer to ask `id`: the reply as MessagePack, or why there is none.
    Answer {
        id: u64,
        /// The asker's incarnation, from the request: a life that did not
        /// ask (the asker restarted) ignores the answer.
        asker: Incarnation,
        reply: Result<serde_bytes::ByteBuf, String>,
    },
}

/// A generation of the cluster: who runs which shard, and the committed
/// epoch every shard resumes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Configuration {
    /// The generation; every member refuses anything from a lower one.
    pub(crate) generation: Generation,
    /// The node of every shard, by shard index.
    pub(crate) owners: Vec<NodeId>,
    /// The committed epoch to restore, `None` for an empty store.
    pub(crate) restore: Option<Epoch>,
    /// The coordinator that decided it.
    pub(crate) coordinator: NodeId,
}

impl Configuration {
    /// The distinct members, sorted.
    pub(crate) fn members(&self) -> Vec<NodeId> {
        let mut members = self.owners.clone();
        members.sort();
        members.dedup();
        members
    }
}

/// An ask forwarded to the node running its actor.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AskRequest {
    /// Names the answer.
    pub(crate) id: u64,
    /// The asking node's incarnation: ids are unique only within it.
    pub(crate) asker: Incarnation,
    /// The life of the owner the asker meant, if it knew it: another life
    /// (the request was carried over to a restarted owner) refuses it, so
    /// that it is not handled twice.
    pub(crate) owner: Option<Incarnation>,
    /// The actor asked.
    pub(crate) to: Address,
    /// The message's registered name.
    pub(crate) message: String,
    /// The message as MessagePack.
    #[serde(with = "serde_bytes")]
    pub(crate) body: Vec<u8>,
    /// Answered only once the epoch holding its effects commits.
    pub(crate) durable: bool,
    /// How long the asker waits, in milliseconds.
    pub(crate) timeout_ms: u64,
}

impl Control {
    /// The message as a transport payload.
    pub(crate) fn encode(&self) -> Bytes {
        Bytes::from(
            rmp_serde::to_vec_named(self)
                .expect("control messages are plain data and always encode"),
        )
    }

    /// A control message from a transport payload.
    pub(crate) fn decode(payload: &[u8]) -> Result<Self, rmp_serde::decode::Error> {
        rmp_serde::from_slice(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_round_trip_and_garbage_is_an_error() {
        let message = Control::Configure(Configuration {
            generation: Generation(3),
            owners: vec![NodeId::new("a:1"), NodeId::new("b:1"), NodeId::new("a:1")],
            restore: Some(9),
            coordinator: NodeId::new("a:1"),
        });
        let decoded = Control::decode(&message.encode()).expect("decodes");
        let Control::Configure(configuration) = decoded else {
            panic!("not a Configure: {decoded:?}");
        };
        assert_eq!(
            configuration.members(),
            vec![NodeId::new("a:1"), NodeId::new("b:1")]
        );
        assert!(Control::decode(b"\xc1garbage").is_err());
    }
}
