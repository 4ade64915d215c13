//! `cairn inspect`: the node's JSON views, as tables or as raw JSON.

use clap::{Args, Subcommand};

use cairn::http::views::{ClusterView, FunctionsView, ShardsView};

use super::client::{Client, ClientError};
use super::table;

/// Where the node is and how to print what it says.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The node's HTTP endpoint: HOST:PORT or http://HOST:PORT.
    #[arg(long, value_name = "ADDR")]
    http: String,
    /// The bearer token, for a node that protects its views.
    #[arg(long, env = "CAIRN_HTTP_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Prints the node's JSON as is instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    view: View,
}

/// What to show.
#[derive(Clone, Copy, Debug, Subcommand)]
enum View {
    /// The members, their status and the coordinator.
    Cluster,
    /// Every shard: owner, active actors, queue depth, counters.
    Shards,
    /// The registered function types and their messages.
    Functions,
}

impl View {
    fn path(self) -> &'static str {
        match self {
            Self::Cluster => "/v1/cluster",
            Self::Shards => "/v1/shards",
            Self::Functions => "/v1/functions",
        }
    }
}

/// Fetches the view and prints it.
pub(crate) fn run(args: InspectArgs) -> Result<(), ClientError> {
    let client = Client::new(&args.http, args.token)?;
    let path = args.view.path();
    if args.json {
        let value = client.get_json(path)?;
        let pretty = serde_json::to_string_pretty(&value)
            .expect("a JSON value always encodes; this is a bug");
        println!("{pretty}");
        return Ok(());
    }
    let text = match args.view {
        View::Cluster => table::cluster(&client.get::<ClusterView>(path)?),
        View::Shards => table::shards(&client.get::<ShardsView>(path)?),
        View::Functions => table::functions(&client.get::<FunctionsView>(path)?),
    };
    println!("{text}");
    Ok(())
}
