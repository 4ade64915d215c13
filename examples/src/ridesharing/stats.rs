//! The [`Stats`] function: the run's counters, which the simulator reads to
//! follow progress.

use cairn::prelude::*;
use serde::{Deserialize, Serialize};

use super::messages::{GetStats, StatsEvent, StatsView};

/// The counters of a run. One actor, `"global"`, counts everything: a few
/// messages per ride is little next to the ride's own traffic.
#[stateful_function(name = "ridesharing/stats")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    counters: StatsView,
}

/// The address of the run's stats.
pub fn stats() -> Address {
    Address::of::<Stats>("global")
}

#[handlers]
impl Stats {
    fn record(&mut self, _ctx: &mut Context, msg: StatsEvent) {
        match msg {
            StatsEvent::Requested => self.counters.requested += 1,
            StatsEvent::Matched => self.counters.matched += 1,
            StatsEvent::Completed { declined_bids } => {
                self.counters.completed += 1;
                self.counters.declined_bids += u64::from(declined_bids);
            }
        }
    }

    fn view(&self, ctx: &mut Context, _msg: GetStats) {
        ctx.reply(self.counters);
    }
}
