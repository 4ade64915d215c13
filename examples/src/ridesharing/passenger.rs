//! The [`Passenger`] function: requests rides one after the other, pausing
//! a little between them.

use std::time::Duration;

use cairn::prelude::*;
use serde::{Deserialize, Serialize};

use super::geo::Position;
use super::messages::{
    CreateRide, DriverAssigned, GetPassenger, Params, PassengerStatus, PassengerView,
    RequestNextRide, RideCompleted, RideStarted, StartPassenger,
};
use super::ride::ride;
use crate::Rng;

/// A passenger, identified by a number.
#[stateful_function(name = "ridesharing/passenger")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Passenger {
    params: Params,
    status: PassengerStatus,
    position: Position,
    rng: Rng,
    /// The ride under way, if any.
    current: Option<ActorId>,
    requested: u32,
    completed: u32,
    remaining: u32,
}

/// The address of passenger `id`.
pub fn passenger(id: u64) -> Address {
    Address::of::<Passenger>(id)
}

#[handlers]
impl Passenger {
    fn start(&mut self, ctx: &mut Context, msg: StartPassenger) {
        self.params = msg.params;
        self.position = msg.position;
        self.rng = Rng::new(msg.seed);
        self.remaining += msg.rides;
        if self.current.is_none() {
            self.pause_then_request(ctx);
        }
    }

    fn request_next_ride(&mut self, ctx: &mut Context, _msg: RequestNextRide) {
        if self.current.is_some() || self.remaining == 0 {
            return;
        }
        let me = ctx.self_address().id().clone();
        let ride_id = ActorId::from(format!("{me}-{}", self.requested));
        self.requested += 1;
        self.remaining -= 1;
        self.status = PassengerStatus::Waiting;
        self.current = Some(ride_id.clone());
        let mut dropoff = self.params.grid.random_position(&mut self.rng);
        if dropoff == self.position {
            dropoff = self.params.grid.clamp(Position {
                x: dropoff.x + 1,
                y: dropoff.y,
            });
        }
        let request = CreateRide {
            params: self.params,
            passenger: me,
            pickup: self.position,
            dropoff,
        };
        ctx.send(ride(ride_id), request);
    }

    fn driver_assigned(&mut self, _ctx: &mut Context, msg: DriverAssigned) {
        if self.current.as_ref() == Some(&msg.ride) {
            self.status = PassengerStatus::Assigned;
        }
    }

    fn ride_started(&mut self, _ctx: &mut Context, msg: RideStarted) {
        if self.current.as_ref() == Some(&msg.ride) {
            self.status = PassengerStatus::Riding;
        }
    }

    fn ride_completed(&mut self, ctx: &mut Context, msg: RideCompleted) {
        if self.current.as_ref() != Some(&msg.ride) {
            return;
        }
        self.current = None;
        self.completed += 1;
        self.position = msg.dropoff;
        self.status = PassengerStatus::Idle;
        self.pause_then_request(ctx);
    }

    fn view(&self, ctx: &mut Context, _msg: GetPassenger) {
        ctx.reply(PassengerView {
            status: self.status,
            requested: self.requested,
            completed: self.completed,
            remaining: self.remaining,
        });
    }
}

impl Passenger {
    /// Requests the next ride, if any is left, after a random pause.
    fn pause_then_request(&mut self, ctx: &mut Context) {
        if self.remaining == 0 {
            return;
        }
        let pause = Duration::from_micros(self.rng.below(self.params.think_micros + 1));
        let me = ctx.self_address().clone();
        ctx.send_after(pause, me, RequestNextRide);
    }
}
