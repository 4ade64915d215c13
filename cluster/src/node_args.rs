//! The command-line flags every Cairn node takes, for an application's
//! binary to flatten into its own: where it listens, whom it joins, where
//! it snapshots and serves HTTP.
//!
//! ```
//! use clap::Parser;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     node: cairn::NodeArgs,
//! }
//!
//! let cli = Cli::parse_from(["app", "--store", "memory://"]);
//! let builder = cli.node.configure(cairn::Node::builder());
//! # drop(builder);
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use crate::transport::{Secret, DEFAULT_MAX_FRAME, SECRET_ENV};
use crate::{ClusterSettings, NodeBuilder, DEFAULT_CLUSTER_ID, MAX_MAX_FRAME, MIN_MAX_FRAME};

/// The standard flags of a node. Without `--bind` the node runs alone;
/// with it, it is a member of the cluster reached through `--seeds`, and
/// every member must be given the same `--store`, `--shards`,
/// `--cluster-id`, `--max-frame` and secret.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Node")]
pub struct NodeArgs {
    /// Joins a cluster, listening for it on HOST:PORT (TCP, and UDP for
    /// gossip; port 0: a free one). Without it the node runs alone.
    #[arg(long, value_name = "HOST:PORT")]
    pub bind: Option<SocketAddr>,
    /// Members to join through, comma-separated HOST:PORT; none starts a
    /// new cluster.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = parse_seed,
        requires = "bind"
    )]
    pub seeds: Vec<String>,
    /// The snapshot store, shared by every member: fs://PATH, memory:// or
    /// s3://BUCKET/PREFIX?endpoint=…&region=….
    #[arg(long, value_name = "URL", default_value = NodeArgs::DEFAULT_STORE, value_parser = parse_store)]
    pub store: String,
    /// Serves the node's HTTP endpoint on HOST:PORT (port 0: a free one).
    #[arg(long, value_name = "HOST:PORT", default_value = NodeArgs::DEFAULT_HTTP)]
    pub http: SocketAddr,
    /// How many shards; the same on every member, fixed for the life of
    /// the store.
    #[arg(long, value_name = "N", default_value_t = NodeArgs::DEFAULT_SHARDS, value_parser = clap::value_parser!(u32).range(1..))]
    pub shards: u32,
    /// How often a snapshot epoch starts, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub snapshot_interval_ms: u64,
    /// The cluster's name; members of another cluster are refused.
    #[arg(long, value_name = "ID", default_value = DEFAULT_CLUSTER_ID, requires = "bind")]
    pub cluster_id: String,
    /// The secret members authenticate each other with. Prefer the
    /// environment variable: a flag shows in the process list. Without
    /// one (or with an empty one) the cluster port is unauthenticated.
    #[arg(
        long,
        value_name = "SECRET",
        env = SECRET_ENV,
        hide_env_values = true,
        value_parser = |secret: &str| Ok::<_, std::convert::Infallible>(Secret::new(secret))
    )]
    pub secret: Option<Secret>,
    /// The largest frame between members, in bytes; the same on every
    /// member. A message or reply larger than fits in one cannot cross
    /// to another member.
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = DEFAULT_MAX_FRAME as u64,
        value_parser = clap::value_parser!(u64).range(MIN_MAX_FRAME as u64..=MAX_MAX_FRAME as u64),
        requires = "bind"
    )]
    pub max_frame: u64,
}

