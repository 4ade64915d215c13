//! The [`Ride`] function: finds a driver for one ride and follows it to the
//! drop-off.
//!
//! The search asks the cells around the pickup for their free drivers, one
//! ring of cells at a time, and bids to the candidates nearest first. A
//! decline moves on to the next candidate; an exhausted ring widens the
//! search; a search that has covered the whole map without an acceptance
//! waits (longer each time) and starts over, so that with at least one
//! driver every ride is eventually served.

use std::time::Duration;

use cairn::prelude::*;
use serde::{Deserialize, Serialize};

use super::geo::{Cell, Position};
use super::messages::{
    Bid, BidAccepted, BidDeclined, CreateRide, DriverAssigned, DroppedOff, FindDrivers, GetRide,
    NearbyDrivers, Params, PickedUp, RetrySearch, RideCompleted, RidePhase, RideRecord,
    RideStarted, RideView, StatsEvent,
};
use super::stats::stats;
use super::{driver::Driver, passenger::Passenger};
use crate::egress::emit_optional;

/// The egress completed rides are emitted to, as [`RideRecord`]s.
pub const RIDES_EGRESS: &str = "rides";

/// The longest a ride waits before searching again, as a power of two times
/// [`Params::retry_micros`].
const MAX_BACKOFF_SHIFT: u32 = 6;

/// One ride, identified by `"{passenger}-{n}"`.
#[stateful_function(name = "ridesharing/ride")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Ride {
    params: Params,
    passenger: Option<ActorId>,
    pickup: Position,
    dropoff: Position,
    phase: RidePhase,
    search: Search,
    declined_bids: u32,
    failed_sweeps: u32,
}

/// Where a search is.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Search {
    /// Numbers the rings asked, so that a late answer is recognised.
    round: u32,
    /// The ring being asked.
    radius: u32,
    /// Cells of the ring that have not answered yet.
    awaiting: usize,
    /// Free drivers found and not bid to yet, farthest first.
    candidates: Vec<(u64, ActorId)>,
}

/// The address of ride `id`.
pub fn ride(id: impl Into<ActorId>) -> Address {
    Address::of::<Ride>(id)
}

#[handlers]
impl Ride {
    fn create(&mut self, ctx: &mut Context, msg: CreateRide) {
        if self.phase != RidePhase::New {
            return;
        }
        self.params = msg.params;
        self.passenger = Some(msg.passenger);
        self.pickup = msg.pickup;
        self.dropoff = msg.dropoff;
        self.phase = RidePhase::Searching;
        ctx.send(stats(), StatsEvent::Requested);
        self.start_sweep(ctx);
    }

    fn nearby_drivers(&mut self, ctx: &mut Context, msg: NearbyDrivers) {
        if self.phase != RidePhase::Searching || msg.round != self.search.round {
            return;
        }
        let pickup = self.pickup;
        self.search.candidates.extend(
            msg.drivers
                .into_iter()
                .map(|nearby| (nearby.position.distance(pickup), nearby.driver)),
        );
        self.search.awaiting = self.search.awaiting.saturating_sub(1);
        if self.search.awaiting == 0 {
            // Nearest last, so that `pop` takes it.
            self.search.candidates.sort_by(|a, b| b.cmp(a));
            self.bid_or_widen(ctx);
        }
    }

    fn bid_declined(&mut self, ctx: &mut Context, msg: BidDeclined) {
        if self.phase != RidePhase::Bidding(msg.driver) {
            return;
        }
        self.declined_bids += 1;
        self.phase = RidePhase::Searching;
        self.bid_or_widen(ctx);
    }

    fn bid_accepted(&mut self, ctx: &mut Context, msg: BidAccepted) {
        if self.phase != RidePhase::Bidding(msg.driver.clone()) {
            tracing::warn!(ride = %ctx.self_address(), driver = %msg.driver, "unexpected acceptance");
            return;
        }
        self.phase = RidePhase::Assigned(msg.driver.clone());
        self.search.candidates.clear();
        let assigned = DriverAssigned {
            ride: ctx.self_address().id().clone(),
            driver: msg.driver,
        };
        self.tell_passenger(ctx, assigned);
        ctx.send(stats(), StatsEvent::Matched);
    }

