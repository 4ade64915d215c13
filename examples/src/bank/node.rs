//! The bank as a long-running node, alone or one member of a cluster:
//! every member is given the same transfers file and parameters, and the
//! cluster as a whole reads the file, each member the splits its shards
//! host.

use std::path::PathBuf;

use cairn::{Node, NodeArgs};

use super::{Account, BankParameters};
use crate::launch;

/// What `bank node` was asked to do.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// The standard node flags: store, HTTP, shards, cluster.
    pub node: NodeArgs,
    /// The transfers file, the same on every member.
    pub transfers: PathBuf,
    /// The bank's parameters, the same on every member.
    pub parameters: BankParameters,
}

/// Checks the transfers file, pins the parameters in the store (refusing
/// others than it was started with, as `bank run` does), starts the node
/// — resuming from the last committed epoch — and serves until SIGINT or
/// SIGTERM; then stops it, leaving the cluster if it is a member.
pub async fn serve(options: NodeOptions) -> anyhow::Result<()> {
    let NodeOptions {
        node: args,
        transfers,
        parameters,
    } = options;
    let file = parameters.check(&transfers)?;
    let ingress = parameters.pin(&args.store, &file).await?;
    let builder = Node::builder().register::<Account>().ingress(ingress);
    let node = launch::start_with_flags(&args, builder).await?;
    launch::wait_for_stop_signal().await;
    node.shutdown().await;
    Ok(())
}
