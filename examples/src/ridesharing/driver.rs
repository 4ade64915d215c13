//! The [`Driver`] function: a car that roams while free, takes one ride at a
//! time, and keeps the geo index told where it is.

use cairn::prelude::*;
use cairn::TimerId;
use serde::{Deserialize, Serialize};

use super::geo::{Cell, Position};
use super::messages::{
    ArrivedAtDropoff, ArrivedAtPickup, Bid, BidAccepted, BidDeclined, DriverAt, DriverLeft,
    DriverStatus, DriverView, DroppedOff, GetDriver, JoinFleet, Params, PickedUp, Roam,
};
use super::ride::ride;
use crate::Rng;

/// A driver, identified by a number.
#[stateful_function(name = "ridesharing/driver")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Driver {
    params: Params,
    status: DriverStatus,
    position: Position,
    /// The cell the driver last reported itself to.
    cell: Option<Cell>,
    /// The ride it is booked for or riding, with its pickup and drop-off.
    job: Option<Job>,
    rng: Rng,
    /// The pending roaming timer, and its generation: a `Roam` whose
    /// generation is not the current one fired too late and is ignored.
    roam_timer: Option<TimerId>,
    roam_generation: u64,
    rides_completed: u64,
    bids_declined: u64,
}

/// The ride a driver has accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    ride: ActorId,
    pickup: Position,
    dropoff: Position,
}

/// The address of driver `id`.
pub fn driver(id: u64) -> Address {
    Address::of::<Driver>(id)
}

#[handlers]
impl Driver {
    fn join(&mut self, ctx: &mut Context, msg: JoinFleet) {
        if self.status != DriverStatus::Offline {
            return;
        }
        self.params = msg.params;
        self.rng = Rng::new(msg.seed);
        self.status = DriverStatus::Free;
        self.move_to(ctx, msg.position);
        self.schedule_roam(ctx);
    }

    fn roam(&mut self, ctx: &mut Context, msg: Roam) {
        if msg.generation != self.roam_generation || self.status != DriverStatus::Free {
            return;
        }
        self.roam_timer = None;
        let step = i64::from((self.params.grid.cell_size / 2).max(1));
        let next = Position {
            x: self.position.x + self.rng.between(-step, step),
            y: self.position.y + self.rng.between(-step, step),
        };
        let next = self.params.grid.clamp(next);
        self.move_to(ctx, next);
        self.schedule_roam(ctx);
    }

    fn bid(&mut self, ctx: &mut Context, msg: Bid) {
        let me = ctx.self_address().id().clone();
        if self.status != DriverStatus::Free {
            self.bids_declined += 1;
            ctx.reply(BidDeclined { driver: me });
            return;
        }
        self.stop_roaming(ctx);
        self.status = DriverStatus::Booked;
        self.report(ctx);
        ctx.reply(BidAccepted { driver: me });
        let to_pickup = self.params.travel_time(self.position.distance(msg.pickup));
        ctx.send_after(to_pickup, ctx.self_address().clone(), ArrivedAtPickup);
        self.job = Some(Job {
            ride: msg.ride,
            pickup: msg.pickup,
            dropoff: msg.dropoff,
        });
    }

    fn arrived_at_pickup(&mut self, ctx: &mut Context, _msg: ArrivedAtPickup) {
        let Some(job) = self.job.clone() else { return };
        if self.status != DriverStatus::Booked {
            return;
        }
        self.status = DriverStatus::Riding;
        self.move_to(ctx, job.pickup);
        let me = ctx.self_address().id().clone();
        ctx.send(ride(job.ride.clone()), PickedUp { driver: me });
        let to_dropoff = self.params.travel_time(job.pickup.distance(job.dropoff));
        ctx.send_after(to_dropoff, ctx.self_address().clone(), ArrivedAtDropoff);
    }

    fn arrived_at_dropoff(&mut self, ctx: &mut Context, _msg: ArrivedAtDropoff) {
        if self.status != DriverStatus::Riding {
            return;
        }
        let Some(job) = self.job.take() else { return };
        self.status = DriverStatus::Free;
        self.rides_completed += 1;
        self.move_to(ctx, job.dropoff);
        let me = ctx.self_address().id().clone();
        ctx.send(ride(job.ride), DroppedOff { driver: me });
        self.schedule_roam(ctx);
    }

    fn view(&self, ctx: &mut Context, _msg: GetDriver) {
        ctx.reply(DriverView {
            status: self.status,
            position: self.position,
            rides_completed: self.rides_completed,
            bids_declined: self.bids_declined,
        });
    }
}

impl Driver {
    /// Moves to `position`, leaving the old cell if it is another one, and
    /// reports the position and status to the cell it is now in.
    fn move_to(&mut self, ctx: &mut Context, position: Position) {
        let cell = self.params.grid.cell_of(position);
        if let Some(old) = self.cell.filter(|old| *old != cell) {
            let driver = ctx.self_address().id().clone();
            ctx.send(old.address(), DriverLeft { driver });
        }
        self.position = position;
        self.cell = Some(cell);
        self.report(ctx);
    }

    /// Tells the driver's cell where it is and whether it is free.
    fn report(&self, ctx: &mut Context) {
        let Some(cell) = self.cell else { return };
        let update = DriverAt {
            driver: ctx.self_address().id().clone(),
            position: self.position,
            free: self.status == DriverStatus::Free,
        };
        ctx.send(cell.address(), update);
    }

    fn schedule_roam(&mut self, ctx: &mut Context) {
        if self.params.roam_micros == 0 {
            return;
        }
        self.roam_generation += 1;
        let delay = std::time::Duration::from_micros(self.params.roam_micros);
        let roam = Roam {
            generation: self.roam_generation,
        };
        let me = ctx.self_address().clone();
        self.roam_timer = Some(ctx.send_after(delay, me, roam));
    }

    fn stop_roaming(&mut self, ctx: &mut Context) {
        self.roam_generation += 1;
        if let Some(timer) = self.roam_timer.take() {
            ctx.cancel_timer(timer);
        }
    }
}
