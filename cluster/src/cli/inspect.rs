//! `cairn inspect`: the node's JSON views, as tables or as raw JSON.

use clap::{Args, Subcommand};

use cairn::http::views::{
    ActorStateView, ActorsView, ClusterView, FunctionsView, ShardsView, SnapshotsView,
};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

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
#[derive(Clone, Debug, Subcommand)]
enum View {
    /// The members, their status and the coordinator.
    Cluster,
    /// Every shard: owner, active actors, queue depth, counters.
    Shards,
    /// The registered function types, their messages and actor counts.
    Functions,
    /// A page of actors in (type, id) order.
    Actors {
        /// Only actors of this function type.
        #[arg(long = "type", value_name = "TYPE")]
        function: Option<String>,
        /// How many actors, at most (1–1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Where to continue: the cursor the previous page printed.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// One actor: its state, queue and shard, live or as of an epoch.
    Actor {
        /// The function type, e.g. `bank/account`.
        function: String,
        /// The actor's id.
        id: String,
        /// Reads the state as of this committed snapshot epoch.
        #[arg(long)]
        epoch: Option<u64>,
    },
    /// The node's recent snapshot epochs.
    Snapshots,
}

impl View {
    fn path(&self) -> String {
        match self {
            Self::Cluster => "/v1/cluster".to_owned(),
            Self::Shards => "/v1/shards".to_owned(),
            Self::Functions => "/v1/functions".to_owned(),
            Self::Actors {
                function,
                limit,
                cursor,
            } => {
                let mut path = format!("/v1/actors?limit={limit}");
                if let Some(function) = function {
                    path.push_str(&format!("&type={}", query_value(function)));
                }
                if let Some(cursor) = cursor {
                    path.push_str(&format!("&cursor={}", query_value(cursor)));
                }
                path
            }
            Self::Actor {
                function,
                id,
                epoch,
            } => {
                // The type's slashes stay (the endpoint takes the last segment
                // as the id); the id's own slashes are encoded.
                let id = utf8_percent_encode(id, NON_ALPHANUMERIC);
                match epoch {
                    Some(epoch) => format!("/v1/actors/{function}/{id}?epoch={epoch}"),
                    None => format!("/v1/actors/{function}/{id}"),
                }
            }
            Self::Snapshots => "/v1/snapshots".to_owned(),
        }
    }
}

fn query_value(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

/// Fetches the view and prints it.
pub(crate) fn run(args: InspectArgs) -> Result<(), ClientError> {
    let client = Client::new(&args.http, args.token)?;
    let path = args.view.path();
    if args.json {
        let value = client.get_json(&path)?;
        let pretty = serde_json::to_string_pretty(&value)
            .expect("a JSON value always encodes; this is a bug");
        println!("{pretty}");
        return Ok(());
    }
    let text = match args.view {
        View::Cluster => table::cluster(&client.get::<ClusterView>(&path)?),
        View::Shards => table::shards(&client.get::<ShardsView>(&path)?),
        View::Functions => table::functions(&client.get::<FunctionsView>(&path)?),
        View::Actors { .. } => table::actors(&client.get::<ActorsView>(&path)?),
        View::Actor { .. } => table::actor(&client.get::<ActorStateView>(&path)?),
        View::Snapshots => table::snapshots(&client.get::<SnapshotsView>(&path)?),
    };
    println!("{text}");
    Ok(())
}
