//! The background worker (`concord worker`, or inside `concord serve` without Redis): drains
//! received webhook deliveries into the ledger, and runs periodic housekeeping. Stops cleanly
//! when its token is cancelled.

use std::time::Duration;

use chrono::Utc;
use concord_domain::events::InboundEvent;
use concord_storage::{Claimed, InboundOutcome, StorageError};
use rand::Rng;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// How often housekeeping runs.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);
/// How often the worker looks for deliveries when idle.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// Deliveries leased per pass.
const CLAIM_BATCH: u64 = 100;
/// How long a lease lasts before another worker may take the delivery over.
const LEASE_SECS: i64 = 60;
/// Attempts before a delivery becomes a dead letter.
const MAX_ATTEMPTS: i32 = 8;
/// Longest wait between attempts.
const MAX_BACKOFF_SECS: i64 = 3600;

/// Runs until `stop` is cancelled.
pub async fn run(state: AppState, stop: CancellationToken) -> anyhow::Result<()> {
    tracing::info!("worker started");
    let mut housekeeping_tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    let mut poll = tokio::time::interval(POLL_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = housekeeping_tick.tick() => housekeeping(&state).await,
            _ = poll.tick() => {
                // Keep draining while there is work; back to polling when idle.
                while process_inbound(&state).await > 0 && !stop.is_cancelled() {}
            }
        }
    }
    tracing::info!("worker stopped");
    Ok(())
}

/// The body of a `custom` delivery: Concord's normalized events.
#[derive(Deserialize)]
struct CustomDelivery {
    events: Vec<InboundEvent>,
}

/// One pass over due deliveries: applies each, then records processed, retry (with
/// exponential backoff and jitter) or dead letter. Returns how many it handled.
pub async fn process_inbound(state: &AppState) -> usize {
    let claimed = match state
        .store
        .claim_inbound(CLAIM_BATCH, chrono::Duration::seconds(LEASE_SECS))
        .await
    {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::warn!(error = %e, "cannot lease deliveries; retrying next pass");
            return 0;
        }
    };
    let handled = claimed.len();
    for delivery in claimed {
        let outcome = apply(state, &delivery).await;
        if let InboundOutcome::Dead { error } | InboundOutcome::Retry { error, .. } = &outcome {
            tracing::warn!(delivery = delivery.id, tenant_id = %delivery.scope.tenant_id(), %error, "delivery not applied");
        }
        if let Err(e) = state.store.settle_inbound(delivery.id, outcome).await {
            tracing::warn!(delivery = delivery.id, error = %e, "cannot record the outcome; the lease will expire and it will be retried");
        }
    }
    handled
}

async fn apply(state: &AppState, delivery: &Claimed) -> InboundOutcome {
    let parsed: CustomDelivery = match serde_json::from_str(&delivery.body) {
        Ok(parsed) => parsed,
        Err(e) => {
            return InboundOutcome::Dead {
                error: format!("not a batch of Concord events: {e}"),
            };
        }
    };
    let repos = state.store.scoped(&delivery.scope);
    match repos
        .apply_events(&delivery.connection_id, &parsed.events)
        .await
    {
        Ok(applied) => {
            state
                .live
                .applied(delivery.scope.tenant_id().as_str(), &applied)
                .await;
            InboundOutcome::Processed
        }
        // A refused event may be waiting on the catalog (or on a concurrent write): retry,
        // and keep it as a dead letter only when retries run out.
        Err(StorageError::Conflict(message)) if delivery.attempts + 1 >= MAX_ATTEMPTS => {
            InboundOutcome::Dead { error: message }
        }
        Err(StorageError::Conflict(message)) => InboundOutcome::Retry {
            error: message,
            at: Utc::now() + backoff(delivery.attempts),
        },
        Err(StorageError::NotFound) => InboundOutcome::Dead {
            error: "the connection no longer exists".into(),
        },
        Err(e) if delivery.attempts + 1 >= MAX_ATTEMPTS => InboundOutcome::Dead {
            error: e.to_string(),
        },
        Err(e) => InboundOutcome::Retry {
            error: e.to_string(),
            at: Utc::now() + backoff(delivery.attempts),
        },
    }
}

/// Exponential backoff (1 s, 2 s, 4 s … capped at an hour) with up to 25 % random jitter, so
/// retries from many deliveries do not arrive in step.
fn backoff(attempts: i32) -> chrono::Duration {
    let base = 1i64
        .checked_shl(attempts.clamp(0, 20) as u32)
        .unwrap_or(MAX_BACKOFF_SECS)
        .min(MAX_BACKOFF_SECS);
    let jitter_ms = rand::rng().random_range(0..=base * 250);
    chrono::Duration::seconds(base) + chrono::Duration::milliseconds(jitter_ms)
}

/// One housekeeping pass: removes expired sessions. Failures are logged and retried on the
/// next pass; they never stop the worker.
pub async fn housekeeping(state: &AppState) {
    match state.store.delete_expired_sessions(Utc::now()).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "expired sessions removed"),
        Err(e) => tracing::warn!(error = %e, "session cleanup failed; retrying next pass"),
    }
}

/// Cancels `stop` on SIGINT or SIGTERM.
pub async fn cancel_on_signal(stop: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    stop.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    stop.cancel();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_bounded_jitter_and_a_cap() {
        for (attempts, base) in [(0, 1), (1, 2), (3, 8), (11, 2048), (12, 3600), (40, 3600)] {
            let wait = backoff(attempts).num_milliseconds();
            assert!(
                (base * 1000..=base * 1250).contains(&wait),
                "attempt {attempts}: {wait} ms"
            );
        }
    }
}