    fn picked_up(&mut self, ctx: &mut Context, msg: PickedUp) {
        if self.phase != RidePhase::Assigned(msg.driver.clone()) {
            return;
        }
        self.phase = RidePhase::Riding(msg.driver);
        let started = RideStarted {
            ride: ctx.self_address().id().clone(),
        };
        self.tell_passenger(ctx, started);
    }

    fn dropped_off(&mut self, ctx: &mut Context, msg: DroppedOff) {
        if self.phase != RidePhase::Riding(msg.driver.clone()) {
            return;
        }
        self.phase = RidePhase::Completed(msg.driver.clone());
        let me = ctx.self_address().id().clone();
        let completed = RideCompleted {
            ride: me.clone(),
            dropoff: self.dropoff,
        };
        self.tell_passenger(ctx, completed);
        let declined_bids = self.declined_bids;
        ctx.send(stats(), StatsEvent::Completed { declined_bids });
        let record = RideRecord {
            ride: me,
            passenger: self.passenger.clone().unwrap_or_else(|| "?".into()),
            driver: msg.driver,
            pickup: self.pickup,
            dropoff: self.dropoff,
            declined_bids,
        };
        emit_optional(ctx, RIDES_EGRESS, &record);
    }

    fn retry_search(&mut self, ctx: &mut Context, _msg: RetrySearch) {
        if self.phase == RidePhase::Searching && self.search.awaiting == 0 {
            self.start_sweep(ctx);
        }
    }

    fn view(&self, ctx: &mut Context, _msg: GetRide) {
        ctx.reply(RideView {
            phase: self.phase.clone(),
            declined_bids: self.declined_bids,
            failed_sweeps: self.failed_sweeps,
        });
    }
}

impl Ride {
    fn pickup_cell(&self) -> Cell {
        self.params.grid.cell_of(self.pickup)
    }

    /// Starts searching from the pickup's own cell.
    fn start_sweep(&mut self, ctx: &mut Context) {
        self.search.radius = 0;
        self.ask_ring(ctx);
    }

    /// Asks every cell of the current ring (or of the next one that has
    /// cells) for its free drivers; waits and starts over once the ring has
    /// passed the edge of the map.
    fn ask_ring(&mut self, ctx: &mut Context) {
        let center = self.pickup_cell();
        if self.search.radius > self.params.grid.max_radius(center) {
            self.wait_and_retry(ctx);
            return;
        }
        let cells = self.params.grid.ring(center, self.search.radius);
        self.search.round += 1;
        self.search.awaiting = cells.len();
        self.search.candidates.clear();
        let round = self.search.round;
        for cell in cells {
            ctx.send(cell.address(), FindDrivers { round });
        }
    }

    /// Bids to the nearest candidate left, or widens the search.
    fn bid_or_widen(&mut self, ctx: &mut Context) {
        match self.search.candidates.pop() {
            Some((_, driver)) => {
                self.phase = RidePhase::Bidding(driver.clone());
                let bid = Bid {
                    ride: ctx.self_address().id().clone(),
                    pickup: self.pickup,
                    dropoff: self.dropoff,
                };
                ctx.send(Address::of::<Driver>(driver), bid);
            }
            None => {
                self.search.radius += 1;
                self.ask_ring(ctx);
            }
        }
    }

    /// No free driver anywhere: search again later, backing off.
    fn wait_and_retry(&mut self, ctx: &mut Context) {
        let shift = self.failed_sweeps.min(MAX_BACKOFF_SHIFT);
        self.failed_sweeps += 1;
        let delay = Duration::from_micros(self.params.retry_micros.max(1) << shift);
        let me = ctx.self_address().clone();
        ctx.send_after(delay, me, RetrySearch);
    }

    fn tell_passenger<M: cairn::Message>(&self, ctx: &mut Context, message: M) {
        if let Some(passenger) = &self.passenger {
            ctx.send(Address::of::<Passenger>(passenger.clone()), message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn backoff_is_bounded() {
        let params = Params::default();
        let longest = params.retry_micros << super::MAX_BACKOFF_SHIFT;
        assert!(longest <= 1_000_000, "{longest} µs");
    }
}
