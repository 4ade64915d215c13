//! Which live member is the snapshot coordinator.
//!
//! The rule: **the live member with the oldest incarnation, ties broken by
//! the lowest [`NodeId`]**. Every node that sees the same live members
//! picks the same one. Oldest rather than lowest address so that a joining
//! node never takes the role over: a coordinator change costs a failover
//! (a global rollback in V1, SNAPSHOTS §3.9 rule 30), and it should happen
//! only when the coordinator itself dies, leaves or restarts (a restart is
//! a new, youngest, incarnation). Incarnations come from each node's clock;
//! skew only changes which node is picked, never whether nodes agree.
//! While views differ, two nodes may both believe they coordinate: safety
//! then rests on the create-only generation claim (§3.9 rule 29), not on
//! this choice.

use super::view::Member;
use crate::transport::NodeId;

/// The coordinator among `members`: the alive one with the oldest
/// incarnation, then the lowest node id; `None` if none is alive.
pub fn choose_coordinator<'a>(members: impl IntoIterator<Item = &'a Member>) -> Option<&'a NodeId> {
    members
        .into_iter()
        .filter(|member| member.is_alive())
        .min_by(|a, b| (a.incarnation, &a.node).cmp(&(b.incarnation, &b.node)))
        .map(|member| &member.node)
}

#[cfg(test)]
mod tests {
    use cairn_core::ShardCount;

    use super::*;
    use crate::membership::{MemberState, NodeMetadata};
    use crate::transport::Incarnation;

    fn member(node: &str, incarnation: u64, state: MemberState) -> Member {
        Member {
            node: NodeId::new(node),
            incarnation: Incarnation(incarnation),
            metadata: NodeMetadata::new(node, "h:1", ShardCount::new(4).unwrap()),
            state,
        }
    }

    /// The oldest live incarnation wins, whatever its address.
    #[test]
    fn the_oldest_live_member_coordinates() {
        let members = [
            member("a:1", 30, MemberState::Alive),
            member("b:1", 10, MemberState::Alive),
            member("c:1", 20, MemberState::Alive),
        ];
        assert_eq!(choose_coordinator(&members), Some(&NodeId::new("b:1")));
    }

    /// A joining (younger) node does not take over.
    #[test]
    fn a_join_keeps_the_coordinator() {
        let mut members = vec![
            member("b:1", 10, MemberState::Alive),
            member("c:1", 20, MemberState::Alive),
        ];
        members.push(member("a:1", 40, MemberState::Alive));
        assert_eq!(choose_coordinator(&members), Some(&NodeId::new("b:1")));
    }

    /// Dead and leaving members are passed over; equal incarnations fall
    /// back to the lowest node id; nobody alive means no coordinator.
    #[test]
    fn only_alive_members_count_and_ties_go_to_the_lowest_id() {
        let members = [
            member("a:1", 1, MemberState::Dead),
            member("b:1", 2, MemberState::Leaving),
            member("d:1", 5, MemberState::Alive),
            member("c:1", 5, MemberState::Alive),
        ];
        assert_eq!(choose_coordinator(&members), Some(&NodeId::new("c:1")));
        assert_eq!(choose_coordinator(&members[..2]), None);
    }
}
