//! Gates that hold a handler — and with it its whole shard — until the test
//! opens them. A held shard cannot take its part of a snapshot, so a test
//! can keep an epoch open for exactly as long as it needs, without relying
//! on timing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

/// Tells a [`Responder`](crate::functions::Responder) to wait at gate `.0`
/// until the gate opens.
#[derive(Debug, Serialize, Deserialize)]
pub struct Hold(pub u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Held,
    Open,
}

/// Every gate of the process, by id; a missing id is an open gate.
static GATES: Mutex<BTreeMap<u64, State>> = Mutex::new(BTreeMap::new());
static CHANGED: Condvar = Condvar::new();

/// A gate, closed when made; opened by [`Gate::open`] or when dropped, so a
/// failing test never leaves a shard held.
#[derive(Debug)]
pub struct Gate {
    id: u64,
}

impl Gate {
    /// A new closed gate.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        lock().insert(id, State::Closed);
        Self { id }
    }

    /// The message that makes a responder wait at this gate.
    pub fn hold(&self) -> Hold {
        Hold(self.id)
    }

    /// Waits until a handler is waiting at this gate (or it was opened).
    pub async fn held(&self) {
        let id = self.id;
        tokio::task::spawn_blocking(move || {
            let mut gates = lock();
            while gates.get(&id) == Some(&State::Closed) {
                gates = CHANGED.wait(gates).unwrap_or_else(PoisonError::into_inner);
            }
        })
        .await
        .expect("waiting for a gate");
    }

    /// Lets the handler waiting here (and any later one) through.
    pub fn open(&self) {
        lock().insert(self.id, State::Open);
        CHANGED.notify_all();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        lock().remove(&self.id);
        CHANGED.notify_all();
    }
}

/// Called by the handler: waits at gate `id` until it opens. On a
/// multi-thread runtime the worker hands its other tasks to another thread
/// first, so that nothing queued behind the held shard waits with it.
pub(crate) fn pass(id: u64) {
    let wait = || {
        let mut gates = lock();
        if let Some(state) = gates.get_mut(&id) {
            if *state == State::Closed {
                *state = State::Held;
                CHANGED.notify_all();
            }
        }
        while matches!(gates.get(&id), Some(State::Held | State::Closed)) {
            gates = CHANGED.wait(gates).unwrap_or_else(PoisonError::into_inner);
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(wait)
        }
        _ => wait(),
    }
}

fn lock() -> std::sync::MutexGuard<'static, BTreeMap<u64, State>> {
    // A panicking test thread must not wedge every other test's gates.
    GATES.lock().unwrap_or_else(PoisonError::into_inner)
}
