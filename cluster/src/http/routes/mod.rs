//! The routes, one module per family, and the table of their names.
//!
//! Each resource is registered under a name from [`ROUTES`]; the metrics
//! middleware labels requests by that name.

pub(crate) mod actors;
pub(crate) mod health;
pub(crate) mod invoke;
pub(crate) mod metrics;
pub(crate) mod snapshots;
pub(crate) mod views;

/// A named route and the success statuses it answers with, for
/// registering its request counters at zero.
pub(crate) struct RouteName {
    /// The resource's name, the `route` label of HTTP metrics.
    pub(crate) name: &'static str,
    /// The statuses a successful request gets.
    pub(crate) statuses: &'static [u16],
}

/// Every named route.
pub(crate) const ROUTES: &[RouteName] = &[
    RouteName {
        name: "healthz",
        statuses: &[200],
    },
    RouteName {
        name: "readyz",
        statuses: &[200],
    },
    RouteName {
        name: "metrics",
        statuses: &[200],
    },
    RouteName {
        name: "cluster",
        statuses: &[200],
    },
    RouteName {
        name: "shards",
        statuses: &[200],
    },
    RouteName {
        name: "functions",
        statuses: &[200],
    },
    RouteName {
        name: "actors",
        statuses: &[200],
    },
    RouteName {
        name: "actor",
        statuses: &[200],
    },
    RouteName {
        name: "snapshots",
        statuses: &[200],
    },
    RouteName {
        name: "invoke",
        statuses: &[200, 202],
    },
];
