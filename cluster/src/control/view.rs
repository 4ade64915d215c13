//! `/v1/cluster` for a member: the membership as gossip tells it, the
//! coordinator, and the shard map of the generation running here.

use super::Shared;
use crate::http::views::{ClusterMode, ClusterView, MemberStatus, MemberView};
use crate::membership::MemberState;

/// The cluster as `shared`'s node sees it.
pub(super) fn of(shared: &Shared) -> ClusterView {
    let membership = shared.membership.view();
    let (generation, owners) = {
        let state = shared.member.lock();
        match &state.running {
            Some(local) => (
                Some(local.configuration.generation.0),
                local.configuration.owners.clone(),
            ),
            None => (None, Vec::new()),
        }
    };
    let members = membership
        .members
        .iter()
        .map(|member| MemberView {
            id: member.node.to_string(),
            http: member.metadata.http.clone(),
            status: match member.state {
                MemberState::Alive => MemberStatus::Alive,
                MemberState::Leaving => MemberStatus::Leaving,
                MemberState::Dead => MemberStatus::Dead,
            },
            shards: owners.iter().filter(|owner| **owner == member.node).count() as u32,
            started_at_unix_secs: member.incarnation.0 / 1_000,
            incarnation: Some(member.incarnation.0),
        })
        .collect();
    ClusterView {
        mode: ClusterMode::Cluster,
        node: shared.me().to_string(),
        coordinator: membership
            .coordinator
            .map(|node| node.to_string())
            .unwrap_or_default(),
        shard_count: shared.blueprint.config.shard_count.get(),
        members,
        generation,
        shard_owners: owners.iter().map(ToString::to_string).collect(),
    }
}
