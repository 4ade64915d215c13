//! Why membership could not start or stop cleanly.

use std::error::Error;
use std::net::SocketAddr;

/// What went wrong in the membership agent.
#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    /// The gossip socket could not be opened.
    #[error("gossip could not start on {listen}: {source}")]
    Start {
        /// The address gossip was to listen on.
        listen: SocketAddr,
        /// What chitchat said.
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
    /// The gossip task ended with an error (its socket broke) or panicked.
    #[error("gossip stopped with an error: {0}")]
    Stopped(#[source] Box<dyn Error + Send + Sync>),
}
