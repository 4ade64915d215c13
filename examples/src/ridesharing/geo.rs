//! Positions, the grid of cells, and the geo index: one [`GeoCell`] actor
//! per cell, knowing the drivers inside it.

use std::collections::BTreeMap;

use cairn::prelude::*;
use serde::{Deserialize, Serialize};

use super::messages::{DriverAt, DriverLeft, FindDrivers, GetCell, NearbyDriver, NearbyDrivers};
use crate::Rng;

/// A point of the map, in distance units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// West to east.
    pub x: i64,
    /// South to north.
    pub y: i64,
}

impl Position {
    /// The Manhattan distance to `other`: drivers follow streets.
    pub fn distance(self, other: Position) -> u64 {
        self.x.abs_diff(other.x) + self.y.abs_diff(other.y)
    }
}

/// One cell of the grid, by column and row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cell {
    /// The column, from 0.
    pub x: u32,
    /// The row, from 0.
    pub y: u32,
}

impl Cell {
    /// The address of this cell's [`GeoCell`] actor.
    pub fn address(self) -> Address {
        Address::of::<GeoCell>(format!("{}:{}", self.x, self.y))
    }
}

/// The map: a square of `side × side` cells, each `cell_size` units wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grid {
    /// Cells per side.
    pub side: u32,
    /// The width of a cell, in distance units.
    pub cell_size: u32,
}

impl Default for Grid {
    fn default() -> Self {
        Self {
            side: 8,
            cell_size: 10,
        }
    }
}

impl Grid {
    /// The width of the map, in distance units.
    pub fn extent(&self) -> i64 {
        i64::from(self.side.max(1)) * i64::from(self.cell_size.max(1))
    }

    /// The nearest position on the map.
    pub fn clamp(&self, position: Position) -> Position {
        let max = self.extent() - 1;
        Position {
            x: position.x.clamp(0, max),
            y: position.y.clamp(0, max),
        }
    }

    /// The cell holding `position` (clamped onto the map).
    pub fn cell_of(&self, position: Position) -> Cell {
        let position = self.clamp(position);
        let size = i64::from(self.cell_size.max(1));
        Cell {
            x: (position.x / size) as u32,
            y: (position.y / size) as u32,
        }
    }

    /// A uniformly random position on the map.
    pub fn random_position(&self, rng: &mut Rng) -> Position {
        let extent = self.extent() as u64;
        Position {
            x: rng.below(extent) as i64,
            y: rng.below(extent) as i64,
        }
    }

    /// The cells at exactly `radius` cells (Chebyshev distance) from
    /// `center`, that is the ring of cells a search widened to `radius` adds.
    /// Empty once the ring lies wholly off the map.
    pub fn ring(&self, center: Cell, radius: u32) -> Vec<Cell> {
        let (cx, cy, r, side) = (
            i64::from(center.x),
            i64::from(center.y),
            i64::from(radius),
            i64::from(self.side.max(1)),
        );
        let on_map = |x: i64, y: i64| (0..side).contains(&x) && (0..side).contains(&y);
        let mut cells = Vec::new();
        for y in cy - r..=cy + r {
            for x in cx - r..=cx + r {
                let on_ring = (x - cx).abs() == r || (y - cy).abs() == r;
                if on_ring && on_map(x, y) {
                    cells.push(Cell {
                        x: x as u32,
                        y: y as u32,
                    });
                }
            }
        }
        cells
    }

    /// The largest radius whose ring around `center` still has cells: a
    /// search widened this far has covered the whole map.
    pub fn max_radius(&self, center: Cell) -> u32 {
        let last = self.side.max(1) - 1;
        center
            .x
            .max(last - center.x)
            .max(center.y)
            .max(last - center.y)
    }
}

/// One cell of the geo index: the drivers whose last reported position is in
/// the cell, and whether each is free.
///
/// Its view can be stale (a driver booked a moment ago may still look free);
/// the driver has the last word when a ride bids to it.
#[stateful_function(name = "ridesharing/geo-cell")]
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct GeoCell {
    drivers: BTreeMap<ActorId, CellEntry>,
}

/// What a cell knows of one driver.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct CellEntry {
    position: Position,
    free: bool,
}

#[handlers]
impl GeoCell {
    fn driver_at(&mut self, _ctx: &mut Context, msg: DriverAt) {
        let entry = CellEntry {
            position: msg.position,
            free: msg.free,
        };
        self.drivers.insert(msg.driver, entry);
    }

    fn driver_left(&mut self, _ctx: &mut Context, msg: DriverLeft) {
        self.drivers.remove(&msg.driver);
    }

    fn find_drivers(&self, ctx: &mut Context, msg: FindDrivers) {
        let drivers = self
            .drivers
            .iter()
            .filter(|(_, entry)| entry.free)
            .map(|(driver, entry)| NearbyDriver {
                driver: driver.clone(),
                position: entry.position,
            })
            .collect();
        ctx.reply(NearbyDrivers {
            round: msg.round,
            drivers,
        });
    }

    fn cell(&self, ctx: &mut Context, _msg: GetCell) {
        ctx.reply(self.drivers.keys().cloned().collect::<Vec<ActorId>>());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_cover_the_map_exactly_once() {
        let grid = Grid {
            side: 5,
            cell_size: 3,
        };
        for center in [
            Cell { x: 0, y: 0 },
            Cell { x: 2, y: 3 },
            Cell { x: 4, y: 1 },
        ] {
            let mut seen: Vec<Cell> = (0..=grid.max_radius(center))
                .flat_map(|radius| grid.ring(center, radius))
                .collect();
            assert!(!grid.ring(center, grid.max_radius(center)).is_empty());
            assert!(grid.ring(center, grid.max_radius(center) + 1).is_empty());
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), 25, "center {center:?}");
        }
    }

    #[test]
    fn positions_map_to_cells() {
        let grid = Grid::default();
        assert_eq!(grid.cell_of(Position { x: 0, y: 0 }), Cell { x: 0, y: 0 });
        assert_eq!(grid.cell_of(Position { x: 19, y: 79 }), Cell { x: 1, y: 7 });
        assert_eq!(
            grid.cell_of(Position { x: -5, y: 500 }),
            Cell { x: 0, y: 7 }
        );
    }
}
