//! Stateful functions shared by Cairn's integration tests.
//!
//! # Layout
//! - `functions`: small functions whose handlers record what they saw, so
//!   tests can assert on activation, ordering, timers and replies.
//! - `checker`: an offline checker of a store's committed snapshots.

pub mod checker;
pub mod functions;
