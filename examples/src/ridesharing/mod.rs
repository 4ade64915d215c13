//! Ride sharing, after the Flink Forward 2019 Stateful Functions keynote.
//!
//! Drivers roam a grid and report where they are to the geo index, one
//! [`GeoCell`] function per grid cell. A [`Passenger`] requests a ride; the
//! [`Ride`] function (its id is the ride's id) asks the cells around the
//! pickup for their free drivers, ring by ring, and bids to the nearest; a
//! [`Driver`] accepts if it is free (and is booked) or declines (and the ride
//! bids to the next candidate, widens its search, or, when no driver anywhere
//! is free, tries again a little later). The driver then drives to the
//! pickup, rides to the drop-off (both are delayed messages to itself), and
//! reports each step to the ride, which tells the passenger, emits the
//! completed ride to the [`RIDES_EGRESS`] egress and counts it in [`Stats`].
//!
//! # Layout
//! - `geo`: positions, the grid of cells, and the [`GeoCell`] function.
//! - `messages`: every message, grouped by the function that takes it.
//! - `driver`: the [`Driver`] function.
//! - `passenger`: the [`Passenger`] function.
//! - `ride`: the [`Ride`] function, which matches and follows one ride.
//! - `stats`: the [`Stats`] function, the run's counters.
//! - `simulator`: populates a node with drivers and passengers and follows
//!   the run to its end.

mod driver;
mod geo;
mod messages;
mod passenger;
mod ride;
mod simulator;
mod stats;

pub use driver::{driver, Driver};
pub use geo::{Cell, GeoCell, Grid, Position};
pub use messages::*;
pub use passenger::{passenger, Passenger};
pub use ride::{ride, Ride, RIDES_EGRESS};
pub use simulator::{register, Progress, SimConfig, Simulator, Summary};
pub use stats::{stats, Stats};
