//! The background worker (`concord worker`, or inside `concord serve` without Redis): drains
//! received webhook deliveries into the ledger, and runs periodic housekeeping. Stops cleanly
//! when its token is cancelled.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use chrono::Utc;
use concord_connectors::{Delivery, Normalized, Platform};
use concord_domain::events::InboundEvent;
use concord_storage::{Claimed, InboundOutcome, StorageError};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::{
    state::AppState,
    sync::{poll::poll_pass, push::push_pass, reconcile::scheduled_pass},
};

/// How often housekeeping runs.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);
/// How often the worker looks for deliveries and offers due when idle.
const WORK_EVERY: Duration = Duration::from_millis(50);
/// How often the reconcile schedule is checked.
const SCHEDULE_EVERY: Duration = Duration::from_secs(60);
/// Deliveries leased per pass.
const CLAIM_BATCH: u64 = 100;
/// How long a platform's stock figure waits for the sale deliveries that explain it.
const STOCK_SETTLE: chrono::Duration = chrono::Duration::seconds(2);
/// Attempts before a delivery becomes a dead letter.
const MAX_ATTEMPTS: i32 = 8;

/// Runs until `stop` is cancelled: deliveries and pushes as soon as they are due, order
/// polling and housekeeping on their schedules.
pub async fn run(state: AppState, stop: CancellationToken) -> anyhow::Result<()> {
    tracing::info!("worker started");
    let gate = state.gate.clone();
    let mut housekeeping_tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    let mut platform_poll = tokio::time::interval(Duration::from_secs(
        state.settings.poll_interval_secs.max(1),
    ));
    let reconciling = Arc::new(AtomicBool::new(false));
    let mut schedule = tokio::time::interval(SCHEDULE_EVERY);
    schedule.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut work = tokio::time::interval(WORK_EVERY);
    work.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = housekeeping_tick.tick() => housekeeping(&state).await,
            _ = platform_poll.tick() => {
                let applied = poll_pass(&state, &gate).await;
                if applied > 0 {
                    tracing::info!(applied, "order changes polled");
                }
            }
            _ = schedule.tick() => {
                // Reconciles run beside the deliveries and pushes, one pass at a time.
                if !reconciling.swap(true, Ordering::AcqRel) {
                    let (state, gate, reconciling) = (state.clone(), gate.clone(), reconciling.clone());
                    tokio::spawn(async move {
                        scheduled_pass(&state, &gate).await;
                        reconciling.store(false, Ordering::Release);
                    });
                }
            }
            _ = work.tick() => {
                // Keep draining while there is work; back to waiting when idle.
                while !stop.is_cancelled()
                    && process_inbound(&state).await + push_pass(&state, &gate).await > 0
                {}
            }
        }
    }
    tracing::info!("worker stopped");
    Ok(())
}

/// The body of a `standard-webhooks` delivery: Concord's own events.
#[derive(Deserialize)]
struct OwnEvents {
    events: Vec<InboundEvent>,
}

/// One pass over due deliveries: applies each, then records processed, retry (with
/// exponential backoff and jitter) or dead letter. Returns how many it handled.
pub async fn process_inbound(state: &AppState) -> usize {
    let lease = i64::try_from(state.settings.delivery_lease_secs).unwrap_or(i64::MAX);
    let claimed = match state
        .store
        .claim_inbound(CLAIM_BATCH, chrono::Duration::seconds(lease))
        .await
    {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::warn!(error = %e, "cannot lease deliveries; retrying next pass");
            return 0;
        }
    };
    let handled = claimed.len();
    let batch: Vec<i64> = claimed.iter().map(|d| d.id).collect();
    let mut read = Vec::with_capacity(handled);
    for delivery in claimed {
        let contents = read_delivery(state, &delivery).await;
        read.push((delivery, contents));
    }
    // A platform's stock figure is judged after the other deliveries of the batch, whatever
    // order they arrived in, so a sale that explains the figure is applied before it.
    read.sort_by_key(|(_, contents)| {
        matches!(contents, Ok(Contents::Platform { figures: true, .. }))
    });
    for (delivery, contents) in read {
        let outcome = match contents {
            Ok(contents) => apply(state, &delivery, contents, &batch).await,
            Err(outcome) => outcome,
        };
        if let InboundOutcome::Dead { error } | InboundOutcome::Retry { error, .. } = &outcome {
            tracing::warn!(delivery = delivery.id, tenant_id = %delivery.scope.tenant_id(), %error, "delivery not applied");
        }
        if let Err(e) = state.store.settle_inbound(delivery.id, outcome).await {
            tracing::warn!(delivery = delivery.id, error = %e, "cannot record the outcome; the lease will expire and it will be retried");
        }
    }
    handled
}

/// What a delivery carries.
enum Contents {
    /// Concord's own events (`standard-webhooks`), or none (an unverified hint).
    Own(Vec<InboundEvent>),
    /// A platform's payload, normalized by its connector.
    Platform {
        normalized: Vec<Normalized>,
        /// It holds stock figures.
        figures: bool,
    },
}

