//! The membership as the rest of the node sees it, and how it is derived
//! from chitchat's state, sans I/O.
//!
//! chitchat knows each process by (node id, generation, address), so a
//! node restarted at the same address shows up as a second entry until
//! the old one is forgotten. The view keeps, per node id, only the entry
//! with the highest generation (incarnation), live or not: a newer
//! incarnation displaces an older one at once, without waiting for the
//! failure detector to give up on the old process.

use cairn_core::ShardCount;

use super::coordinator::choose_coordinator;
use super::metadata::NodeMetadata;
use crate::transport::{Incarnation, NodeId};

/// Where a member is in its life, as this node sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberState {
    /// Gossiping, and not leaving.
    Alive,
    /// Announced a graceful leave (it may still gossip a little while).
    Leaving,
    /// Declared dead by the failure detector.
    Dead,
}

/// One member of the cluster: the newest incarnation known at its address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    /// The node, named by its cluster address.
    pub node: NodeId,
    /// Its incarnation: the newest known at that address.
    pub incarnation: Incarnation,
    /// What it published: its RPC and HTTP addresses and shard count.
    pub metadata: NodeMetadata,
    /// Alive, leaving or dead.
    pub state: MemberState,
}

impl Member {
    /// Whether the member counts as live: gossiping and not leaving.
    pub fn is_alive(&self) -> bool {
        self.state == MemberState::Alive
    }
}

/// Every member this node knows of, and the coordinator they imply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MembershipView {
    /// One entry per node, sorted by node id, dead and leaving included
    /// (a dead member is forgotten after the failure detector's grace
    /// period).
    pub members: Vec<Member>,
    /// The coordinator chosen among the live members (see
    /// [`choose_coordinator`]); `None` when none is live.
    pub coordinator: Option<NodeId>,
}

impl MembershipView {
    /// The live members, sorted by node id.
    pub fn live_members(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|member| member.is_alive())
    }

    /// The live members' ids, sorted: the input of the shard ring.
    pub fn live_nodes(&self) -> Vec<NodeId> {
        self.live_members()
            .map(|member| member.node.clone())
            .collect()
    }

    /// The member at `node`, if known.
    pub fn member(&self, node: &NodeId) -> Option<&Member> {
        self.members
            .binary_search_by(|member| member.node.cmp(node))
            .ok()
            .map(|index| &self.members[index])
    }

    /// The live members configured with another shard count than
    /// `shards` or another largest frame than `max_frame`: a joining node
    /// that finds any is misconfigured, or they are.
    pub fn misconfigured(&self, shards: ShardCount, max_frame: usize) -> Vec<&Member> {
        self.live_members()
            .filter(|member| {
                member.metadata.shards != shards || member.metadata.max_frame != max_frame
            })
            .collect()
    }
}

/// One process as chitchat reports it.
#[derive(Clone, Debug)]
pub(crate) struct GossipEntry {
    pub(crate) node: NodeId,
    pub(crate) incarnation: Incarnation,
    /// Whether chitchat's failure detector holds it live.
    pub(crate) live: bool,
    /// Whether it set the leaving key.
    pub(crate) leaving: bool,
    /// `None` until its keys have arrived.
    pub(crate) metadata: Option<NodeMetadata>,
}

/// The view from chitchat's entries: per node the highest incarnation
/// wins; a winner whose metadata has not arrived yet is left out (the
/// older incarnations it displaced stay out too).
pub(crate) fn build_view(entries: impl IntoIterator<Item = GossipEntry>) -> MembershipView {
    let mut entries: Vec<GossipEntry> = entries.into_iter().collect();
    // Per node, highest incarnation first.
    entries.sort_by(|a, b| {
        a.node
            .cmp(&b.node)
            .then_with(|| b.incarnation.cmp(&a.incarnation))
    });
    entries.dedup_by(|later, first| later.node == first.node);
    let members: Vec<Member> = entries
        .into_iter()
        .filter_map(|entry| {
            let state = if entry.leaving {
                MemberState::Leaving
            } else if entry.live {
                MemberState::Alive
            } else {
                MemberState::Dead
            };
            Some(Member {
                node: entry.node,
                incarnation: entry.incarnation,
                metadata: entry.metadata?,
                state,
            })
        })
        .collect();
    let coordinator = choose_coordinator(&members).cloned();
    MembershipView {
        members,
        coordinator,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::DEFAULT_MAX_FRAME;

    fn entry(node: &str, incarnation: u64, live: bool) -> GossipEntry {
        GossipEntry {
            node: NodeId::new(node),
            incarnation: Incarnation(incarnation),
            live,
            leaving: false,
            metadata: Some(NodeMetadata::new(
                node,
                format!("{node}-http"),
                ShardCount::new(16).unwrap(),
            )),
        }
    }

    /// A newer incarnation at an address displaces the older one even
    /// while the older is still held live.
    #[test]
    fn the_highest_incarnation_per_address_wins() {
        let view = build_view([
            entry("a:1", 5, true),
            entry("a:1", 9, true),
            entry("b:1", 7, true),
            entry("a:1", 7, true),
        ]);
        let a = view.member(&NodeId::new("a:1")).unwrap();
        assert_eq!(a.incarnation, Incarnation(9));
        assert_eq!(view.members.len(), 2);
        assert_eq!(
            view.live_nodes(),
            vec![NodeId::new("a:1"), NodeId::new("b:1")]
        );
    }

    /// A displaced live incarnation does not mask a newer one that is not
    /// live yet: the address is dead until the new process is seen live.
    #[test]
    fn a_newer_incarnation_not_yet_live_shows_the_member_dead() {
        let view = build_view([entry("a:1", 5, true), entry("a:1", 9, false)]);
        let a = view.member(&NodeId::new("a:1")).unwrap();
        assert_eq!(
            (a.incarnation, a.state),
            (Incarnation(9), MemberState::Dead)
        );
        assert_eq!(view.coordinator, None);
    }

    /// Leaving beats live; a member without metadata is not shown.
    #[test]
    fn leaving_and_incomplete_members() {
        let mut leaving = entry("a:1", 1, true);
        leaving.leaving = true;
        let mut unknown = entry("c:1", 1, true);
        unknown.metadata = None;
        let view = build_view([leaving, entry("b:1", 2, true), unknown]);
        assert_eq!(view.members.len(), 2);
        assert_eq!(view.members[0].state, MemberState::Leaving);
        assert_eq!(view.live_nodes(), vec![NodeId::new("b:1")]);
        assert_eq!(view.coordinator, Some(NodeId::new("b:1")));
    }

    /// Members with another shard count or another largest frame are
    /// reported.
    #[test]
    fn misconfigured_members_are_found() {
        let mut other_shards = entry("b:1", 1, true);
        other_shards.metadata.as_mut().unwrap().shards = ShardCount::new(8).unwrap();
        let mut other_frames = entry("c:1", 1, true);
        other_frames.metadata.as_mut().unwrap().max_frame = 1 << 20;
        let view = build_view([entry("a:1", 1, true), other_shards, other_frames]);
        let mismatched: Vec<&NodeId> = view
            .misconfigured(ShardCount::new(16).unwrap(), DEFAULT_MAX_FRAME)
            .into_iter()
            .map(|member| &member.node)
            .collect();
        assert_eq!(mismatched, vec![&NodeId::new("b:1"), &NodeId::new("c:1")]);
    }
}