/// Why a node flag's value was refused (clap reports it and exits 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlagError {
    /// A seed is not `HOST:PORT`.
    #[error("seed {seed:?} is not HOST:PORT: {reason}")]
    Seed {
        /// The seed as given.
        seed: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl NodeArgs {
    /// What `--store` defaults to: a folder in the working directory.
    pub const DEFAULT_STORE: &'static str = "fs://./cairn-data";
    /// What `--http` defaults to: loopback, a free port picked by the
    /// system.
    pub const DEFAULT_HTTP: &'static str = "127.0.0.1:0";
    /// What `--shards` defaults to.
    pub const DEFAULT_SHARDS: u32 = 64;

    /// Applies the flags to `builder`: the store (replacing one set
    /// before) and its snapshot interval, the HTTP endpoint, the shard
    /// count and, with `--bind`, the cluster. Logs a warning when a member
    /// has no secret.
    pub fn configure(&self, builder: NodeBuilder) -> NodeBuilder {
        let builder = builder
            .store(self.store.clone())
            .snapshot_interval(Some(self.snapshot_interval()))
            .http(self.http)
            .shards(self.shards);
        let Some(settings) = self.cluster_settings() else {
            return builder;
        };
        if settings.secret.is_none() {
            tracing::warn!(
                bind = %settings.bind,
                "no cluster secret (--secret or {SECRET_ENV}): the cluster port is unauthenticated"
            );
        }
        builder.cluster(settings)
    }

    /// The cluster this node joins, or `None` without `--bind`. An empty
    /// secret counts as none, as an empty [`SECRET_ENV`] does for
    /// [`Secret::from_env`].
    pub fn cluster_settings(&self) -> Option<ClusterSettings> {
        let bind = self.bind?;
        let secret = self
            .secret
            .clone()
            .filter(|secret| !secret.as_bytes().is_empty());
        Some(
            ClusterSettings::new(bind, self.seeds.iter().cloned())
                .with_cluster_id(self.cluster_id.clone())
                .with_secret(secret)
                .with_max_frame(usize::try_from(self.max_frame).unwrap_or(usize::MAX)),
        )
    }

    /// `--snapshot-interval-ms` as a duration.
    pub fn snapshot_interval(&self) -> Duration {
        Duration::from_millis(self.snapshot_interval_ms)
    }
}

/// A store URL the store understands, checked before anything opens.
fn parse_store(url: &str) -> Result<String, cairn_persistence::Error> {
    cairn_persistence::check_url(url).map(|()| url.to_owned())
}

/// `HOST:PORT`, the host a name or an address (IPv6 in brackets); names are
/// resolved later, by gossip.
fn parse_seed(seed: &str) -> Result<String, FlagError> {
    let refuse = |reason| FlagError::Seed {
        seed: seed.to_owned(),
        reason,
    };
    let (host, port) = seed.rsplit_once(':').ok_or_else(|| refuse("no port"))?;
    if host.is_empty() {
        return Err(refuse("no host"));
    }
    port.parse::<u16>()
        .map_err(|_| refuse("the port is not a number from 0 to 65535"))?;
    Ok(seed.to_owned())
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;
    use clap::Parser;

    use super::*;
    use crate::Node;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        node: NodeArgs,
    }

    fn parse(args: &[&str]) -> Result<NodeArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("node").chain(args.iter().copied())).map(|cli| cli.node)
    }

    fn refused(args: &[&str]) -> clap::Error {
        let error = parse(args).expect_err("refused");
        assert_eq!(error.exit_code(), 2, "{error}");
        error
    }

    /// With no flags, the node runs alone on the default store, loopback
    /// HTTP, 64 shards and a snapshot a second.
    #[test]
    fn no_flags_give_a_node_alone_with_the_defaults() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.bind, None);
        assert!(args.seeds.is_empty());
        assert_eq!(args.store, "fs://./cairn-data");
        assert_eq!(args.http, "127.0.0.1:0".parse().unwrap());
        assert_eq!(args.shards, 64);
        assert_eq!(args.snapshot_interval(), Duration::from_secs(1));
        assert_eq!(args.cluster_id, DEFAULT_CLUSTER_ID);
        assert_eq!(args.secret, Secret::from_env(SECRET_ENV));
        assert_eq!(args.max_frame, DEFAULT_MAX_FRAME as u64);
        assert!(args.cluster_settings().is_none());
    }

    /// Every flag lands in its field, and the cluster settings carry the
    /// cluster's.
    #[test]
    fn every_flag_is_read() {
        let args = parse(&[
            "--bind",
            "127.0.0.1:7001",
            "--seeds",
            "127.0.0.1:7000,node-2:7000,[::1]:7000",
            "--store",
            "s3://bucket/bank?region=eu",
            "--http",
            "0.0.0.0:9090",
            "--shards",
            "16",
            "--snapshot-interval-ms",
            "250",
            "--cluster-id",
            "bank",
            "--secret",
            "s3cret",
            "--max-frame",
            "1048576",
        ])
        .unwrap();
        assert_eq!(args.store, "s3://bucket/bank?region=eu");
        assert_eq!(args.http, "0.0.0.0:9090".parse().unwrap());
        assert_eq!(args.shards, 16);
        assert_eq!(args.snapshot_interval(), Duration::from_millis(250));
        let settings = args.cluster_settings().unwrap();
        assert_eq!(settings.bind, "127.0.0.1:7001".parse().unwrap());
        assert_eq!(
            settings.seeds,
            ["127.0.0.1:7000", "node-2:7000", "[::1]:7000"]
        );
        assert_eq!(settings.cluster_id, "bank");
        assert_eq!(settings.secret, Some(Secret::new("s3cret")));
        assert_eq!(settings.max_frame, 1 << 20);
    }

    /// Bad values and unknown flags are command-line mistakes (exit 2),
    /// each saying what is wrong.
    #[test]
    fn bad_values_are_refused_with_the_reason() {
        let cases: [(&[&str], &str); 8] = [
            (&["--bind", "localhost"], "invalid socket address"),
            (
                &["--bind", "127.0.0.1:7000", "--seeds", "node-2"],
                "no port",
            ),
            (&["--bind", "127.0.0.1:7000", "--seeds", ":7000"], "no host"),
            (&["--shards", "0"], "0 is not in 1.."),
            (&["--snapshot-interval-ms", "0"], "0 is not in 1.."),
            (&["--store", "./cairn-data"], "expected SCHEME://"),
            (&["--store", "file:///tmp/x"], "unsupported scheme"),
            (
                &["--bind", "127.0.0.1:7000", "--max-frame", "1024"],
                "1024 is not in 65536..=4294967295",
            ),
        ];
        for (args, reason) in cases {
            let error = refused(args).to_string();
            assert!(error.contains(reason), "{args:?}: {error}");
        }
        assert_eq!(
            refused(&["--shard", "3"]).kind(),
            ErrorKind::UnknownArgument
        );
    }

    /// Cluster-only flags without `--bind` are refused rather than ignored.
    #[test]
    fn cluster_flags_need_a_bind_address() {
        for args in [
            &["--seeds", "127.0.0.1:7000"][..],
            &["--cluster-id", "bank"],
            &["--max-frame", "1048576"],
        ] {
            let error = refused(args);
            assert_eq!(error.kind(), ErrorKind::MissingRequiredArgument, "{error}");
        }
    }

    /// A secret given as a flag does not show in `Debug`; an empty one is
    /// none.
    #[test]
    fn the_secret_never_shows_and_empty_is_none() {
        let args = parse(&["--bind", "127.0.0.1:7000", "--secret", "flag-secret"]).unwrap();
        assert!(!format!("{args:?}").contains("flag-secret"));
        assert!(!format!("{:?}", args.cluster_settings()).contains("flag-secret"));
        let empty = parse(&["--bind", "127.0.0.1:7000", "--secret", ""]).unwrap();
        assert_eq!(empty.cluster_settings().unwrap().secret, None);
    }

    /// `configure` applies the store, its interval, the endpoint and the
    /// shard count to a node running alone.
    #[tokio::test]
    async fn configure_applies_the_flags_to_a_node_alone() {
        let args = { parse(&["--store", "memory://", "--shards", "5"]).unwrap() };
        let node = args.configure(Node::builder()).start().await.unwrap();
        assert_eq!(node.shard_count().get(), 5);
        assert_eq!(node.store_url(), Some("memory://"));
        assert!(node.takes_snapshots());
        assert!(node.http_addr().is_some());
        node.shutdown().await;
    }
}
