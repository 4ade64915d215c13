//! `GET /v1/cluster` as the tests read it. The fields are those of the
//! node's `ClusterView` (`cairn::http::views`), whose names are its wire
//! contract; `incarnation` is what the fencing checks need from the
//! cluster wiring (issue 4: a member's metadata carries its incarnation).

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

/// The members and who coordinates them, as one node sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterView {
    /// The id of the node that coordinates.
    pub coordinator: String,
    /// The cluster's fixed shard count.
    pub shard_count: u32,
    /// Every member the node knows of.
    pub members: Vec<MemberView>,
    /// The generation of the shard map running on the node: it changes
    /// only when the cluster rolls back to a commit.
    #[serde(default)]
    pub generation: Option<u64>,
}

/// One member as a node sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct MemberView {
    /// The member's id (its cluster address, or its HTTP address).
    pub id: String,
    /// Its HTTP endpoint's address.
    pub http: String,
    /// `alive` when up.
    pub status: String,
    /// How many shards it owns.
    pub shards: u32,
    /// Which life of the process at that address it is: a restart, or a
    /// member fenced and rejoined, has a larger one.
    #[serde(default)]
    pub incarnation: Option<u64>,
}

impl MemberView {
    /// Whether this is the member at cluster address `bind` whose HTTP
    /// endpoint is `http`.
    pub fn is(&self, bind: SocketAddr, http: SocketAddr) -> bool {
        let (bind, http) = (bind.to_string(), http.to_string());
        self.id == bind || self.id == http || self.http == http
    }

    /// Whether it is up.
    pub fn is_alive(&self) -> bool {
        self.status == "alive"
    }
}

impl ClusterView {
    /// The member at `bind` with HTTP endpoint `http`, if listed.
    pub fn member(&self, bind: SocketAddr, http: SocketAddr) -> Option<&MemberView> {
        self.members.iter().find(|member| member.is(bind, http))
    }

    /// The live members.
    pub fn alive(&self) -> impl Iterator<Item = &MemberView> {
        self.members.iter().filter(|member| member.is_alive())
    }
}

/// `GET http://ADDR/v1/cluster`, parsed; `Err` with the reason (refused,
/// not 200, another shape) so that a poll can retry and report it.
pub fn fetch(http: SocketAddr) -> Result<ClusterView, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let url = format!("http://{http}/v1/cluster");
    let mut response = agent
        .get(&url)
        .call()
        .map_err(|error| format!("GET {url}: {error}"))?;
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|error| format!("GET {url}: reading the body: {error}"))?;
    if response.status() != 200 {
        return Err(format!("GET {url}: {}: {body}", response.status()));
    }
    serde_json::from_str(&body).map_err(|error| format!("GET {url}: {error}: {body}"))
}
