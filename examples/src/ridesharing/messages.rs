//! Every message of the ride-sharing application, grouped by the function
//! that takes it; replies sit beside their requests.

use std::time::Duration;

use cairn::ActorId;
use serde::{Deserialize, Serialize};

use super::geo::{Grid, Position};

/// The parameters every function of a run shares, handed to each actor in
/// the message that starts it, so that no actor reads global configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// The map.
    pub grid: Grid,
    /// Simulated travel time per distance unit, in microseconds.
    pub micros_per_unit: u64,
    /// The longest pause of a passenger between two rides, in microseconds.
    pub think_micros: u64,
    /// How often a free driver moves, in microseconds; 0 keeps free drivers
    /// still.
    pub roam_micros: u64,
    /// The first pause before a ride searches again after finding no free
    /// driver anywhere, in microseconds; it doubles on each failed sweep, up
    /// to 64 times.
    pub retry_micros: u64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            grid: Grid::default(),
            micros_per_unit: 1_000,
            think_micros: 5_000,
            roam_micros: 25_000,
            retry_micros: 2_000,
        }
    }
}

impl Params {
    /// How long it takes to drive `distance` units (at least a millisecond).
    pub fn travel_time(&self, distance: u64) -> Duration {
        Duration::from_micros(distance.saturating_mul(self.micros_per_unit).max(1_000))
    }
}

// ---- Driver -----------------------------------------------------------------

/// Starts a driver at `position`: it becomes free and joins its cell.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct JoinFleet {
    /// The run's parameters.
    pub params: Params,
    /// Where the driver starts.
    pub position: Position,
    /// The seed of the driver's own PRNG.
    pub seed: u64,
}

/// A free driver's timer to move a little.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Roam {
    /// Which roaming timer this is; a stale one is ignored.
    pub generation: u64,
}

/// A ride offers itself to a driver. Answered with [`BidAccepted`] or
/// [`BidDeclined`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bid {
    /// The ride's id.
    pub ride: ActorId,
    /// Where the passenger waits.
    pub pickup: Position,
    /// Where the passenger goes.
    pub dropoff: Position,
}

/// The driver was free and is now booked for the ride.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BidAccepted {
    /// The driver.
    pub driver: ActorId,
}

/// The driver is not free.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BidDeclined {
    /// The driver.
    pub driver: ActorId,
}

/// The driver's timer: it has reached the pickup.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ArrivedAtPickup;

/// The driver's timer: it has reached the drop-off.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ArrivedAtDropoff;

/// Asks a driver for a [`DriverView`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GetDriver;

/// What a driver is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DriverStatus {
    /// Not started yet.
    #[default]
    Offline,
    /// Roaming, takes bids.
    Free,
    /// Accepted a ride, driving to the pickup.
    Booked,
    /// Driving the passenger to the drop-off.
    Riding,
}

/// A driver's state, as [`GetDriver`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverView {
    /// What the driver is doing.
    pub status: DriverStatus,
    /// Where it is.
    pub position: Position,
    /// Rides it has completed.
    pub rides_completed: u64,
    /// Bids it declined because it was not free.
    pub bids_declined: u64,
}

// ---- GeoCell ----------------------------------------------------------------

/// A driver reports its position and whether it is free to the cell it is in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriverAt {
    /// The driver.
    pub driver: ActorId,
    /// Its position, inside the cell.
    pub position: Position,
    /// Whether it takes bids.
    pub free: bool,
}

/// A driver has moved out of the cell.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriverLeft {
    /// The driver.
    pub driver: ActorId,
}

/// A ride asks a cell for its free drivers. Answered with [`NearbyDrivers`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct FindDrivers {
    /// The ride's search round, echoed in the answer.
    pub round: u32,
}

/// A cell's free drivers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NearbyDrivers {
    /// The search round this answers.
    pub round: u32,
    /// The free drivers, with their last reported positions.
    pub drivers: Vec<NearbyDriver>,
}

/// One free driver of [`NearbyDrivers`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NearbyDriver {
    /// The driver.
    pub driver: ActorId,
    /// Its last reported position.
    pub position: Position,
}

/// Asks a cell for the drivers in it; the reply is a `Vec<ActorId>`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GetCell;

