//! The built-in simulator: starts drivers and passengers on a node, then
//! follows the run until every requested ride has completed or time is up.
//!
//! Everything after the start is driven by the actors themselves (delayed
//! messages for driving, riding, roaming and pauses between rides); the
//! simulator only reads the [`super::Stats`] counters and the shards'
//! statistics.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _};
use cairn::{Node, NodeBuilder};

use super::driver::{driver, Driver};
use super::geo::GeoCell;
use super::messages::{GetStats, JoinFleet, Params, StartPassenger, StatsView};
use super::passenger::{passenger, Passenger};
use super::ride::Ride;
use super::stats::{stats, Stats};
use crate::Rng;

/// How often the simulator reads the counters to see whether the run is over.
const POLL: Duration = Duration::from_millis(20);

/// Registers every ride-sharing function on a node being built.
pub fn register(builder: NodeBuilder) -> NodeBuilder {
    builder
        .register::<Driver>()
        .register::<Passenger>()
        .register::<Ride>()
        .register::<GeoCell>()
        .register::<Stats>()
}

/// The size and shape of a simulated run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimConfig {
    /// Drivers `0..drivers`.
    pub drivers: u64,
    /// Passengers `0..passengers`.
    pub passengers: u64,
    /// Rides requested in all, shared out among the passengers.
    pub rides: u64,
    /// The seed every actor's PRNG derives from.
    pub seed: u64,
    /// What the actors share: map, speeds, pauses.
    pub params: Params,
    /// How long the run may take before it is given up.
    pub timeout: Duration,
}

impl SimConfig {
    /// How many rides passenger `id` requests: the rides shared out as
    /// evenly as possible.
    pub fn rides_of(&self, id: u64) -> u32 {
        if self.passengers == 0 {
            return 0;
        }
        let share = self.rides / self.passengers + u64::from(id < self.rides % self.passengers);
        u32::try_from(share).unwrap_or(u32::MAX)
    }
}

/// A progress report, made once a second while the run goes on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Time since the start.
    pub elapsed: Duration,
    /// The run's counters.
    pub stats: StatsView,
    /// Messages handled by every shard since the node started.
    pub messages_handled: u64,
    /// Messages handled per second since the previous report.
    pub messages_per_sec: f64,
    /// Actors in memory.
    pub active_actors: usize,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The rides the run was to request.
    pub rides: u64,
    /// The run's counters at the end.
    pub stats: StatsView,
    /// Rides requested that no driver ever accepted.
    pub unmatched: u64,
    /// Messages handled by every shard.
    pub messages_handled: u64,
    /// Actors in memory at the end.
    pub active_actors: usize,
    /// Time from the start to the last completion (or the timeout).
    pub elapsed: Duration,
    /// Whether the run ran out of time.
    pub timed_out: bool,
}

impl Summary {
    /// Whether every ride was requested and completed.
    pub fn all_completed(&self) -> bool {
        !self.timed_out && self.stats.requested == self.rides && self.stats.completed == self.rides
    }

    /// Messages handled per second over the run.
    pub fn messages_per_sec(&self) -> f64 {
        self.messages_handled as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs simulations on a node with the ride-sharing functions registered
/// (see [`register`]).
#[derive(Debug, Clone)]
pub struct Simulator {
    node: Node,
    config: SimConfig,
}

impl Simulator {
    /// A simulator of `config` on `node`.
    pub fn new(node: Node, config: SimConfig) -> anyhow::Result<Self> {
        ensure!(
            config.passengers > 0 || config.rides == 0,
            "{} rides need at least one passenger",
            config.rides
        );
        ensure!(
            config.params.grid.side > 0,
            "the grid needs at least one cell"
        );
        ensure!(
            config.params.grid.cell_size > 0,
            "cells must be at least one unit wide"
        );
        Ok(Self { node, config })
    }

    /// Starts the drivers and passengers, follows the run to its end and
    /// sums it up; `on_progress` is called about once a second meanwhile.
    pub async fn run(&self, mut on_progress: impl FnMut(&Progress)) -> anyhow::Result<Summary> {
        let start = Instant::now();
        self.populate()?;
        let mut last_report = (start, 0u64);
        let (stats, timed_out) = loop {
            let stats = self.stats().await?;
            if stats.completed >= self.config.rides {
                break (stats, false);
            }
            if start.elapsed() >= self.config.timeout {
                break (stats, true);
            }
            if last_report.0.elapsed() >= Duration::from_secs(1) {
                let (handled, active_actors) = self.shard_totals().await?;
                let since = last_report.0.elapsed().as_secs_f64();
                on_progress(&Progress {
                    elapsed: start.elapsed(),
                    stats,
                    messages_handled: handled,
                    messages_per_sec: handled.saturating_sub(last_report.1) as f64 / since,
                    active_actors,
                });
                last_report = (Instant::now(), handled);
            }
            tokio::time::sleep(POLL).await;
        };
        let elapsed = start.elapsed();
        let (messages_handled, active_actors) = self.shard_totals().await?;
        Ok(Summary {
            rides: self.config.rides,
            stats,
            unmatched: stats.requested - stats.matched,
            messages_handled,
            active_actors,
            elapsed,
            timed_out,
        })
    }

    /// Sends every driver and passenger its start message.
    fn populate(&self) -> anyhow::Result<()> {
        let config = &self.config;
        let mut rng = Rng::new(config.seed);
        for id in 0..config.drivers {
            let join = JoinFleet {
                params: config.params,
                position: config.params.grid.random_position(&mut rng),
                seed: Rng::derive(config.seed, 2 * id).next_u64(),
            };
            self.node.send(driver(id), join)?;
        }
        for id in 0..config.passengers {
            let start = StartPassenger {
                params: config.params,
                position: config.params.grid.random_position(&mut rng),
                seed: Rng::derive(config.seed, 2 * id + 1).next_u64(),
                rides: config.rides_of(id),
            };
            self.node.send(passenger(id), start)?;
        }
        Ok(())
    }

    /// The run's counters.
    pub async fn stats(&self) -> anyhow::Result<StatsView> {
        self.node
            .ask(stats(), GetStats)
            .await
            .context("reading the ride counters")
    }

    /// Messages handled and actors in memory, over every shard.
    async fn shard_totals(&self) -> anyhow::Result<(u64, usize)> {
        let shards = self.node.shard_stats().await?;
        Ok((
            shards.iter().map(|shard| shard.messages_handled).sum(),
            shards.iter().map(|shard| shard.active_actors).sum(),
        ))
    }
}
