//! `NodeArgs` reads the cluster secret from `CAIRN_CLUSTER_SECRET`. A test
//! binary of its own: it sets the process's environment, which tests
//! running beside it in one process would see.

use cairn::transport::{Secret, SECRET_ENV};
use cairn::NodeArgs;
use clap::Parser;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    node: NodeArgs,
}

/// The secret comes from the environment when no flag gives it, the flag
/// wins over it, an empty one is none, and neither `Debug` nor `--help`
/// shows it.
#[test]
fn the_secret_comes_from_the_environment_and_never_shows() {
    std::env::set_var(SECRET_ENV, "env-secret");
    let from_env = Cli::try_parse_from(["node", "--bind", "127.0.0.1:7000"])
        .unwrap()
        .node;
    assert_eq!(from_env.secret, Some(Secret::new("env-secret")));
    assert!(!format!("{from_env:?}").contains("env-secret"));
    let flag = Cli::try_parse_from(["node", "--bind", "127.0.0.1:7000", "--secret", "flag"])
        .unwrap()
        .node;
    assert_eq!(flag.secret, Some(Secret::new("flag")));
    let help = Cli::try_parse_from(["node", "--help"])
        .unwrap_err()
        .render()
        .to_string();
    assert!(help.contains(SECRET_ENV), "{help}");
    assert!(!help.contains("env-secret"), "{help}");

    std::env::set_var(SECRET_ENV, "");
    let empty = Cli::try_parse_from(["node", "--bind", "127.0.0.1:7000"])
        .unwrap()
        .node;
    assert_eq!(empty.cluster_settings().unwrap().secret, None);
    std::env::remove_var(SECRET_ENV);
}