/// Applies a delivery of the leased `batch`.
async fn apply(
    state: &AppState,
    delivery: &Claimed,
    contents: Contents,
    batch: &[i64],
) -> InboundOutcome {
    let events = match events_of(state, delivery, contents, batch).await {
        Ok(events) => events,
        Err(outcome) => return outcome,
    };
    let repos = state.store.scoped(&delivery.scope);
    match repos.apply_events(&delivery.connection_id, &events).await {
        Ok(applied) => {
            state
                .live
                .applied(delivery.scope.tenant_id().as_str(), &applied)
                .await;
            InboundOutcome::Processed
        }
        // A refused event may be waiting on the catalog (or on a concurrent write): retry,
        // and keep it as a dead letter only when retries run out.
        Err(StorageError::NotFound) => InboundOutcome::Dead {
            error: "the connection no longer exists".into(),
        },
        Err(StorageError::Conflict(message)) => retry(delivery, message),
        Err(e) => retry(delivery, e.to_string()),
    }
}

/// Reads a delivery: Concord's own events for `standard-webhooks`, otherwise the platform's
/// payload normalized by its connector. An unverified delivery (from a platform that does
/// not sign) is never trusted: it carries nothing, and only what it names is fetched later
/// by polling and reconcile.
async fn read_delivery(state: &AppState, delivery: &Claimed) -> Result<Contents, InboundOutcome> {
    let dead = |error: String| InboundOutcome::Dead { error };
    let target = state
        .store
        .intake_target(&delivery.connection_id)
        .await
        .map_err(|e| match e {
            StorageError::NotFound => dead("the connection no longer exists".into()),
            other => retry(delivery, other.to_string()),
        })?;
    let platform: Platform = target
        .platform
        .parse()
        .map_err(|e: concord_connectors::UnknownPlatform| dead(e.to_string()))?;
    if platform == Platform::StandardWebhooks {
        return serde_json::from_str::<OwnEvents>(&delivery.body)
            .map(|own| Contents::Own(own.events))
            .map_err(|e| dead(format!("not a batch of Concord events: {e}")));
    }
    let headers: Vec<(String, String)> = delivery
        .headers
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| dead(format!("stored headers unreadable: {e}")))?
        .unwrap_or_default();
    let normalized = concord_connectors::parse(
        platform,
        &Delivery {
            body: delivery.body.as_bytes(),
            headers: &headers,
            url: None,
        },
    )
    .map_err(|e| dead(e.to_string()))?;
    if !delivery.verified {
        tracing::debug!(
            delivery = delivery.id,
            "unsigned {platform} delivery: only a hint, caught up by polling and reconcile"
        );
        return Ok(Contents::Own(Vec::new()));
    }
    let figures = normalized.iter().any(|n| n.inventory.is_some());
    Ok(Contents::Platform {
        normalized,
        figures,
    })
}

/// The domain events of a delivery's contents. A platform announces its new stock figure
/// and the sale that caused it in separate deliveries, in either order. A figure is judged
/// only once the sales delivered with it have had time to arrive, and every delivery that
/// arrived before it or in that time has been applied (a worker that died holding them
/// delays them by its lease), so it is not mistaken for a manual edit.
async fn events_of(
    state: &AppState,
    delivery: &Claimed,
    contents: Contents,
    batch: &[i64],
) -> Result<Vec<InboundEvent>, InboundOutcome> {
    let (normalized, figures) = match contents {
        Contents::Own(events) => return Ok(events),
        Contents::Platform {
            normalized,
            figures,
        } => (normalized, figures),
    };
    if figures {
        let settled_at = delivery.received_at + STOCK_SETTLE;
        if Utc::now() < settled_at {
            return Err(InboundOutcome::Defer { at: settled_at });
        }
        match state
            .store
            .deliveries_waiting_around(&delivery.connection_id, delivery.id, settled_at, batch)
            .await
        {
            Ok(0) => {}
            Ok(_) => {
                return Err(InboundOutcome::Defer {
                    at: Utc::now() + STOCK_SETTLE,
                });
            }
            Err(e) => return Err(retry(delivery, e.to_string())),
        }
    }
    crate::sync::to_events(
        state,
        &delivery.connection_id,
        &delivery.scope,
        normalized,
        &delivery.external_id,
    )
    .await
    .map_err(|why| retry(delivery, why))
}

/// A retry after backoff, or a dead letter once attempts run out.
fn retry(delivery: &Claimed, error: String) -> InboundOutcome {
    if delivery.attempts + 1 >= MAX_ATTEMPTS {
        InboundOutcome::Dead { error }
    } else {
        InboundOutcome::Retry {
            error,
            at: Utc::now()
                + chrono::Duration::from_std(crate::sync::backoff(delivery.attempts))
                    .unwrap_or(chrono::Duration::hours(1)),
        }
    }
}

/// One housekeeping pass: removes expired sessions, recomputes offers under rule and title
/// versions that took effect since the last pass, and runs each tenant's daily retention
/// purge when it is due. Failures are logged and retried on the next pass; they never stop
/// the worker.
pub async fn housekeeping(state: &AppState) {
    match state.store.delete_expired_sessions(Utc::now()).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "expired sessions removed"),
        Err(e) => tracing::warn!(error = %e, "session cleanup failed; retrying next pass"),
    }
    match state.store.refresh_offers_pass().await {
        Ok(0) => {}
        Ok(tenants) => tracing::info!(tenants, "offers recomputed under versions now in effect"),
        Err(e) => tracing::warn!(error = %e, "offer refresh failed; retrying next pass"),
    }
    match state.store.retention_pass().await {
        Ok(0) => {}
        Ok(tenants) => tracing::info!(tenants, "retention purge ran"),
        Err(e) => tracing::warn!(error = %e, "retention purge failed; retrying next pass"),
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
