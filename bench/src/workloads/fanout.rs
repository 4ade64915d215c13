//! Shared pieces of the `fanout` workload: the send schedule and the final check.

use anyhow::{ensure, Result};

use super::TURN;

/// Receivers a fanout driver spreads its messages over (not scaled).
pub(crate) const RECEIVERS: usize = 1_000;

/// Sends values `0..messages` round-robin to receivers `0..RECEIVERS`,
/// yielding to the executor after every [`TURN`] sends.
///
/// `send(receiver, value)` must be the framework's public fire-and-forget send.
pub(crate) async fn drive<F>(messages: u64, mut send: F) -> Result<()>
where
    F: FnMut(usize, u64) -> Result<()>,
{
    let mut receiver = 0;
    for value in 0..messages {
        send(receiver, value)?;
        receiver += 1;
        if receiver == RECEIVERS {
            receiver = 0;
        }
        if (value + 1) % TURN == 0 {
            tokio::task::yield_now().await;
        }
    }
    Ok(())
}

/// Fails loudly unless `total` is the (wrapping) sum of `0..messages`.
pub(crate) fn check_total(messages: u64, total: u64) -> Result<()> {
    let expected = (u128::from(messages) * u128::from(messages.saturating_sub(1)) / 2) as u64;
    ensure!(
        total == expected,
        "fanout total mismatch: receivers summed {total}, expected {expected}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_check_accepts_only_the_exact_sum() {
        assert!(check_total(10, 45).is_ok());
        assert!(check_total(10, 44).is_err());
        assert!(check_total(0, 0).is_ok());
    }
}
