//! Stateful functions shared by Cairn's integration tests.
//!
//! # Layout
//! - `functions`: small functions whose handlers record what they saw, so
//!   tests can assert on activation, ordering, timers and replies.

pub mod functions;