// ---- Ride -------------------------------------------------------------------

/// A passenger requests the ride: the ride starts looking for a driver.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateRide {
    /// The run's parameters.
    pub params: Params,
    /// The passenger.
    pub passenger: ActorId,
    /// Where the passenger waits.
    pub pickup: Position,
    /// Where the passenger goes.
    pub dropoff: Position,
}

/// The ride's timer: search the map again.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RetrySearch;

/// The driver has picked the passenger up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PickedUp {
    /// The driver.
    pub driver: ActorId,
}

/// The driver has dropped the passenger off.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DroppedOff {
    /// The driver.
    pub driver: ActorId,
}

/// Asks a ride for a [`RideView`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GetRide;

/// Where a ride is in its life.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RidePhase {
    /// Not requested yet.
    #[default]
    New,
    /// Asking cells for free drivers, or waiting to search again.
    Searching,
    /// Waiting for a driver's answer to a bid.
    Bidding(ActorId),
    /// A driver accepted and drives to the pickup.
    Assigned(ActorId),
    /// The passenger is on board.
    Riding(ActorId),
    /// The passenger was dropped off.
    Completed(ActorId),
}

/// A ride's state, as [`GetRide`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RideView {
    /// Where the ride is.
    pub phase: RidePhase,
    /// Bids declined by drivers that were not free after all.
    pub declined_bids: u32,
    /// Whole-map searches that found no free driver.
    pub failed_sweeps: u32,
}

/// A completed ride, as emitted to the rides egress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RideRecord {
    /// The ride.
    pub ride: ActorId,
    /// The passenger.
    pub passenger: ActorId,
    /// The driver.
    pub driver: ActorId,
    /// Where the passenger was picked up.
    pub pickup: Position,
    /// Where the passenger was dropped off.
    pub dropoff: Position,
    /// Bids declined before a driver accepted.
    pub declined_bids: u32,
}

// ---- Passenger --------------------------------------------------------------

/// Starts a passenger at `position`, to request `rides` rides one after the
/// other.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct StartPassenger {
    /// The run's parameters.
    pub params: Params,
    /// Where the passenger starts.
    pub position: Position,
    /// The seed of the passenger's own PRNG.
    pub seed: u64,
    /// How many rides to request.
    pub rides: u32,
}

/// The passenger's timer: request the next ride.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RequestNextRide;

/// The ride tells its passenger which driver is coming.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriverAssigned {
    /// The ride.
    pub ride: ActorId,
    /// The driver.
    pub driver: ActorId,
}

/// The ride tells its passenger the ride has begun.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RideStarted {
    /// The ride.
    pub ride: ActorId,
}

/// The ride tells its passenger it has arrived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RideCompleted {
    /// The ride.
    pub ride: ActorId,
    /// Where the passenger now is.
    pub dropoff: Position,
}

/// Asks a passenger for a [`PassengerView`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GetPassenger;

/// What a passenger is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PassengerStatus {
    /// Between rides, or done.
    #[default]
    Idle,
    /// Requested a ride, no driver yet.
    Waiting,
    /// A driver is on the way.
    Assigned,
    /// On board.
    Riding,
}

/// A passenger's state, as [`GetPassenger`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassengerView {
    /// What the passenger is doing.
    pub status: PassengerStatus,
    /// Rides requested.
    pub requested: u32,
    /// Rides completed.
    pub completed: u32,
    /// Rides still to request.
    pub remaining: u32,
}

// ---- Stats ------------------------------------------------------------------

/// What a ride reports to the run's [`super::Stats`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum StatsEvent {
    /// A ride was requested.
    Requested,
    /// A driver accepted a ride.
    Matched,
    /// A ride completed, after this many declined bids.
    Completed {
        /// Bids declined before a driver accepted.
        declined_bids: u32,
    },
}

/// Asks the stats for a [`StatsView`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GetStats;

/// The run's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsView {
    /// Rides requested.
    pub requested: u64,
    /// Rides a driver accepted.
    pub matched: u64,
    /// Rides completed.
    pub completed: u64,
    /// Bids declined, over completed rides.
    pub declined_bids: u64,
}
